"""Compare and share: same-seed A/B runs, the verdict, run cards, and settings in links."""
import dataclasses
import json
import urllib.parse

import pytest
import torch

from core import cards, compare, links
from core.cli import main as cli
from core.config import ConfigError, from_dict
from core.jobs import JobManager
from core.registry import MODELS
from tests.conftest import ROOT, tiny_config
from tests.pages import switch_to


def launch(spec, arms, data):
    jobs = JobManager(max_concurrent=1, backend="thread")
    comparison = compare.launch(jobs, spec, arms, data)
    for job in list(jobs._jobs.values()):
        jobs.wait(job, timeout=120)
        assert job.state == "finished", job.message
    return comparison


def series(run_id, name):
    from core import runs
    frame = runs.get(run_id).metrics()
    rows = frame[frame["name"] == name].sort_values("step")
    return rows["value"].tolist()


# Same seeds -------------------------------------------------------------------------------------
def test_same_seed_gives_identical_first_steps_in_a_and_b(tiny_data):
    """B trains a second epoch; its first epoch is A's, step for step, on each seed."""
    spec = MODELS["mlp"]
    a = tiny_config(spec, epochs=1, seed=7)
    b = dataclasses.replace(a, epochs=2)
    arms = compare.plan_ab(spec, a, b, seeds=2)
    assert [c.seed for c in arms[0][1]] == [c.seed for c in arms[1][1]] == [7, 8]
    comparison = launch(spec, arms, tiny_data)
    (a7, a8), (b7, b8) = (arm["runs"] for arm in comparison.arms)
    first_a, first_b = series(a7, "loss/train")[:5], series(b7, "loss/train")[:5]
    assert len(first_a) == 5 and first_a == first_b            # identical, not just close
    assert series(a8, "loss/train")[:5] == series(b8, "loss/train")[:5]
    assert series(a7, "loss/train")[:5] != series(a8, "loss/train")[:5]   # the seed matters
    assert comparison.fields == ["epochs"]


@pytest.mark.parametrize("name", ["cnn", "gan"])
def test_a_and_b_start_from_the_same_weights_and_batches(name, tiny_data):
    spec = MODELS[name]
    a = tiny_config(spec, seed=3)
    changed = "label_smoothing"
    b = dataclasses.replace(a, **{changed: 0.1})
    (_, [config_a]), (_, [config_b]) = compare.plan_ab(spec, a, b, seeds=1)
    task_a = spec.make_task(spec, config_a, tiny_data, torch.device("cpu"))
    task_b = spec.make_task(spec, config_b, tiny_data, torch.device("cpu"))
    for p, q in zip(task_a.trainer.parameters(), task_b.trainer.parameters()):
        assert torch.equal(p, q)
    from core.training import epoch_order
    assert torch.equal(epoch_order(120, config_a.seed, 0), epoch_order(120, config_b.seed, 0))


def test_b_the_same_as_a_is_refused_and_b_keeps_as_seeds():
    spec = MODELS["mlp"]
    a = tiny_config(spec)
    with pytest.raises(ConfigError, match="same settings"):
        compare.plan_ab(spec, a, dataclasses.replace(a, seed=99))
    with pytest.raises(ConfigError, match="1–5"):
        compare.plan_ab(spec, a, dataclasses.replace(a, epochs=3), seeds=6)


# Verdicts ---------------------------------------------------------------------------------------
def test_the_verdict_says_within_noise_for_two_identical_configs(tiny_data):
    spec = MODELS["mlp"]
    configs = [tiny_config(spec, seed=seed) for seed in (0, 1)]
    comparison = launch(spec, [("A", configs), ("B", list(configs))], tiny_data)
    found = compare.results(comparison)
    metric = compare.headline_metric(found)
    assert metric.name == "accuracy/test"
    [sentence] = compare.verdicts(found, metric)
    assert sentence.startswith("Within seed noise"), sentence
    table = compare.table(found, comparison)
    assert list(table["runs finished"]) == [2, 2]
    assert "±" in table["test accuracy"][0]


