"""MODELS: one explicit dict from name to ModelSpec (no registration as an import side effect),
and the one way to rebuild a trained model from a checkpoint."""
from __future__ import annotations

import torch

from core.config import from_dict
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
        raise KeyError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
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
