"""A real browser: `streamlit run app.py` on loopback, Debian's chromium driven by Playwright.

Screenshots of every page land in artifacts/screenshots/ for a person to look at.
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "screenshots"
PAGES = {"home": "", "softmax": "softmax", "mlp": "mlp", "cnn": "cnn", "resnet": "resnet",
         "gan": "gan", "dcgan": "dcgan", "runs": "runs"}

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed (make browser)")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "DLSTUDIO_DATASET": "synthetic",
           "DLSTUDIO_RUNS_DIR": str(tmp_path_factory.mktemp("runs"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("streamlit did not start: " + process.stdout.read().decode()[-2000:])
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        # Streamlit scrolls inside its own container: a tall viewport shows the whole page.
        tab = browser.new_page(viewport={"width": 1400, "height": 2400})
        yield tab
        browser.close()


def wait_rendered(tab, timeout: float = 30.0) -> None:
    """Until the title is drawn and Streamlit reports it is no longer running the script."""
    tab.wait_for_selector("h1", timeout=timeout * 1000)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if tab.locator("[data-testid='stStatusWidget']").count() == 0:
            return
        time.sleep(0.2)


def test_a_deep_link_on_a_fresh_server_goes_through_the_router(server, page):
    """The first request of a new server is a deep link: app.py's st.navigation must still run
    (a folder named pages/ would make Streamlit serve the file directly, without the router)."""
    page.goto(f"{server}/resnet")
    wait_rendered(page)
    sidebar = page.locator("[data-testid='stSidebarNav']")
    sidebar.get_by_text("Classifiers").wait_for(timeout=30_000)
    assert "Softmax regression" in sidebar.inner_text()


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_opens_without_an_exception_box(server, page, name):
    page.goto(f"{server}/{PAGES[name]}")
    wait_rendered(page)
    time.sleep(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("h1").first.inner_text().strip()


def test_training_draws_charts_and_results(server, page):
    page.goto(f"{server}/cnn")
    wait_rendered(page)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Finished at step").wait_for(timeout=60_000)
    page.get_by_text("Misclassified test images").wait_for(timeout=30_000)
    page.locator("[data-testid='stImage'] img").first.wait_for(timeout=30_000)
    time.sleep(1)
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 4
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(SHOTS / "cnn-trained.png"), full_page=True)


def test_a_gan_trains_and_shows_the_monitor_and_samples(server, page):
    page.goto(f"{server}/dcgan")
    wait_rendered(page)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Health monitor").first.wait_for(timeout=60_000)
    page.get_by_text("Explore the latent space").wait_for(timeout=120_000)
    page.locator("[data-testid='stImage'] img").first.wait_for(timeout=30_000)
    time.sleep(1)
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 5
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(SHOTS / "dcgan-trained.png"), full_page=True)


def test_a_junk_upload_is_refused_with_a_message(server, page, tmp_path):
    junk = tmp_path / "weights.pt"
    junk.write_bytes(b"definitely not a checkpoint")
    page.goto(f"{server}/mlp")
    wait_rendered(page)
    page.locator("input[type='file']").set_input_files(str(junk))
    page.get_by_text("Checkpoint refused").wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
