"""How long a learner waits, measured in a real browser (Debian's chromium, driven by Playwright):
from the click to the page settled — the script finished, every chart drawn, every image loaded.

    python bench/browser_waits.py            # every row below
    python bench/browser_waits.py load dcgan-seed

Rows (issue 27's waiting table; the goal beside each):

    load <page>          Load pretrained on a fresh server, until the page settles     ≤ 5 s
    dcgan-nearest        DCGAN Inside → Nearest training images                       ≤ 3 s
    cnn-map              CNN Inside → Where the classes live (t-SNE maps)              ≤ 3 s
    dcgan-seed           DCGAN "Seed of the noise z" + → a new grid (median of 8)      ≤ 0.15 s
    infogan-slider       infoGAN continuous-code slider → new images (median of 8)     ≤ 0.15 s

The server is started here on a free port with the app's own runs folder (so the cache that
``python -m core.cli prepare`` / ``make run`` fills is used, as a user's would be). Each *load*
row opens its page in a new server process, so imports and first-time work are counted.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
LOAD_PAGES = tuple(os.environ.get("LOAD_PAGES", "biggan stylegan pix2pix sagan dcgan cnn").split())
GOALS = {"load": 5.0, "dcgan-nearest": 3.0, "cnn-map": 3.0, "dcgan-seed": 0.15,
         "infogan-slider": 0.15}
SETTLED = """() => !document.querySelector("[data-testid='stStatusWidget']")
    && [...document.querySelectorAll("[data-testid='stPlotlyChart']")]
           .every(chart => chart.querySelector(".main-svg"))
    && [...document.querySelectorAll("img")].every(image => image.complete)"""
IMAGES = """() => [...document.querySelectorAll("[data-testid='stImage'] img")].map(i => i.src)"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self):
        self.port = free_port()
        env = {**os.environ, "DLSTUDIO_OFFLINE": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1)
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the app did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def settle(page, timeout_s: float = 300.0) -> None:
    """Until Streamlit has stopped running the script and the page has drawn (a first wait of
    0.05 s lets a click's rerun begin)."""
    page.wait_for_timeout(50)
    page.wait_for_function(SETTLED, timeout=timeout_s * 1000, polling=20)


def opened(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector("h1", timeout=300_000)
    settle(page)
    return page


def click_and_time(page, action, done=None, timeout_s: float = 300.0) -> float:
    """Seconds from ``action()`` until ``done(page)`` (when given) and the page has settled."""
    started = time.perf_counter()
    action()
    if done is not None:
        done(page)
    settle(page, timeout_s)
    return time.perf_counter() - started


def load_pretrained(browser, name: str) -> float:
    server = Server()
    try:
        page = opened(browser, f"{server.url}/{name}")
        return click_and_time(page, lambda: page.get_by_role(
            "button", name="Load pretrained", exact=True).click(), more_images)
    finally:
        server.stop()


def more_images(page, timeout_s: float = 300.0) -> None:
    """Until the loaded model's pictures appear (the page had none before Load pretrained)."""
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='stImage'] img\").length > 0",
        timeout=timeout_s * 1000, polling=20)


def with_loaded(browser, server, name: str):
    page = opened(browser, f"{server.url}/{name}")
    page.get_by_role("button", name="Load pretrained", exact=True).click()
    more_images(page)
    settle(page)
    return page


def images_change(page, before: list[str], timeout_s: float = 60.0) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if page.evaluate(IMAGES) != before:
            return
        page.wait_for_timeout(10)
    raise TimeoutError("no image changed")


def repeated(page, action, count: int = 8) -> float:
    times = []
    for _ in range(count):
        before = page.evaluate(IMAGES)
        times.append(click_and_time(page, action, lambda p, seen=before: images_change(p, seen)))
    return statistics.median(times)


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright
    rows = argv or ["load", "dcgan-nearest", "cnn-map", "dcgan-seed", "infogan-slider"]
    found: list[tuple[str, float, float]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        if "load" in rows:
            for name in LOAD_PAGES:
                found.append((f"{name}: Load pretrained (fresh server)",
                              load_pretrained(browser, name), GOALS["load"]))
                print(f"{found[-1][0]}: {found[-1][1]:.2f} s", flush=True)
        server = Server()
        try:
            if "dcgan-nearest" in rows or "dcgan-seed" in rows:
                page = with_loaded(browser, server, "dcgan")
                if "dcgan-seed" in rows:
                    seed = page.locator("[data-testid='stNumberInput']").filter(
                        has_text="Seed of the noise z").first
                    step_up = seed.locator("button").last
                    found.append(("DCGAN seed + → new grid (median of 8)",
                                  repeated(page, step_up.click), GOALS["dcgan-seed"]))
                    print(f"{found[-1][0]}: {found[-1][1]:.3f} s", flush=True)
                if "dcgan-nearest" in rows:
                    found.append(("DCGAN Inside → nearest training images", click_and_time(
                        page, lambda: page.get_by_text("Nearest training images").first.click(),
                        lambda p: p.get_by_text("nearest training image").last.wait_for(
                            timeout=300_000)), GOALS["dcgan-nearest"]))
                    print(f"{found[-1][0]}: {found[-1][1]:.2f} s", flush=True)
                page.close()
            if "cnn-map" in rows:
                page = with_loaded(browser, server, "cnn")
                found.append(("CNN Inside → t-SNE class maps", click_and_time(
                    page, lambda: page.get_by_text("Where the classes live").first.click(),
                    lambda p: p.get_by_text("nearest neighbours on the map").wait_for(
                        timeout=300_000)), GOALS["cnn-map"]))
                print(f"{found[-1][0]}: {found[-1][1]:.2f} s", flush=True)
                page.close()
            if "infogan-slider" in rows:
                page = with_loaded(browser, server, "infogan")
                thumb = page.locator("[data-testid='stSlider'] [role='slider']").first
                thumb.scroll_into_view_if_needed()

                def nudge():
                    thumb.focus()
                    page.keyboard.press("ArrowRight")
                found.append(("infoGAN code slider → new images (median of 8)",
                              repeated(page, nudge), GOALS["infogan-slider"]))
                print(f"{found[-1][0]}: {found[-1][1]:.3f} s", flush=True)
                page.close()
        finally:
            server.stop()
        browser.close()
    print("\n| action (this machine) | seconds | goal | met |\n|---|---|---|---|")
    for label, seconds, goal in found:
        print(f"| {label} | {seconds:.2f} | ≤ {goal:g} | {'yes' if seconds <= goal else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
