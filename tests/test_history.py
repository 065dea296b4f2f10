"""The GAN history table: every shipped GAN, oldest paper first, its figures read from what is
stored with its weights; the page draws it; an export records how the model was trained."""
import shutil

import torch
from streamlit.testing.v1 import AppTest

from core import checkpoints, cli, figures, history, training
from core.paths import shipped_checkpoint
from core.registry import MODELS
from tests.conftest import ROOT, tiny_config
from tests.pages import switch_to

SHIPPED_GANS = [name for name, spec in MODELS.items()
                if spec.family in history.HISTORY_FAMILIES and shipped_checkpoint(name).exists()]


def test_every_shipped_gan_has_a_row_in_the_order_of_its_paper():
    rows = history.rows(MODELS.values())
    assert sorted(row.name for row in rows) == sorted(SHIPPED_GANS)
    years = [row.year for row in rows]
    assert years == sorted(years)
    assert years[0] == 2014 and rows[0].name == "gan"
    for row in rows:
        payload = checkpoints.load(str(shipped_checkpoint(row.name)))
        stored = figures.stored(payload, figures.EVALUATE)
        assert row.steps == payload["step"]
        assert row.generator_parameters == sum(t.numel() for t in
                                               payload["state_dict"]["generator"].values())
        if stored is None:   # a checkpoint without stored figures says how to measure them
            assert row.frechet_distance is None and "--store" in row.notes[0]
            continue
        if "quality/covered" in stored:
            assert row.classes == stored["quality/covered"]
            assert row.frechet_distance == stored["quality/frechet_distance"]
        assert row.intended_class == stored.get("conditional/intended_accuracy")


def test_changed_weights_lose_their_figures(tmp_path):
    source = shipped_checkpoint("dcgan")
    copy = tmp_path / "dcgan.pt"
    shutil.copy(source, copy)
    assert history.row_for(MODELS["dcgan"], copy).frechet_distance is not None
    payload = checkpoints.load(str(copy))
    weights = payload["state_dict"]["generator"]
    first = next(iter(weights))
    weights[first] = weights[first] + 1
    checkpoints.save(copy, {k: v for k, v in payload.items() if k != "format_version"})
    row = history.row_for(MODELS["dcgan"], copy)
    assert row.frechet_distance is None and row.classes is None and not row.stored


def test_verdicts_name_who_beat_the_dcgan():
    rows = history.rows(MODELS.values())
    from ui.history_view import verdicts
    said = verdicts(rows)
    dcgan = history.baseline(rows)
    assert dcgan is not None and dcgan.name == "dcgan"
    for row in rows:
        if row.year > dcgan.year and row.frechet_distance is not None and row.classes is not None:
            line = next(text for text in said if text.startswith(f"**{row.title}**"))
            assert ("past the DCGAN" in line) == (row.frechet_distance < dcgan.frechet_distance)


def test_export_records_where_and_how_long(tmp_path, tiny_data):
    spec = MODELS["dcgan"]
    events = list(training.train(spec, tiny_config(spec), tiny_data, checkpoint_dir=tmp_path))
    assert isinstance(events[-1], training.Finished)
    cli.export(checkpoints.load(str(tmp_path / "last.pt")), str(tmp_path / "slim.pt"),
               trained={"device": "CPU: test", "seconds": 12.5})
    slim = checkpoints.load(str(tmp_path / "slim.pt"))
    assert slim["trained"] == {"device": "CPU: test", "seconds": 12.5}
    assert all(t.dtype == torch.float16 for t in slim["state_dict"]["generator"].values()
               if t.is_floating_point())
    row = history.row_for(spec, tmp_path / "slim.pt")
    assert row.trained_on == "CPU: test" and row.wall_seconds == 12.5


def test_generator_speed_is_measured_here():
    speed = history.generator_speed(MODELS["dcgan"], batch=16, repeats=1)
    assert 0 < speed < 10_000_000


def test_page_shows_the_table_and_times_the_generators():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    switch_to(app, "gans-compared")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    frame = app.dataframe[0].value
    assert sorted(frame["model"]) == sorted(MODELS[name].title for name in SHIPPED_GANS)
    assert (frame["images/s here (drawing)"] == "—").all()
    next(b for b in app.button if b.key == "history_time").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    frame = app.dataframe[0].value
    assert (frame["images/s here (drawing)"].str.replace(",", "").astype(float) > 0).all()
    assert any("past the DCGAN" in m.value or "behind" in m.value for m in app.markdown)
