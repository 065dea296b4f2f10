"""Objects that several sessions (threads of the server) or processes use at once."""
import multiprocessing
import threading
import time

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core import gan_eval, runs
from core.models.cnn import SPEC as CNN
from tests.conftest import tiny_config


@pytest.mark.skipif(not gan_eval.CLASSIFIER.exists(), reason="the shipped CNN judges")
def test_one_judge_scoring_for_two_sessions_at_once_keeps_their_features_apart():
    judge = gan_eval.shipped_judge()
    inputs = [torch.rand(8, 1, 28, 28) * 2 - 1, -torch.rand(8, 1, 28, 28)]
    expected = [judge.logits_and_features(images, batch_size=2)[1] for images in inputs]
    problems, start = [], threading.Barrier(2)

    def score(which: int) -> None:
        start.wait()
        for _ in range(150):
            try:
                features = judge.logits_and_features(inputs[which], batch_size=2)[1]
            except Exception as error:          # (an emptied list: IndexError)
                problems.append(repr(error))
                return
            if not torch.allclose(features, expected[which], atol=1e-5):
                problems.append(f"session {which} read the other's features")
                return

    threads = [threading.Thread(target=score, args=(which,)) for which in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not problems, problems


def _update_status(folder: str, writer: int, count: int) -> None:
    run = runs.Run(runs.Path(folder))
    for index in range(count):
        run.set_status(**{f"w{writer}_{index}": index})


def test_two_processes_updating_one_status_lose_nothing(tmp_path):
    run = runs.create("cnn", tiny_config(CNN))
    count = 150
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_update_status, args=(str(run.folder), w, count))
               for w in (0, 1)]
    for writer in writers:
        writer.start()
    _update_status(str(run.folder), 2, count)       # and the server's thread, at the same time
    for writer in writers:
        writer.join(120)
    status = run.status
    missing = [f"w{w}_{i}" for w in (0, 1, 2) for i in range(count) if f"w{w}_{i}" not in status]
    assert not missing, f"{len(missing)} updates lost, e.g. {missing[:3]}"


def test_a_freed_uploads_cache_key_is_not_reused_by_the_next():
    """Keys of uploaded payloads follow their contents: a later upload that happens to get the
    freed one's ``id()`` gets its own key (the model cache would otherwise serve the old model)."""
    from ui.state import payload_and_key
    keys, ids = {}, set()
    for round_ in range(50):
        payload = {"model": "mlp", "state_dict": {"w": torch.full((3,), float(round_))},
                   "config": {}, "step": round_}
        key = payload_and_key(payload)[1]
        assert payload_and_key(payload)[1] == key           # stable for one payload
        ids.add(id(payload))
        keys[round_] = key
        del payload
    assert len(set(keys.values())) == 50
    same = {"model": "mlp", "state_dict": {"w": torch.full((3,), 7.0)}, "config": {}, "step": 7}
    assert payload_and_key(same)[1] == keys[7]               # the same contents, the same key


def test_waiting_for_a_background_result_does_not_hold_the_page():
    def script():
        import concurrent.futures

        import streamlit as st

        from core import inside
        from ui.inside_views import wait_for
        future = concurrent.futures.Future()                 # never finishes
        result = wait_for(future, inside.Progress(), "A slow map")
        st.write(f"after: {result}")

    app = AppTest.from_function(script, default_timeout=10)
    started = time.perf_counter()
    app.run()
    assert time.perf_counter() - started < 5
    assert not app.exception, [e.value for e in app.exception]
    assert any(m.value == "after: None" for m in app.markdown)
