"""Jobs in their own processes (the default launcher): live metrics, Stop, Resume, a killed
process, start latency, data descriptions, and a browser training and stopping a job."""
import os
import pickle
import re
import signal
import subprocess
import sys
import time
import types
import urllib.request
import zipfile
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

from core import checkpoints, job_process, runs
from core.data.fashion_mnist import DataUnavailable
from core.data.sources import DataSource
from core.jobs import JobManager, default_backend
from core.registry import MODELS
from tests.conftest import ROOT, tiny_config

MLP = MODELS["mlp"]


@pytest.fixture(scope="module")
def jobs():
    """One manager for the module: its forkserver imports torch and the models once."""
    manager = JobManager(max_concurrent=1, backend="process")
    job_process.warm_up()
    return manager


def wait_for(condition, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_processes_are_the_default_and_the_backend_can_be_chosen(monkeypatch):
    monkeypatch.delenv("DLSTUDIO_JOBS", raising=False)
    monkeypatch.delenv("DLSTUDIO_RAY_ADDRESS", raising=False)
    assert default_backend() == "process"
    monkeypatch.setenv("DLSTUDIO_JOBS", "thread")
    assert default_backend() == "thread"
    monkeypatch.setenv("DLSTUDIO_RAY_ADDRESS", "ray://head:10001")
    assert default_backend() == "ray"
    monkeypatch.delenv("DLSTUDIO_RAY_ADDRESS")
    monkeypatch.setenv("DLSTUDIO_JOBS", "fibers")
    with pytest.raises(ValueError, match="DLSTUDIO_JOBS"):
        default_backend()


def test_without_a_cluster_address_nothing_of_ray_is_imported():
    env = {name: value for name, value in os.environ.items()
           if name not in ("DLSTUDIO_RAY_ADDRESS", "DLSTUDIO_JOBS")}
    probe = ("import sys; from core.jobs import manager; manager(); import ui.shell; "
             "print(manager().backend, any(m == 'ray' or m.startswith('ray.') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.split() == ["process", "False"], result.stderr[-2000:]


def test_a_job_trains_in_its_own_process_and_streams_its_metrics(jobs):
    job = jobs.submit(MLP, tiny_config(MLP, epochs=60), DataSource.images(), owner="me")
    assert wait_for(lambda: job.state == "running" and len(job.rows) > 0, 30)
    assert job.is_active and job.step < job.total_steps   # metrics arrive while it trains
    jobs.wait(job, 120)
    assert job.state == "finished" and job.step == job.total_steps == 60 * 13
    status = runs.get(job.run.id).status
    assert status["status"] == "finished" and status["backend"] == "process"
    assert status["pid"] != os.getpid()                  # trained elsewhere than this process
    assert runs.ran_on(status).startswith("process on ")
    assert checkpoints.load(job.run.checkpoint_path)["step"] == job.step
    # The rows the page showed are the rows on disk.
    frame = job.run.metrics()
    assert len(frame) == len(job.rows)


def test_start_latency_first_metrics_within_three_seconds(jobs):
    started = time.perf_counter()
    job = jobs.submit(MLP, tiny_config(MLP, epochs=2), DataSource.images())
    assert wait_for(lambda: len(job.rows) > 0, 30)
    latency = time.perf_counter() - started
    jobs.wait(job, 60)
    assert latency < 3.0, f"first metrics {latency:.2f} s after the submit"


def test_stop_reaches_the_process_within_a_step_and_resume_continues(jobs):
    config = tiny_config(MLP, epochs=200, batch_size=8)
    job = jobs.submit(MLP, config, DataSource.images())
    assert wait_for(lambda: job.step >= 10, 60)
    jobs.stop(job.id)
    assert wait_for(lambda: not job.is_active, 5)
    assert job.state == "stopped"
    saved = checkpoints.load(job.run.checkpoint_path)
    assert saved["step"] == job.step == job.run.status["step"]
    again = jobs.wait(jobs.submit(MLP, tiny_config(MLP, epochs=200, batch_size=8, time_budget_s=1.0),
                                  DataSource.images(), resume=saved, run=job.run), 60)
    assert again.state == "finished" and again.step > saved["step"]
    assert again.run.id == job.run.id


def test_a_killed_job_process_fails_its_run_with_the_reason_and_the_server_goes_on(jobs):
    job = jobs.submit(MLP, tiny_config(MLP, epochs=200, batch_size=8), DataSource.images())
    assert wait_for(lambda: job.step >= 20 and job.run.checkpoint_path.exists(), 60)
    pid = job.handle.pid
    killed = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: job.state == "failed", 5), "not marked failed within 5 s"
    took = time.perf_counter() - killed
    assert "SIGKILL" in job.message and "out-of-memory" in job.message
    status = runs.get(job.run.id).status
    assert status["status"] == "failed" and "SIGKILL" in status["message"]
    saved = checkpoints.load(job.run.checkpoint_path, expected_model="mlp")["step"]
    # The last checkpoint before the kill survives it: it loads (a torn file would be refused)
    # and is no later than the last step the server heard of.
    assert 0 <= saved <= job.step
    print(f"killed job marked failed after {took:.2f} s")
    # The manager (the server) still trains the next job.
    after = jobs.wait(jobs.submit(MLP, tiny_config(MLP), DataSource.images()), 60)
    assert after.state == "finished"


def test_a_job_that_cannot_stop_is_ended_after_the_grace_period(jobs, monkeypatch):
    """Stop is a flag the loop reads between steps; a process that never reaches the next check
    (here frozen with SIGSTOP, as one stuck reading data would be) is ended after the grace."""
    monkeypatch.setattr(job_process, "STOP_GRACE_S", 1.0)
    job = jobs.submit(MLP, tiny_config(MLP, epochs=200, batch_size=8), DataSource.images())
    assert wait_for(lambda: job.step >= 5, 60)
    os.kill(job.handle.pid, signal.SIGSTOP)
    jobs.stop(job.id)
    assert wait_for(lambda: not job.is_active, 15), "a frozen job outlived its grace period"
    assert job.state == "failed" and "did not stop within 1 s of Stop" in job.message
    after = jobs.wait(jobs.submit(MLP, tiny_config(MLP), DataSource.images()), 60)
    assert after.state == "finished"


def test_a_failure_inside_the_job_process_is_reported_with_its_message(jobs, tmp_path):
    missing = DataSource.folder(str(tmp_path))   # a folder without images
    job = jobs.wait(jobs.submit(MODELS["gan"], tiny_config(MODELS["gan"]), missing), 60)
    assert job.state == "failed" and "holds no images" in job.message
    assert "holds no images" in job.run.status["message"]


def test_a_remedy_restart_reuses_what_the_job_trained_on(jobs):
    spec = MODELS["gan"]
    job = jobs.submit(spec, tiny_config(spec, epochs=50), DataSource.images())
    assert wait_for(lambda: job.step >= 3, 60)
    restarted = jobs.restart(job, spec, {"learning_rate_d": 1e-4}, before_step=0, note="test")
    jobs.wait(job, 10)
    assert restarted.source == DataSource.images() and restarted.config.learning_rate_d == 1e-4
    jobs.stop(restarted.id)
    jobs.wait(restarted, 30)
    assert restarted.state in ("stopped", "finished")


def test_the_thread_launcher_still_trains():
    jobs = JobManager(max_concurrent=1, backend="thread")
    job = jobs.wait(jobs.submit(MLP, tiny_config(MLP), DataSource.images()), 60)
    assert job.state == "finished" and job.run.status["pid"] == os.getpid()


def test_a_job_process_does_not_rerun_the_servers_main_script(monkeypatch):
    """Under Streamlit, ``__main__`` is the page script; a job's child must not execute it."""
    fake = types.ModuleType("__main__")
    fake.__file__ = str(ROOT / "app.py")
    fake.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", fake)
    assert "init_main_from_path" not in job_process._preparation_data("dlstudio-job-job1")
    assert job_process._preparation_data("some-other-process")["init_main_from_path"] == \
        str(ROOT / "app.py")


# Data descriptions -------------------------------------------------------------------------------

def image_zip(count: int = 20) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            picture = BytesIO()
            Image.fromarray((np.random.default_rng(index).random((12, 12, 3)) * 255)
                            .astype(np.uint8)).save(picture, format="PNG")
            archive.writestr(f"pictures/{index}.png", picture.getvalue())
    return buffer.getvalue()


def test_a_data_source_is_a_small_description_the_job_loads(runs_dir):
    raw = image_zip()
    source = DataSource.zip_upload(raw, "shoes.zip")
    assert len(pickle.dumps(source)) < 300          # not the images: where they are
    assert (runs_dir / source.path).read_bytes() == raw
    assert DataSource.zip_upload(raw, "again.zip").path == source.path   # stored once
    data = source.load()
    assert data.train_images.shape[1:] == (3, 32, 32) and len(data.train_images) == 18
    assert source.describe() == "uploaded shoes.zip"
    assert DataSource.for_spec(MODELS["lm"]).kind == "model"
    assert DataSource.for_spec(MLP) == DataSource.images()
    with pytest.raises(DataUnavailable, match="not a zip"):
        DataSource.zip_upload(b"plain text", "notes.zip")
    (runs_dir / source.path).unlink()
    with pytest.raises(DataUnavailable, match="upload them again"):
        source.check()
    with pytest.raises(DataUnavailable, match="not a folder"):
        DataSource.folder(str(runs_dir / "nowhere")).check()


def test_a_language_model_job_loads_its_corpus_in_its_process(jobs):
    spec = MODELS["lm"]
    config = tiny_config(spec, hidden_size=16, embedding_size=8, seq_len=8, batch_size=8,
                         time_budget_s=1.0)
    job = jobs.wait(jobs.submit(spec, config, DataSource.for_spec(spec)), 60)
    assert job.state == "finished" and "perplexity/val" in job.final


# In a browser: Train and Stop with the process launcher ---------------------------------------

@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="no Debian chromium")
def test_the_browser_trains_and_stops_a_job_in_its_own_process(tmp_path):
    from playwright.sync_api import sync_playwright
    from tests.test_browser import CHROMIUM, free_port, wait_rendered
    runs_dir, port = tmp_path / "runs", free_port()
    env = {**os.environ, "DLSTUDIO_DATASET": "synthetic", "DLSTUDIO_RUNS_DIR": str(runs_dir)}
    env.pop("DLSTUDIO_JOBS", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _healthy(url), 60), "streamlit did not start"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu",
                                                "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(f"{url}/cnn")
            wait_rendered(page)
            epochs = page.locator("[data-testid='stSlider']").filter(
                has_text=re.compile(r"^epochs")).get_by_role("slider")
            epochs.focus()
            page.keyboard.press("End")   # a long run, so Stop has something to stop
            wait_rendered(page)
            page.get_by_role("button", name="Train", exact=True).click()
            page.get_by_text(re.compile(r"steps/s")).first.wait_for(timeout=60_000)
            page.get_by_test_id("stMainBlockContainer").get_by_role(
                "button", name="Stop", exact=True).click()
            page.get_by_text(re.compile(r"Stopped at step")).wait_for(timeout=30_000)
            assert page.locator("[data-testid='stException']").count() == 0
            browser.close()
        (run,) = runs.list_runs()
        status = run.status
        assert status["status"] == "stopped" and status["backend"] == "process"
        assert status["pid"] != server.pid
        assert checkpoints.load(run.checkpoint_path)["step"] == status["step"]
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)


def _healthy(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
        return True
    except OSError:
        return False