def summary(arm, values):
    numbers = list(values.values())
    return compare.ArmSummary(arm, values, sum(numbers) / len(numbers), min(numbers), max(numbers))


def test_the_verdict_respects_the_spread():
    up = compare.METRICS[0]            # accuracy: higher is better
    a = summary("A", {0: 0.80, 1: 0.82, 2: 0.81})
    assert compare.verdict(a, summary("B", {0: 0.81, 1: 0.83, 2: 0.82}), up).startswith(
        "B better on every seed")
    assert compare.verdict(a, summary("B", {0: 0.79, 1: 0.81, 2: 0.80}), up).startswith(
        "A better on every seed")
    mixed = compare.verdict(a, summary("B", {0: 0.83, 1: 0.81, 2: 0.815}), up)
    assert mixed.startswith("Within seed noise") and "2 of 3" in mixed
    one = compare.verdict(summary("A", {0: 0.8}), summary("B", {0: 0.9}), up)
    assert "one seed cannot tell" in one
    down = compare.metric_for("quality/frechet_distance")      # lower is better
    apart = compare.verdict(summary("A", {0: 50.0, 1: 52.0}), summary("B", {5: 40.0, 6: 45.0}), down)
    assert apart.startswith("B better than A on every seed")
    overlap = compare.verdict(summary("A", {0: 50.0, 1: 52.0}), summary("B", {5: 49.0, 6: 53.0}), down)
    assert overlap.startswith("Within seed noise")


def test_runs_picked_after_the_fact_group_into_arms(tiny_data):
    from core import runs
    spec = MODELS["mlp"]
    arms = compare.plan_ab(spec, tiny_config(spec), tiny_config(spec, epochs=2), seeds=2)
    made = launch(spec, arms, tiny_data)
    picked = compare.from_runs([runs.get(i) for i in made.run_ids])
    assert [len(arm["runs"]) for arm in picked.arms] == [2, 2]
    assert picked.fields == ["epochs"]
    assert compare.load(picked.id).run_ids == picked.run_ids
    other = compare.launch(JobManager(backend="thread"), MODELS["softmax"],
                           [("A", [tiny_config(MODELS["softmax"])])], tiny_data)
    with pytest.raises(ValueError, match="different models"):
        compare.from_runs([runs.get(made.run_ids[0]), runs.get(other.run_ids[0])])
    with pytest.raises(KeyError):
        compare.load("../../etc/passwd")


def test_a_sweep_plans_every_cell_and_refuses_a_bad_value():
    spec = MODELS["mlp"]
    base = tiny_config(spec)
    lrs = compare.parse_values(spec, "learning_rate", "0.001, 0.003")
    arms = compare.plan_sweep(spec, base, ("learning_rate", lrs), ("label_smoothing", [0.0, 0.1]))
    assert len(arms) == 4 and arms[0][0] == "learning_rate=0.001, label_smoothing=0"
    with pytest.raises(ConfigError, match="learning_rate"):
        compare.parse_values(spec, "learning_rate", "0.001, -1")
    with pytest.raises(ConfigError, match="no setting"):
        compare.parse_values(spec, "warp_speed", "1")


# Links ------------------------------------------------------------------------------------------
def alternatives(field, value):
    meta = field.metadata
    if meta.get("choices"):
        return [choice for choice in meta["choices"] if choice != value]
    if field.type in (bool, "bool"):
        return [not value]
    if isinstance(value, str):   # free text (a language model's corpus): other names
        from core.data.text import CORPORA
        return [name for name in CORPORA if name != value] + [value + "-2"]
    low, high = meta.get("low"), meta.get("high")
    if field.type in (int, "int"):
        candidates = [value + 1, value - 1, high, low]
    else:
        candidates = [value * 1.5 if value else 0.125, value / 3 if value else 0.01, high, low]
    return [c for c in candidates if c is not None and c != value]


