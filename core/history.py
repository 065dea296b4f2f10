"""The GAN history, measured: every shipped GAN on one protocol, sorted by the year of its paper.

The tutorial tells a history — each GAN after the DCGAN fixed something the ones before could not
do. This table lets a learner check whether the fixes paid off *here*: the figures come from each
shipped checkpoint's stored evaluation (``python -m core.cli evaluate FILE --store``: 10,000
samples judged by the shipped CNN, the Fréchet distance in its features at 32 px), its step
count and how it was trained (``trained``: device and wall time, written by ``--export``), and
the paper's own claim from the model's references (another dataset and size: context only).

Nothing here draws: ``ui`` renders the rows; ``generator_speed`` times a generator on this
machine on request.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core import checkpoints, figures
from core.i18n import _
from core.paths import ROOT, shipped_checkpoint

HISTORY_FAMILIES = ("gan", "translation")


@dataclass
class Row:
    """One shipped GAN. ``None`` = not measured for this model (or not applicable)."""
    name: str
    title: str
    year: int
    cite: str
    fixed: str
    steps: int
    generator_parameters: int
    trained_on: str | None = None          # "CPU: 2 threads ..." / "GPU: NVIDIA H200"
    wall_seconds: float | None = None      # the training run's wall time
    training_images_per_s: float | None = None
    classes: float | None = None           # classes covered of 10 (the CNN's verdicts)
    frechet_distance: float | None = None  # to training images, the project's protocol
    intended_class: float | None = None    # conditional GANs: share drawn in the class asked for
    own_figure: str | None = None          # translation models: their own measure, in words
    papers_claim: str = ""
    stored: bool = False                   # figures stored with these weights (else not measured)
    baseline: bool = False                 # the bar the later GANs are measured against
    notes: list[str] = field(default_factory=list)


def _generator_parameters(payload: dict) -> int:
    weights = payload.get("state_dict") or {}
    generator = weights.get("generator") or {}
    return int(sum(t.numel() for t in generator.values() if isinstance(t, torch.Tensor)))


def _last_speed(payload: dict) -> float | None:
    for row in reversed(payload.get("metrics") or []):
        if len(row) == 4 and row[2] == "speed/images_per_s":
            return float(row[3])
    return None


def row_for(spec, path: Path | None = None) -> Row | None:
    """The history row of ``spec``'s shipped checkpoint, or None when it has none (its texts
    in the current language)."""
    path = path or shipped_checkpoint(spec.name)
    if spec.paper is None or not path.exists():
        return None
    payload = checkpoints.load(str(path))
    values = figures.stored(payload, figures.EVALUATE) or {}
    trained = payload.get("trained") or {}
    row = Row(name=spec.name, title=spec.title, year=spec.paper.year, cite=spec.paper.cite,
              fixed=_(spec.paper.fixed), steps=int(payload.get("step", 0)),
              generator_parameters=_generator_parameters(payload),
              trained_on=trained.get("device"), wall_seconds=trained.get("seconds"),
              training_images_per_s=_last_speed(payload), stored=bool(values),
              papers_claim="; ".join(f"{_(r.label)} {r.value:g}" for r in spec.references),
              baseline=spec.paper.baseline)
    if values:
        row.classes = values.get("quality/covered")
        row.frechet_distance = values.get("quality/frechet_distance")
        row.intended_class = values.get("conditional/intended_accuracy")
        if spec.headline is not None:
            try:
                row.own_figure = spec.headline(values)
            except KeyError:     # figures stored by an older evaluate: no line rather than none
                row.own_figure = None
    else:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        row.notes.append(f"no stored figures: python -m core.cli evaluate {shown} --store")
    return row


def rows(specs) -> list[Row]:
    """Every shipped GAN of ``specs`` (the registry's values), oldest paper first."""
    found = [row_for(spec) for spec in specs
             if spec.family in HISTORY_FAMILIES and spec.paper is not None]
    return sorted((row for row in found if row is not None), key=lambda r: (r.year, r.title))


def baseline(found: list[Row]) -> Row | None:
    """The row the later GANs are measured against (the DCGAN), when it is shipped."""
    return next((row for row in found if row.baseline), None)


@torch.no_grad()
def generator_speed(spec, batch: int = 64, repeats: int = 3, device=None) -> float:
    """Images per second the shipped generator draws on this machine (batches of ``batch``;
    the best of ``repeats`` timed batches after one warm-up)."""
    from core.registry import load_model     # the one way to rebuild a model (no import cycle)
    model = load_model(checkpoints.load(str(shipped_checkpoint(spec.name))), device)
    if spec.family == "gan":
        def draw():
            return model.generate(model.noise(batch))
    else:
        source = torch.rand((batch, *model.image_shape))

        def draw():
            return model.translate(source)
    draw()
    best = float("inf")
    for _repeat in range(repeats):
        started = time.perf_counter()
        result = draw()
        if isinstance(result, torch.Tensor) and result.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return batch / best
