"""ModelSpec: what the registry, the UI, the CLI and the engine need to know about a model."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from torch import nn


@dataclass(frozen=True)
class Reference:
    """A published or measured figure to draw beside a learner's run."""
    label: str
    value: float
    source: str


@dataclass(frozen=True)
class ModelSpec:
    name: str                                   # registry key and CLI name
    title: str                                  # page title
    config_cls: type                            # dataclass extending TrainConfig
    build_network: Callable[..., nn.Module]     # (config, image_shape, num_classes) -> nn.Module
    summary: str                                # one paragraph for the page
    presets: dict[str, dict] = field(default_factory=dict)  # name -> field values
    references: tuple[Reference, ...] = ()
    task: str = "classification"
    load_data: Callable | None = None           # (config) -> data; None: the image dataset
    trainer: Callable | None = None             # GANs: a GANTrainer subclass with its own step