def via_url(params: dict) -> dict:
    """What a browser hands back: the query string parsed into strings."""
    query = urllib.parse.urlsplit(links.url("http://host/page", params)).query
    return {k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}


@pytest.mark.parametrize("name", list(MODELS))
def test_a_link_round_trips_every_field(name):
    spec = MODELS[name]
    for preset in spec.presets:
        base = links.preset_values(spec, preset)
        config = from_dict(spec.config_cls, base)
        link = links.decode(spec, via_url(links.encode(spec, preset, config)))
        assert link.preset == preset and not link.notices
    preset = links.first_preset(spec)
    base = links.preset_values(spec, preset)
    untested = []
    for field in dataclasses.fields(spec.config_cls):
        if len(field.metadata.get("choices") or (0, 1)) == 1:
            continue   # one allowed value: nothing a link could change (the presets carry it)
        for candidate in alternatives(field, base[field.name]):
            try:
                config = from_dict(spec.config_cls, {**base, field.name: candidate})
            except ConfigError:
                continue
            break
        else:
            untested.append(field.name)
            continue
        params = links.encode(spec, preset, config)
        assert field.name in params
        link = links.decode(spec, via_url(params))
        assert not link.notices, link.notices
        assert from_dict(spec.config_cls, link.values) == config, field.name
    assert not untested, f"no valid other value found for {untested}"


def test_a_bad_link_value_is_refused_with_a_message():
    spec = MODELS["cnn"]
    link = links.decode(spec, {"preset": "nonsense", "learning_rate": "-1", "epochs": "lots",
                               "warp": "9", "batch_size": "1e9", "optimizer": "rmsprop",
                               "seed": "3"})
    tutorial = links.first_preset(spec)
    assert link.preset == tutorial
    assert link.changed == {"seed": 3}
    assert link.values == {**links.preset_values(spec, tutorial), "seed": 3}
    text = "\n".join(link.notices)
    for name in ("nonsense", "learning_rate", "epochs", "warp", "batch_size", "optimizer"):
        assert name in text
    assert len(link.notices) == 6


def test_a_demo_cap_in_a_link_is_refused():
    spec = MODELS["mlp"]
    link = links.decode(spec, {"epochs": "50"},
                        caps=lambda field: 5 if field.name == "epochs" else None)
    assert "epochs" not in link.changed and "limit" in link.notices[0]


