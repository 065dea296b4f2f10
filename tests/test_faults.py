"""Fault test: SIGKILL the server in the middle of a training run, restart it, resume the run.

The run's folder, metrics and last checkpoint must survive, and the Runs page must offer the
run for resuming; resuming it in the browser finishes it. Loopback only, bounded in time.
"""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from core import checkpoints
from tests.conftest import ROOT
from tests.test_browser import CHROMIUM, SHOTS, free_port, wait_rendered

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no Debian chromium")]


def serve(port: int, runs_dir) -> subprocess.Popen:
    env = {**os.environ, "DLSTUDIO_DATASET": "synthetic", "DLSTUDIO_RUNS_DIR": str(runs_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    pytest.fail("streamlit did not start")


@pytest.mark.slow   # 35 s: a server killed mid-run and a resume in the browser
def test_a_killed_server_loses_nothing_and_the_run_resumes(tmp_path):
    from playwright.sync_api import sync_playwright
    runs_dir = tmp_path / "runs"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = serve(port, runs_dir)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        try:
            page.goto(f"{url}/cnn")
            wait_rendered(page)
            epochs = page.locator("[data-testid='stSlider']").filter(
                has_text=re.compile(r"^epochs")) \
                .get_by_role("slider")
            epochs.focus()
            page.keyboard.press("End")  # the most epochs the slider allows: a long run
            wait_rendered(page)
            page.get_by_role("button", name="Train", exact=True).click()
            # Wait for a few epochs' checkpoints, then kill the server without warning.
            deadline = time.time() + 120
            run = None
            while time.time() < deadline:
                folders = [f for f in runs_dir.glob("*-cnn-*") if (f / "last.pt").exists()]
                if folders and checkpoints.load(folders[0] / "last.pt")["step"] >= 8:
                    run = folders[0]
                    break
                time.sleep(0.2)
            assert run is not None, "no checkpoint after 120 s"
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)

            # Nothing lost: the folder, its metrics and its checkpoint are whole.
            saved = checkpoints.load(run / "last.pt", expected_model="cnn")
            assert saved["step"] >= 8
            rows = (run / "metrics.csv").read_text().splitlines()
            assert rows[0] == "step,epoch,name,value" and len(rows) > 5
            assert '"running"' in (run / "status.json").read_text()

            # Restart: the Runs page shows the run as interrupted, its page resumes it.
            server = serve(port, runs_dir)
            page.goto(f"{url}/runs")
            wait_rendered(page)
            cells = page.locator("[data-testid='stDataFrame'] td", has_text="interrupted")
            deadline = time.time() + 30  # (the table's cells are drawn on a canvas; the DOM
            while cells.count() == 0 and time.time() < deadline:  # keeps them for readers)
                time.sleep(0.3)
            assert cells.count() == 1
            page.get_by_role("button", name="Open on its page").click()
            resume = page.get_by_role("button", name=f"Resume from step {saved['step']:,}")
            resume.wait_for(timeout=30_000)
            resume.click()
            page.get_by_text("Finished at step").wait_for(timeout=180_000)
            final = checkpoints.load(run / "last.pt")
            assert final["step"] > saved["step"] and "evaluation" in final
            assert page.locator("[data-testid='stException']").count() == 0
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "resumed-after-kill.png"), full_page=True)
        finally:
            browser.close()
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
