"""Load on a hosted demo: many visitors browsing and moving sliders while jobs train.

    python bench/load.py                    # 8 visitors, 2 training jobs, demo mode on, 3 rounds
    python bench/load.py --sessions 4 --rounds 1 --synthetic

Serves `streamlit run app.py` on loopback (demo mode on unless --no-demo) and drives it with
Debian's chromium through Playwright: one browser context per visitor (its own Streamlit
session), all at once. Two visitors first start a training job on the CNN page; then every
visitor visits each page in turn and moves a slider on it (keyboard on the slider thumb). A
"render" is one run of the page script on the server (app.py logs its duration when
DLSTUDIO_RENDER_LOG is set): what a page view or a widget change costs the shared box. The
browser-side time of each page visit (navigation until the page's title shows and Streamlit is
idle) is printed too. Then every visitor opens the Runs page: it must list no run of another
visitor. Bounded: it stops by itself after the rounds (and a hard timeout).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PAGES = ["", "softmax", "cnn", "gan", "dcgan", "language-model", "infogan", "runs"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def idle(page, timeout: float = 120.0) -> None:
    """Until the page has a title and Streamlit shows no "running" status."""
    await page.wait_for_selector("h1", timeout=timeout * 1000)
    deadline = time.time() + timeout
    await asyncio.sleep(0.3)
    while time.time() < deadline:
        if await page.locator("[data-testid='stStatusWidget']").count() == 0:
            return
        await asyncio.sleep(0.1)


async def visitor(browser, url: str, index: int, rounds: int, train: bool, visits: list,
                  problems: list, owners: dict) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 1600})
    page = await context.new_page()
    try:
        if train:
            await page.goto(f"{url}/cnn")
            await idle(page)
            await page.get_by_role("button", name="Train", exact=True).click()
            await page.get_by_text(re.compile(r"steps/s|Finished at step|Waiting for a free")) \
                .first.wait_for(timeout=120_000)
        for _ in range(rounds):
            for path in PAGES:
                begun = time.perf_counter()
                await page.goto(f"{url}/{path}")
                await idle(page)
                visits.append(time.perf_counter() - begun)
                if await page.locator("[data-testid='stException']").count():
                    problems.append((index, path, "exception box"))
                thumbs = page.locator("[data-testid='stSlider']").get_by_role("slider")
                if await thumbs.count():
                    await thumbs.first.focus()
                    await page.keyboard.press("ArrowRight")
                    await idle(page)
        await page.goto(f"{url}/runs")
        await idle(page)
        owners[index] = await page.locator("[data-testid='stDataFrame']").count()
    except Exception as error:  # a failing visitor is a finding, not a hang
        problems.append((index, "visitor", repr(error)[:300]))
    finally:
        await context.close()


async def drive(url: str, sessions: int, jobs: int, rounds: int, visits, problems, owners):
    from playwright.async_api import async_playwright
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        await asyncio.gather(*(visitor(browser, url, i, rounds, i < jobs, visits, problems, owners)
                               for i in range(sessions)))
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2, help="visitors that start a training job")
    parser.add_argument("--rounds", type=int, default=3, help="visits of every page per visitor")
    parser.add_argument("--synthetic", action="store_true", help="tiny generated data")
    parser.add_argument("--no-demo", action="store_true", help="demo mode off")
    parser.add_argument("--timeout", type=float, default=1800, help="hard limit, seconds")
    parser.add_argument("--browser-nice", type=int, default=0, metavar="N",
                        help="run the browsers at this lower priority (19: as if the visitors' "
                        "browsers ran on their own machines, leaving this box's cores to the "
                        "server and its jobs); the server and its jobs keep theirs")
    arguments = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dlstudio-load-"))
    log = work / "renders.csv"
    env = {**os.environ, "DLSTUDIO_RUNS_DIR": str(work / "runs"), "DLSTUDIO_RENDER_LOG": str(log)}
    if arguments.synthetic:
        env["DLSTUDIO_DATASET"] = "synthetic"
    if not arguments.no_demo:
        env.update(DLSTUDIO_DEMO="1", DLSTUDIO_DEMO_MAX_JOBS=str(max(1, arguments.jobs)),
                   DLSTUDIO_DEMO_MAX_SECONDS=env.get("DLSTUDIO_DEMO_MAX_SECONDS", "600"))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=open(work / "server.log", "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        if arguments.browser_nice:
            os.nice(arguments.browser_nice)   # this process and the browsers it starts
        # A hosted demo is warm: one visit of every page first (imports, caches), not timed.
        asyncio.run(drive(url, 1, 0, 1, [], [], {}))
        warm_lines = len(log.read_text().splitlines()) if log.exists() else 0
        visits, problems, owners = [], [], {}
        begun = time.perf_counter()
        asyncio.run(asyncio.wait_for(drive(url, arguments.sessions, arguments.jobs,
                                           arguments.rounds, visits, problems, owners),
                                     arguments.timeout))
        wall = time.perf_counter() - begun
    finally:
        server.terminate()
        server.wait(20)
    rows = [line.split(",") for line in log.read_text().splitlines()[warm_lines:]] \
        if log.exists() else []
    renders = [float(row[2]) for row in rows] or [0.0]
    by_page: dict[str, list[float]] = {}
    for row in rows:
        by_page.setdefault(row[1], []).append(float(row[2]))
    sys.path.insert(0, str(ROOT))
    os.environ["DLSTUDIO_RUNS_DIR"] = str(work / "runs")
    from core import runs
    started = runs.list_runs()
    # The Runs page of a visitor who started nothing must list no run at all: count tables.
    leaks = sum(count for index, count in owners.items() if index >= arguments.jobs)
    print(f"visitors={arguments.sessions} training_jobs={len(started)} "
          f"demo={'off' if arguments.no_demo else 'on'} rounds={arguments.rounds} wall={wall:.0f}s "
          f"browser_nice={arguments.browser_nice} job_nice="
          f"{os.environ.get('DLSTUDIO_JOB_NICE', 'default')}")
    print(f"server render (one page-script run), n={len(renders)}: "
          f"p50={statistics.median(renders):.3f}s p95={percentile(renders, 0.95):.3f}s "
          f"max={max(renders):.3f}s  (goal p95 < 0.5 s)")
    print("per page p50/max: " + ", ".join(
        f"{name} {statistics.median(values):.2f}/{max(values):.2f}s"
        for name, values in sorted(by_page.items())))
    if visits:
        print(f"browser page visit (navigation until idle), n={len(visits)}: "
              f"p50={statistics.median(visits):.2f}s p95={percentile(visits, 0.95):.2f}s "
              "(goal < 1.5 s / < 3 s)")
    language = by_page.get("language-model", [0.0])
    print(f"language-model page render p50={statistics.median(language):.3f}s "
          f"p95={percentile(language, 0.95):.3f}s (goal p50 < 0.3 s)")
    print("runs: " + ", ".join(f"{r.info['model']} {r.status.get('status')} step "
                               f"{r.status.get('step')} ({r.status.get('ran_on', 'the server')})"
                               for r in started))
    print(f"visitors whose Runs page listed another visitor's runs: {leaks}")
    print(f"problems={len(problems)} {problems[:3]}")
    sys.exit(1 if problems or leaks else 0)


if __name__ == "__main__":
    main()