# Run cards --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mlp", "gan"])
def test_the_cli_writes_a_run_card(name, tiny_data, capsys, tmp_path):
    spec = MODELS[name]
    config = tiny_config(spec, seed=5, **({"label_smoothing": 0.1} if name == "gan" else {}))
    comparison = launch(spec, [("A", [config])], tiny_data)
    [run_id] = comparison.run_ids
    assert cli(["card", run_id]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"# Run card: {spec.title}")
    assert "**seed:** 5" in text and "data:image/png;base64," in text
    assert f"python -m core.cli train {name} " in text and "--seed 5" in text
    assert "## Final figures" in text
    if name == "gan":   # the diff from the tutorial preset names the change
        assert "| label_smoothing | 0.0 | 0.1 |" in text
    assert cli(["card", run_id, "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["run"] == run_id and card["final"] and card["images"]["loss"]
    if name == "gan":
        assert card["images"]["samples"] and card["monitor"]
    written = tmp_path / "card"
    assert cli(["card", str(tmp_path / "missing"), "--out", str(written)]) == 1
    assert cli(["card", run_id, "--out", str(written)]) == 0
    assert (written / "card.md").read_text().count("loss.png") == 1
    assert (written / "loss.png").read_bytes()[:4] == b"\x89PNG"
    # The command reproduces the settings: its flags parse back to the same config.
    flags = card["command"].split(f"train {name}")[1].split()
    values = dict(zip([f[2:] for f in flags[::2]], flags[1::2]))
    assert from_dict(spec.config_cls, values) == config


def test_a_bad_run_reference_is_one_line(capsys):
    assert cli(["card", "not-a-run"]) == 1
    assert capsys.readouterr().err.startswith("error: not a run id")


def test_a_share_token_opens_only_its_finished_run(tiny_data):
    from core import runs
    spec = MODELS["mlp"]
    comparison = launch(spec, [("A", [tiny_config(spec)])], tiny_data)
    run = runs.get(comparison.run_ids[0])
    token = cards.share(run)
    assert len(token) >= 22 and cards.share(run) == token
    assert cards.find_shared(token).id == run.id
    assert cards.find_shared(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert cards.find_shared("../x") is None


# The pages (AppTest drives the real app script) --------------------------------------------------
def open_app(page: str, **params):
    from streamlit.testing.v1 import AppTest
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params.update(params)
    app.run()
    switch_to(app, page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_the_compare_page_opens_a_comparison(tiny_data):
    spec = MODELS["mlp"]
    arms = compare.plan_ab(spec, tiny_config(spec), tiny_config(spec, label_smoothing=0.1), 2)
    comparison = launch(spec, arms, tiny_data)
    app = open_app("compare", comparison=comparison.id)
    assert app.title[0].value == "Compare"
    verdicts = [box.value for box in list(app.info) + list(app.success)]
    assert any("Verdict:" in text for text in verdicts), verdicts
    table = app.dataframe[0].value
    assert list(table["arm"]) == ["A", "B"]
    assert "label_smoothing=0.1" in table["settings"][1]
    assert len(app.get("plotly_chart")) >= 2      # the loss and accuracy bands
    # A link to a comparison that is not there: a message, not a crash.
    app = open_app("compare", comparison="0123456789abcdef")
    assert any("not on this server" in w.value for w in app.warning)


def test_compare_with_from_a_model_page_queues_a_and_b_on_the_same_seeds():
    app = open_app("softmax")
    app.slider(key="softmax.field.epochs").set_value(1).run()
    next(b for b in app.button if b.label == "Use these settings as A").click().run()
    app.select_slider(key="softmax.field.batch_size").set_value(256).run()
    app.slider(key="softmax.compare.seeds").set_value(2).run()
    next(b for b in app.button if b.label == "Train A and B (4 runs)").click().run()
    assert not app.exception, [e.value for e in app.exception]
    [comparison] = compare.list_comparisons()
    assert comparison.fields == ["batch_size"] and comparison.seeds == [0, 1]
    assert [arm["config"]["batch_size"] for arm in comparison.arms] == [20, 256]
    assert app.title[0].value == "Compare"      # it switched to the Compare page
    from core.jobs import manager
    for run_id in comparison.run_ids:
        job = manager().active_for_run(run_id)
        if job:
            manager().stop(job.id)


def test_a_link_sets_the_page_and_a_bad_value_is_refused_with_a_message():
    app = open_app("cnn", preset="recommended", learning_rate="0.0005", epochs="4",
                   kernel_size="4", batch_size="-5", bogus="1")
    # The form differs from the preset now, so its box says Custom; the link still names the
    # preset the settings start from.
    from ui.forms import CUSTOM
    assert app.selectbox(key="cnn.preset").value == CUSTOM
    assert app.session_state["cnn.preset_base"].lower().startswith("recommended")
    assert app.select_slider(key="cnn.field.learning_rate").value == 0.0005
    assert app.slider(key="cnn.field.epochs").value == 4
    warning = " ".join(w.value for w in app.warning)
    for name in ("kernel_size", "batch_size", "bogus"):
        assert name in warning
    # The URL now says what the form shows (the refused values are gone from it).
    params = {k: v[-1] if isinstance(v, list) else v for k, v in app.query_params.items()}
    assert params["learning_rate"] == "0.0005" and params["epochs"] == "4"
    assert params["preset"].startswith("recommended")
    assert "bogus" not in app.query_params and "batch_size" not in app.query_params


def test_the_runs_page_shows_a_card_and_compares_picked_runs(tiny_data):
    spec = MODELS["mlp"]
    arms = compare.plan_ab(spec, tiny_config(spec), tiny_config(spec, epochs=2), 1)
    made = launch(spec, arms, tiny_data)
    app = open_app("runs")
    app.toggle(key="runs.card.show").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(d.label.startswith("Download card (Markdown)") for d in app.get("download_button"))
    app.multiselect(key="runs.compare.pick").set_value(made.run_ids).run()
    next(b for b in app.button if b.label == "Compare them").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == "Compare"
    assert len(compare.list_comparisons()) == 2


def test_a_sweep_queued_from_the_page_shows_a_heatmap(tiny_data):
    app = open_app("softmax")
    app.slider(key="softmax.field.epochs").set_value(1).run()
    app.text_input(key="softmax.sweep.values1").set_value("0.001, 0.01").run()
    app.selectbox(key="softmax.sweep.field1").set_value("learning_rate").run()
    next(b for b in app.button if b.label == "Queue the sweep").click().run()
    assert not app.exception, [e.value for e in app.exception]
    [queued] = compare.list_comparisons()
    assert queued.kind == "sweep" and [a["label"] for a in queued.arms] == [
        "learning_rate=0.001", "learning_rate=0.01"]
    from core.jobs import manager
    for run_id in queued.run_ids:
        job = manager().active_for_run(run_id)
        if job:
            manager().wait(job, timeout=120)
    app = open_app("compare", comparison=queued.id)
    charts = app.get("plotly_chart")
    assert any('"type":"heatmap"' in chart.proto.spec.replace(" ", "") for chart in charts)


def test_a_share_link_shows_the_card_and_no_controls(tiny_data):
    from core import runs
    spec = MODELS["mlp"]
    comparison = launch(spec, [("A", [tiny_config(spec)])], tiny_data)
    token = cards.share(runs.get(comparison.run_ids[0]))
    app = open_app("runs", share=token)
    assert any(comparison.run_ids[0] in m.value for m in app.markdown)
    labels = [b.label for b in app.button]
    assert "Open on its page" not in labels and "Delete" not in labels
    assert [d.label for d in app.get("download_button")] == ["Download card (Markdown)",
                                                             "Download card (JSON)"]
    app = open_app("runs", share="x" * 22)
    assert any("does not open a run" in w.value for w in app.warning)


def test_a_link_selects_the_language_models_corpus():
    app = open_app("language-model", corpus="en-fortunes", hidden_size="64")
    assert app.selectbox(key="lm.corpus").value == "en-fortunes"
    assert app.session_state["lm.field.hidden_size"] == 64


def test_a_card_s_command_line_keeps_a_value_with_a_space_as_one_argument():
    import shlex
    from core.cards import cli_command
    spec = MODELS["cyclegan"]
    config = dataclasses.asdict(spec.config_cls(domain_a="Ankle boot", domain_b="Sneaker"))
    words = shlex.split(cli_command(spec, config))
    assert words[words.index("--domain_a") + 1] == "Ankle boot"


def test_on_a_demo_another_visitor_s_comparison_opens_read_only(tiny_data, monkeypatch):
    """A comparison link shows its runs' cards, never the controls of the owner's jobs."""
    from core import demo, jobs
    spec = MODELS["mlp"]
    comparison = launch(spec, [("A", [tiny_config(spec)])], tiny_data)
    comparison.owner = "the-owner"
    comparison.save()
    monkeypatch.setattr(jobs, "_manager", jobs.JobManager(limits=demo.Limits(enabled=True)))
    app = open_app("compare", comparison=comparison.id)
    assert not [b for b in app.button if b.label == "Open on its page"]
    assert any("Another visitor's comparison" in c.value for c in app.caption)
    monkeypatch.setattr(jobs, "_manager", jobs.JobManager())      # off the demo: the controls
    app = open_app("compare", comparison=comparison.id)
    assert [b for b in app.button if b.label == "Open on its page"]
