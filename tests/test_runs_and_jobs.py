import time

import pytest

from core import checkpoints, runs
from core.jobs import JobManager
from core.registry import MODELS
from tests.conftest import tiny_config


def test_a_job_trains_in_the_background_and_writes_its_run(tiny_data):
    jobs = JobManager(max_concurrent=1)
    spec = MODELS["mlp"]
    job = jobs.submit(spec, tiny_config(spec, epochs=2), lambda: tiny_data, owner="me")
    jobs.wait(job, timeout=60)
    assert job.state == "finished" and job.step == 16
    run = runs.get(job.run.id)
    recorded = run.metrics()
    recorded = recorded[recorded["name"] == "accuracy/test"]
    assert 0.0 <= job.final["accuracy/test"] <= 1.0
    assert job.final["accuracy/test"] == pytest.approx(float(recorded["value"].iloc[-1]))
    assert run.status["status"] == "finished"
    frame = run.metrics()
    assert {"loss/train", "accuracy/test"} <= set(frame["name"])
    assert checkpoints.load(run.checkpoint_path)["step"] == 16
    assert [r.id for r in runs.list_runs(owner="me")] == [run.id]
    assert runs.list_runs(owner="someone else") == []


def test_limit_queues_jobs_and_stop_works(tiny_data):
    jobs = JobManager(max_concurrent=1)
    spec = MODELS["cnn"]
    slow = lambda: (time.sleep(0.01), tiny_data)[1]
    first = jobs.submit(spec, tiny_config(spec, epochs=100), slow)
    second = jobs.submit(spec, tiny_config(spec, epochs=1), slow)
    third = jobs.submit(spec, tiny_config(spec, epochs=1), slow)
    deadline = time.time() + 10
    while first.state != "running" and time.time() < deadline:
        time.sleep(0.01)
    assert first.state == "running" and second.state == "queued"
    assert jobs.queue_position(second) == 1 and jobs.queue_position(third) == 2
    jobs.stop(third.id)  # cancelled while queued
    jobs.wait(third, 5)
    assert third.state == "stopped" and jobs.queue_position(second) == 1
    jobs.stop(first.id)
    jobs.wait(first, 10)
    assert first.state == "stopped"
    assert runs.get(first.run.id).status["status"] == "stopped"
    jobs.wait(second, 30)
    assert second.state == "finished"


def test_a_failing_data_loader_fails_the_job_not_the_app():
    def missing():
        raise RuntimeError("no data here")
    jobs = JobManager()
    spec = MODELS["softmax"]
    job = jobs.wait(jobs.submit(spec, tiny_config(spec), missing), 10)
    assert job.state == "failed" and "no data here" in job.message


def test_resume_through_a_job_continues_the_same_run(tiny_data):
    jobs = JobManager()
    spec = MODELS["mlp"]
    config = tiny_config(spec, epochs=50)
    job = jobs.submit(spec, config, lambda: tiny_data)
    deadline = time.monotonic() + 60
    while job.step < 20:
        assert job.state in ("queued", "running"), f"the job {job.state}: {job.message}"
        assert time.monotonic() < deadline, "20 steps not reached within 60 s"
        time.sleep(0.01)
    jobs.stop(job.id)
    jobs.wait(job)
    payload = checkpoints.load(job.run.checkpoint_path)
    again = jobs.wait(jobs.submit(spec, config, lambda: tiny_data, resume=payload, run=job.run), 120)
    assert again.state == "finished" and again.step == 50 * 8
    assert again.run.id == job.run.id


def test_run_ids_are_checked_and_interrupted_runs_are_marked(tiny_data):
    with pytest.raises(KeyError):
        runs.get("../../etc")
    run = runs.create("cnn", tiny_config(MODELS["cnn"]))
    run.set_status(status="running", pid=999999999)
    runs.mark_interrupted()
    assert runs.get(run.id).status["status"] == "interrupted"
    runs.delete(run.id)
    assert runs.list_runs() == []


def test_eta_and_progress_follow_the_time_budget_when_it_ends_the_run_first():
    """The BEGAN-vs-DCGAN side-by-side: 60 s budget, 375,000 steps planned, 7 steps/s: the ETA
    is what the budget leaves (not 15 hours) and progress is the share of the budget."""
    from core.jobs import Job
    spec = MODELS["dcgan"]
    config = tiny_config(spec, time_budget_s=60.0)
    now = time.time()
    job = Job("job1", "dcgan", config, run=None, state="running", step=70, start_step=0,
              total_steps=375_000, started=now - 10)
    assert job.budget_binds
    assert 45 <= job.eta_s <= 51
    assert job.progress == pytest.approx(10 / 60, abs=0.02)
    unbudgeted = Job("job2", "dcgan", tiny_config(spec), run=None, state="running", step=70,
                     total_steps=700, started=now - 10)
    assert not unbudgeted.budget_binds and unbudgeted.eta_s == pytest.approx(90, rel=0.05)
    assert unbudgeted.progress == pytest.approx(0.1)
    # A budget longer than the steps need: the steps decide.
    roomy = Job("job3", "dcgan", tiny_config(spec, time_budget_s=3600.0), run=None,
                state="running", step=70, total_steps=700, started=now - 10)
    assert not roomy.budget_binds and roomy.eta_s == pytest.approx(90, rel=0.05)


def test_two_writers_of_a_run_s_status_never_trip_over_each_other():
    """The server and a job both write status.json (a comparison's label, the job's progress);
    each write goes through its own temporary file, so neither rename can fail."""
    import threading
    run = runs.create("mlp", tiny_config(MODELS["mlp"]), note="test")
    errors = []

    def write(name):
        try:
            for step in range(300):
                run.set_status(step=step, message=name)
        except OSError as error:
            errors.append(error)
    writers = [threading.Thread(target=write, args=(name,)) for name in ("server", "job")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert not errors, errors[:1]
    assert runs.get(run.id).status["message"] in ("server", "job")
