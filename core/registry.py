"""MODELS: one explicit dict from name to ModelSpec (no registration as an import side effect),
and the one way to rebuild a trained model from a checkpoint."""
from __future__ import annotations

import torch

from core.checkpoints import CheckpointError
from core.config import ConfigError, from_dict
from core.i18n import _
from core.models import cnn, lm, mlp, resnet, softmax
from core.models.gans import began, dcgan, gan, infogan
from core.models.gans import biggan, sagan
from core.models.gans import stylegan
from core.models.translation import cyclegan, pix2pix
from core.models.spec import ModelSpec

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in
                                (softmax.SPEC, mlp.SPEC, cnn.SPEC, resnet.SPEC,
                                 gan.SPEC, dcgan.SPEC, infogan.SPEC, began.SPEC,
                                 sagan.SPEC, biggan.SPEC,
                                 stylegan.SPEC,
                                 pix2pix.SPEC, cyclegan.SPEC,
                                 lm.SPEC)}
CLASSIFIERS = [name for name, spec in MODELS.items() if spec.family == "classification"]
GANS = [name for name, spec in MODELS.items() if spec.family == "gan"]


def get(name: str) -> ModelSpec:
    if name not in MODELS:
        raise KeyError(_("unknown model {name!r}; choose one of {models}").format(
            name=name, models=", ".join(MODELS)))
    return MODELS[name]


def load_config(payload: dict):
    """(spec, config) of a checkpoint; the config as today's code reads it (``upgrade``d)."""
    spec = get(payload["model"])
    return spec, from_dict(spec.config_cls, payload["config"], strict=False)


def load_model(payload: dict, device: torch.device | None = None):
    """The trained model a checkpoint holds, ready to use: a classifier, a GAN trainer (draws with
    ``generate``) or a language model. The pages, the CLI, ``--keep_best``, the judge's callers
    and the benches all rebuild models here."""
    spec, config = load_config(payload)
    return spec.restore(spec, config, payload, device)


def verified_model(payload: dict, device: torch.device | None = None):
    """The model an uploaded checkpoint holds, or CheckpointError saying why it cannot be used:
    settings outside the config's ranges, weights of another model or shape, a stored evaluation
    out of range. (``checkpoints.load`` has already refused what is not a checkpoint and tensors
    that would cost more memory than the file.)"""
    try:
        spec, config = load_config(payload)
    except (ConfigError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise CheckpointError(_("its settings are not valid: {error}").format(
            error=_first_line(error))) from None
    try:
        return spec.restore(spec, config, payload, device or torch.device("cpu"))
    except CheckpointError:
        raise
    except (RuntimeError, KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise CheckpointError(_("it does not fit a {model} with its own settings: {error}").format(
            model=_(spec.title), error=_first_line(error))) from None


def _first_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:200] + ("…" if len(text) > 200 else "")
