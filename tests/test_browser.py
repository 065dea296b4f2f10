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
from ui.navigation import ALL

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "screenshots"
PAGES = {entry.url_path or "home": entry.url_path for entry in ALL}

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


SETTLED = """() => !document.querySelector("[data-testid='stStatusWidget']")
    && [...document.querySelectorAll("[data-testid='stPlotlyChart']")]
           .every(chart => chart.querySelector(".main-svg"))
    && [...document.querySelectorAll("img")].every(image => image.complete)"""


def wait_settled(tab, timeout: float = 30.0) -> None:
    """Until the script has finished, every chart has drawn its SVG and every image has loaded
    (what a screenshot or a count of charts needs)."""
    wait_rendered(tab, timeout)
    tab.wait_for_function(SETTLED, timeout=timeout * 1000)


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
    wait_settled(page)
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
    wait_settled(page)
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
    wait_settled(page)
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 5
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(SHOTS / "dcgan-trained.png"), full_page=True)


@pytest.mark.skipif(not (ROOT / "checkpoints" / "infogan.pt").exists(),
                    reason="the shipped infoGAN checkpoint is made by the CLI")
def test_infogan_sliders_redraw_the_samples(server, page):
    page.goto(f"{server}/infogan")
    wait_rendered(page)
    page.get_by_role("button", name="Load pretrained", exact=True).click()
    page.get_by_text("Explore the codes").wait_for(timeout=60_000)
    first_image = page.locator("[data-testid='stImage'] img").first
    first_image.wait_for(timeout=30_000)
    wait_rendered(page)
    before = first_image.get_attribute("src")
    thumb = page.locator("[data-testid='stSlider']").filter(
        has_text="continuous code c2").locator("input[type='range']")
    thumb.focus()
    for _ in range(8):                 # 8 steps of 0.1 to the right
        page.keyboard.press("ArrowRight")
    deadline = time.time() + 30
    while time.time() < deadline and first_image.get_attribute("src") == before:
        time.sleep(0.3)
    assert first_image.get_attribute("src") != before
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(SHOTS / "infogan-explorer.png"), full_page=True)


def test_language_model_page_scores_and_writes(server, page):
    page.goto(f"{server}/language-model")
    wait_rendered(page)
    page.get_by_text("Validation perplexity of an n-gram model").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Score sentences").click()
    page.get_by_text("prefers").first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="Generate").click()
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_text("Generated text").wait_for(timeout=60_000)
    # the heading is there before the text: wait for the generated text itself
    page.locator("[data-testid='stCode'] code").filter(has_text="《春").first.wait_for(
        timeout=60_000)
    wait_rendered(page)
    written = [block.inner_text() for block in page.locator("[data-testid='stCode'] code").all()]
    assert any(text.startswith("《春") and len(text) > 20 for text in written), written
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(SHOTS / "language-model-generate.png"), full_page=True)


def test_language_model_page_refuses_a_binary_text_upload(server, page, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_bytes(bytes(range(256)) * 40)
    page.goto(f"{server}/language-model")
    wait_rendered(page)
    page.get_by_text("Validation perplexity of an n-gram model").wait_for(timeout=60_000)
    try:
        page.locator("[data-testid='stSelectbox']").filter(has_text="Corpus").click()
    except Exception:
        page.screenshot(path=str(SHOTS / "failed-corpus-select.png"), full_page=True)
        raise
    page.get_by_role("option", name="Your text (.txt upload)").click()
    page.get_by_text("Upload a UTF-8 .txt file").wait_for(timeout=30_000)
    page.locator("input[type='file']").first.set_input_files(str(junk))
    page.get_by_text("notes.txt refused").wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0


def test_a_junk_upload_is_refused_with_a_message(server, page, tmp_path):
    junk = tmp_path / "weights.pt"
    junk.write_bytes(b"definitely not a checkpoint")
    page.goto(f"{server}/mlp")
    wait_rendered(page)
    page.locator("input[type='file']").set_input_files(str(junk))
    page.get_by_text("Checkpoint refused").wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
