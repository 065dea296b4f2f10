"""The class board: who may post, remove and close; capacity; concurrent posts; the page."""
import threading

import pytest
from streamlit.testing.v1 import AppTest

from core import classes, demo, jobs, runs
from core.classes import ClassError
from core.models.cnn import SPEC as CNN
from tests.conftest import ROOT, tiny_config
from tests.pages import switch_to

LIMITS = demo.Limits(enabled=True, max_seconds=30, max_epochs=2, max_width=64, max_upload_mb=1,
                     max_jobs=1, max_per_visitor=1, abandon_after_s=600)


def finished_run(owner: str, accuracy: float = 0.8) -> runs.Run:
    run = runs.create("cnn", tiny_config(CNN), owner=owner)
    run.set_status(status="finished", step=10, final={"accuracy/test": accuracy})
    return run


def test_students_post_their_finished_runs_and_only_the_teacher_removes():
    board, key = classes.start("teacher", "Week 3")
    mine = finished_run("ann", 0.81)
    post = board.post(mine, "ann", CNN)
    assert post["figures"] == {"accuracy/test": 0.81} and post["student_number"] == 1
    with pytest.raises(ClassError, match="only your own"):
        board.post(finished_run("bob"), "ann", CNN)
    running = runs.create("cnn", tiny_config(CNN), owner="ann")
    running.set_status(status="running")
    with pytest.raises(ClassError, match="has not finished"):
        board.post(running, "ann", CNN)
    with pytest.raises(ClassError, match="already on the board"):
        board.post(mine, "ann", CNN)
    with pytest.raises(ClassError, match="only the teacher"):
        board.remove(post["id"], "ann")
    assert not board.claim_teacher("wrong-key", "bob") and not board.is_teacher("bob")
    assert board.claim_teacher(key, "co-teacher") and board.is_teacher("co-teacher")
    board.remove(post["id"], "co-teacher")
    assert board.posts() == []
    with pytest.raises(ClassError, match="only the teacher"):
        board.close("ann")
    board.close("teacher")
    with pytest.raises(ClassError, match="closed"):
        board.post(finished_run("cat"), "cat", CNN)


def test_forty_students_fit_and_the_forty_first_is_told_the_class_is_full():
    board, _ = classes.start("teacher")
    for number in range(classes.MAX_STUDENTS):
        board.post(finished_run(f"s{number:02d}", 0.5 + number / 100), f"s{number:02d}", CNN)
    with pytest.raises(ClassError, match="the class is full: 40 students"):
        board.post(finished_run("late"), "late", CNN)
    board.post(finished_run("s00"), "s00", CNN)           # a student already in posts again
    best = classes.sort_posts(board.posts(), "figure")[0]
    assert best["figures"]["accuracy/test"] == pytest.approx(0.89)
    newest = classes.sort_posts(board.posts(), "newest")[0]
    assert newest["student"] == "s00"


def test_concurrent_posts_neither_lose_a_card_nor_overfill():
    board, _ = classes.start("teacher")
    students = [f"t{n:02d}" for n in range(classes.MAX_STUDENTS + 5)]
    made = {name: finished_run(name) for name in students}
    refused, start = [], threading.Barrier(len(students))

    def post(name):
        start.wait()
        try:
            board.post(made[name], name, CNN)
        except ClassError as error:
            refused.append(str(error))

    threads = [threading.Thread(target=post, args=(name,)) for name in students]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(board.posts()) == classes.MAX_STUDENTS
    assert len(refused) == 5 and all("full" in message for message in refused)


def test_codes_that_do_not_exist_or_are_not_codes_are_refused():
    for code in ("", "nosuchcl", "../../etc", "A" * 40):
        with pytest.raises(ClassError, match="no class with the code"):
            classes.find(code)


@pytest.fixture
def demo_manager(monkeypatch):
    monkeypatch.setattr(jobs, "_manager", jobs.JobManager(limits=LIMITS))


def board_app(**params) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params.update(params)
    app.run()
    switch_to(app, "class").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_the_page_start_join_post_remove(demo_manager):
    teacher = board_app()
    next(b for b in teacher.button if b.label == "Start a class").click().run()
    code, key = teacher.session_state["class.new"]
    links = [c.value for c in teacher.code]
    assert any(link.endswith(f"/class?code={code}") for link in links)
    assert any(f"teacher={key}" in link for link in links)
    owner = teacher.session_state["owner"]
    assert all(owner not in link for link in links)

    student = board_app(code=code)
    visitor = student.session_state["owner"]
    run = finished_run(visitor, 0.77)
    student.run()
    assert student.selectbox(key="class.pick").value == run.id
    next(b for b in student.button if b.label == "Post to the class").click().run()
    assert not student.exception, [e.value for e in student.exception]
    board = classes.find(code)
    assert [post["run"] for post in board.posts()] == [run.id]
    student.run()
    assert any(m.label == "test accuracy" and m.value == "77.00%" for m in student.metric)
    assert not [b for b in student.button if b.label == "Remove"]     # not the teacher's controls

    # Another browser given the teacher link becomes a teacher; the key leaves its address bar.
    colleague = board_app(code=code, teacher=key)
    assert "teacher" not in colleague.query_params
    assert board.is_teacher(colleague.session_state["owner"])
    next(b for b in colleague.button if b.label == "Remove").click().run()
    assert board.posts() == []

    lost = board_app(code="nosuchcl")
    assert any("no class with the code" in e.value for e in lost.error)


def test_a_board_of_forty_cards_renders(demo_manager):
    """(How fast: bench/class_board.py.)"""
    board, key = classes.start("teacher")
    for number in range(classes.MAX_STUDENTS):
        board.post(finished_run(f"s{number:02d}", 0.5 + number / 100), f"s{number:02d}", CNN)
    app = board_app(code=board.code)
    assert sum(1 for m in app.metric if m.label == "test accuracy") == 40
    app.radio(key="class.sort").set_value("by the figure").run()
    assert not app.exception
    assert app.metric[0].value == "89.00%"
