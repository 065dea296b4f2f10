"""Figures stored with a checkpoint: measured once by `evaluate --store`, read back without
measuring, dropped when the weights change."""
import dataclasses

import torch

from core import checkpoints, cli, figures, training
from core.registry import MODELS
from tests.conftest import tiny_config


def trained_checkpoint(tmp_path, tiny_data, name="mlp"):
    spec = MODELS[name]
    events = list(training.train(spec, tiny_config(spec), tiny_data, checkpoint_dir=tmp_path))
    assert isinstance(events[-1], training.Finished)
    return tmp_path / "last.pt"


def counting_spec(monkeypatch, name="mlp"):
    """The model's spec with its evaluate and one page figure counted (the real evaluate runs)."""
    spec, calls = MODELS[name], {"evaluate": 0, "probe": 0}

    def evaluate(model, data):
        calls["evaluate"] += 1
        return spec.evaluate(model, data)

    def probe(model, judge, data):
        calls["probe"] += 1
        return {"mean weight": float(next(model.parameters()).detach().float().mean()),
                "rows": [1, 2, 3]}
    monkeypatch.setitem(MODELS, name, dataclasses.replace(spec, evaluate=evaluate,
                                                          figures={"probe": probe}))
    return calls


def test_store_then_read_back_without_measuring(tmp_path, tiny_data, monkeypatch):
    path = trained_checkpoint(tmp_path, tiny_data)
    calls = counting_spec(monkeypatch)
    monkeypatch.setattr(cli, "load_data", lambda spec, config: tiny_data)
    measured = cli.evaluate_checkpoint(str(path), store=True)
    assert calls == {"evaluate": 1, "probe": 1}
    again = cli.evaluate_checkpoint(str(path))
    assert again == measured and calls == {"evaluate": 1, "probe": 1}     # read, not measured
    payload = checkpoints.load(path)
    assert figures.stored(payload, "probe")["rows"] == [1, 2, 3]
    cli.evaluate_checkpoint(str(path), recompute=True)
    assert calls["evaluate"] == 2


def test_store_again_measures_only_the_figures_not_yet_stored(tmp_path, tiny_data, monkeypatch):
    path = trained_checkpoint(tmp_path, tiny_data)
    calls = counting_spec(monkeypatch)
    monkeypatch.setattr(cli, "load_data", lambda spec, config: tiny_data)
    cli.evaluate_checkpoint(str(path), store=True)
    spec = MODELS["mlp"]
    added = {"count": 0}

    def newer(model, judge, data):
        added["count"] += 1
        return [4, 5]
    monkeypatch.setitem(MODELS, "mlp", dataclasses.replace(spec, figures={**spec.figures,
                                                                          "newer": newer}))
    cli.evaluate_checkpoint(str(path), store=True)
    assert calls == {"evaluate": 1, "probe": 1} and added["count"] == 1
    payload = checkpoints.load(path)
    assert figures.stored(payload, "newer") == [4, 5] and figures.stored(payload, "probe")


def test_every_shipped_gan_has_d_scores_stored_with_its_weights():
    """The Inside panel a GAN page opens on reads D's histogram from the checkpoint."""
    from core.paths import shipped_checkpoint
    for name, spec in MODELS.items():
        if spec.family != "gan" or not shipped_checkpoint(name).exists():
            continue
        scores = figures.stored(checkpoints.load(shipped_checkpoint(name)), "d_scores")
        assert scores is not None, f"{name}: python -m core.cli evaluate checkpoints/{name}.pt --store"
        assert len(scores["real"]) == len(scores["fake"]) == 512


def test_a_changed_weight_invalidates_the_stored_figures(tmp_path, tiny_data, monkeypatch):
    path = trained_checkpoint(tmp_path, tiny_data)
    counting_spec(monkeypatch)
    monkeypatch.setattr(cli, "load_data", lambda spec, config: tiny_data)
    cli.evaluate_checkpoint(str(path), store=True)
    payload = checkpoints.load(path)
    assert figures.stored(payload, figures.EVALUATE) is not None
    network = payload["state_dict"]["network"]
    name = next(iter(network))
    network[name] = network[name] + 1e-3
    assert figures.stored(payload, figures.EVALUATE) is None
    assert figures.stored(payload, "probe") is None
    checkpoints.save(path, {k: v for k, v in payload.items() if k != "format_version"})
    calls = counting_spec(monkeypatch)
    cli.evaluate_checkpoint(str(path))
    assert calls["evaluate"] == 1                                   # measured again


def test_attaching_keeps_figures_of_the_same_weights_only():
    payload = {"state_dict": {"network": {"w": torch.ones(3)}}, "config": {"a": 1}}
    first = figures.attach(payload, {"x": 1})
    second = figures.attach(first, {"y": 2})
    assert figures.stored(second, "x") == 1 and figures.stored(second, "y") == 2
    changed = {**second, "state_dict": {"network": {"w": torch.zeros(3)}}}
    assert figures.attach(changed, {"z": 3})["figures"].keys() == {"z", "weights"}
    assert figures.plain({"t": torch.arange(3), "n": [torch.tensor(1.5)]}) == \
        {"t": [0, 1, 2], "n": [1.5]}


def test_stored_figures_survive_loading_with_weights_only(tmp_path):
    payload = figures.attach({"model": "mlp", "config": {}, "step": 1,
                              "state_dict": {"network": {"w": torch.ones(2)}}},
                             {"curve": [{"psi": 0.5, "fd": 3.2}], "evaluate": {"a": 0.5}})
    path = checkpoints.save(tmp_path / "x.pt", payload)
    loaded = checkpoints.load(path)
    assert figures.stored(loaded, "curve") == [{"psi": 0.5, "fd": 3.2}]
