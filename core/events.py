"""The events the training loop yields; the UI, the CLI, the run store and the policies read them."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Started:
    total_steps: int
    steps_per_epoch: int
    start_step: int
    device: str
    parameters: int


@dataclass
class Metrics:
    step: int
    epoch: float
    values: dict[str, float]
    elapsed: float
    kind: str = "window"     # window (recent steps) | evaluation (an epoch's end) | final


@dataclass
class Samples:
    """A grid of generated images (uint8, (N, C, H, W)) from the fixed noise, for GAN pages."""
    step: int
    images: torch.Tensor = field(repr=False)


@dataclass
class Checkpointed:
    step: int
    path: str
    is_snapshot: bool = False   # a copy kept under snapshots/ (the GAN remedies restart from one)
    is_epoch_end: bool = False


@dataclass
class Finished:
    step: int
    values: dict[str, float]
    evaluation: dict = field(repr=False, default_factory=dict)
    path: str = ""


@dataclass
class Stopped:
    step: int
    path: str
    reason: str = "stopped by the user"


@dataclass
class Failed:
    step: int
    message: str
    path: str = ""


Event = Started | Metrics | Samples | Checkpointed | Finished | Stopped | Failed
