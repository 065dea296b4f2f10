"""The bad-input matrix: every slider at its extremes, odd training settings, bad files, bad flags.

Zero crashes, a clear message for each, no code from a file executed, nothing lost.
"""
import io
import os
import pickle
import subprocess
import sys
import zipfile

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core import checkpoints, demo, jobs
from core.data import image_folder, text
from tests.conftest import ROOT
from tests.pages import switch_to

MODEL_PAGES = ["softmax", "mlp", "cnn", "resnet", "gan", "dcgan", "infogan", "began", "lm"]
FAST = demo.Limits(enabled=True, max_seconds=2, max_epochs=200, max_width=4096, max_depth=8,
                   max_upload_mb=1, max_jobs=1, max_per_visitor=1, abandon_after_s=600)


def open_page(model: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    switch_to(app, model)
    app.run()
    return app


@pytest.mark.parametrize("model", MODEL_PAGES)
def test_every_slider_at_both_extremes_renders(model):
    app = open_page(model)
    tried = 0
    for kind in ("slider", "select_slider"):
        keys = [w.key for w in getattr(app, kind) if w.key and w.key.startswith(f"{model}.")]
        for key in keys:
            widget = getattr(app, kind)(key=key)
            extremes = (widget.min, widget.max) if kind == "slider" else \
                (widget.options[0], widget.options[-1])
            for value in extremes:
                widget = getattr(app, kind)(key=key)
                if widget.disabled:  # (a browser user cannot move it either)
                    continue
                if kind == "select_slider":
                    value = type(widget.value)(value)
                widget.set_value(value).run()
                tried += 1
                assert not app.exception, (key, value, [e.value for e in app.exception])
    print(f"\n{model}: {tried} slider extremes")
    assert tried >= 2


@pytest.mark.parametrize("model, settings", [
    ("gan", {"gan.field.latent_dim": 1}),                               # nz = 1
    ("cnn", {"cnn.field.batch_size": 4096}),                            # batch > the data
    ("mlp", {"mlp.field.learning_rate": 1e-2}),                         # Adam's lr at the top
    ("dcgan", {"dcgan.field.learning_rate_d": 1e-2, "dcgan.field.learning_rate_g": 1e-2}),
    ("lm", {"lm.field.learning_rate": 1e-2, "lm.field.clip_grad": 0.0}),
])
def test_odd_settings_train_or_stop_with_a_message(model, settings, monkeypatch):
    monkeypatch.setattr(jobs, "_manager", jobs.JobManager(limits=FAST))
    app = open_page(model)
    for key, value in settings.items():
        widget = next(w for w in list(app.slider) + list(app.select_slider) if w.key == key)
        widget.set_value(value).run()
    next(b for b in app.button if b.label == "Train").click().run()
    assert not app.exception, [e.value for e in app.exception]
    kind, job_id = app.session_state[f"{model}.view"]
    job = jobs.manager().wait(jobs.manager().get(job_id), timeout=120)
    assert job.state in ("finished", "failed"), job.state
    if job.state == "failed":  # a clear reason, and the last good checkpoint is still there
        assert "lower the learning rate" in job.message or job.message
        checkpoints.load(job.run.checkpoint_path)
    app.run()
    assert not app.exception


def malicious_pickle(marker) -> bytes:
    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    buffer = io.BytesIO()
    torch.save({"format_version": 1, "model": "cnn", "config": {}, "step": 0,
                "state_dict": Boom()}, buffer)
    return buffer.getvalue()


def files(tmp_path):
    marker = tmp_path / "pwned"
    good = io.BytesIO()
    torch.save({"format_version": 1, "model": "cnn", "config": {}, "step": 0,
                "state_dict": {}}, good)
    return marker, {
        "empty": b"",
        "truncated": good.getvalue()[: len(good.getvalue()) // 2],
        "png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
        "text": b"hello, I am not a checkpoint",
        "raw pickle": pickle.dumps({"a": 1}),
        "pickle that runs code": malicious_pickle(marker),
        "oversized": b"PK\x03\x04" + b"\x00" * (checkpoints.MAX_BYTES + 1),
    }


def test_bad_checkpoint_files_are_refused_and_never_run_code(tmp_path):
    marker, cases = files(tmp_path)
    for name, raw in cases.items():
        with pytest.raises(checkpoints.CheckpointError) as refused:
            checkpoints.load(raw, expected_model="cnn")
        assert str(refused.value), name
    assert not marker.exists(), "code from a checkpoint was executed"


def test_bad_image_zips_and_texts_are_refused(tmp_path):
    empty_zip = io.BytesIO()
    zipfile.ZipFile(empty_zip, "w").close()
    not_images = io.BytesIO()
    with zipfile.ZipFile(not_images, "w") as archive:
        archive.writestr("notes.txt", "no pictures here")
    for raw in (b"", b"not a zip at all", empty_zip.getvalue(), not_images.getvalue()):
        with pytest.raises(Exception) as refused:
            image_folder.load_zip(raw, "upload.zip")
        assert not isinstance(refused.value, (AttributeError, TypeError, IndexError))
        assert str(refused.value)
    for raw in (b"", b"\x00\x01binary", "naïve".encode("latin-1") * 999, b"short text"):
        with pytest.raises(text.CorpusError):
            text.check_upload(raw)


@pytest.mark.parametrize("arguments", [
    ["train", "cnn", "--batch_size", "0"], ["train", "cnn", "--learning_rate", "0"],
    ["train", "gan", "--latent_dim", "0"], ["train", "gan", "--latent_dim", "201"],
    ["train", "cnn", "--epochs", "abc"], ["train", "cnn", "--optimizer", "rmsprop"],
    ["train", "lm", "--corpus", "../../etc/passwd"], ["train", "nosuchmodel"],
    ["train", "cnn", "--preset", "nosuchpreset"], ["evaluate", "/no/such/file.pt"],
])
def test_bad_cli_flags_exit_with_one_clear_line(arguments):
    result = subprocess.run([sys.executable, "-m", "core.cli", *arguments], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "DLSTUDIO_DATASET": "synthetic"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr[-500:]
