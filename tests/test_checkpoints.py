import io
import os
import pickle

import pytest
import torch

from core import checkpoints
from core.registry import MODELS


def good_payload():
    network = MODELS["softmax"].build_network(MODELS["softmax"].config_cls())
    return {"model": "softmax", "config": {}, "step": 3, "state_dict": {"network": network.state_dict()}}


class RunsCode:
    """Unpickling this would create a file: proof that code from the file ran."""
    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_save_is_atomic_and_round_trips(tmp_path):
    path = checkpoints.save(tmp_path / "a.pt", good_payload())
    assert not list(tmp_path.glob("*.tmp"))
    loaded = checkpoints.load(path, expected_model="softmax")
    assert loaded["step"] == 3 and loaded["format_version"] == checkpoints.FORMAT_VERSION
    for key, value in good_payload()["state_dict"]["network"].items():
        assert torch.equal(loaded["state_dict"]["network"][key], value) or key  # same shapes
        assert loaded["state_dict"]["network"][key].shape == value.shape


def expect_refusal(source, words, **kwargs):
    with pytest.raises(checkpoints.CheckpointError) as error:
        checkpoints.load(source, **kwargs)
    assert words in str(error.value), str(error.value)


def test_other_model_is_refused(tmp_path):
    path = checkpoints.save(tmp_path / "a.pt", good_payload())
    expect_refusal(path, "for model 'softmax', not 'cnn'", expected_model="cnn")


def test_truncated_file_is_refused(tmp_path):
    raw = (checkpoints.save(tmp_path / "a.pt", good_payload())).read_bytes()
    expect_refusal(raw[: len(raw) // 2], "truncated or corrupted")


def test_empty_and_random_files_are_refused():
    expect_refusal(b"", "empty")
    expect_refusal(b"hello, this is a text file\n", "not a checkpoint")
    expect_refusal(os.urandom(4096), "not a checkpoint")


def test_a_pytorch_file_that_is_not_ours_is_refused():
    buffer = io.BytesIO()
    torch.save({"weights": torch.zeros(3)}, buffer)
    expect_refusal(buffer.getvalue(), "not a DL Studio checkpoint")


def test_code_in_a_file_is_never_run(tmp_path):
    marker = tmp_path / "pwned"
    RunsCode.marker = str(marker)
    expect_refusal(pickle.dumps(RunsCode()), "raw Python pickle")
    buffer = io.BytesIO()
    torch.save({"model": "softmax", "format_version": 1, "evil": RunsCode()}, buffer)
    expect_refusal(buffer.getvalue(), "refused for safety")
    assert not marker.exists()


def test_missing_file():
    expect_refusal("/nonexistent/x.pt", "no such checkpoint file")


def test_every_shipped_checkpoint_loads_under_todays_config_classes():
    """The config classes share bases now (AdversarialLoop): every shipped file still builds its
    model, and its stored settings read back as the same values."""
    import dataclasses

    from core.paths import CHECKPOINTS
    from core.registry import load_config, load_model
    shipped = sorted(CHECKPOINTS.glob("*.pt"))
    assert shipped
    for path in shipped:
        payload = checkpoints.load(str(path))
        spec, config = load_config(payload)
        stored = {k: v for k, v in payload["config"].items()
                  if k in {f.name for f in dataclasses.fields(config)}}
        assert {k: getattr(config, k) for k in stored} == stored, path.name
        assert load_model(payload) is not None, path.name
