"""ModelSpec: everything the loop, the pages, the CLI, the judge and the benches ask of a model.

Nothing outside a model's own file (and its page panel in ``ui/``) names a particular model: code
that needs something model-specific asks the spec. See the README's "Adding a model".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal, NotRequired, Protocol, TypedDict

import torch
from torch import nn


@dataclass(frozen=True)
class Reference:
    """A published or measured figure to draw beside a learner's run."""
    label: str
    value: float
    source: str


@dataclass(frozen=True)
class Paper:
    """Where a model comes from, for the history table (``core/history.py``)."""
    year: int          # the year it was first posted (arXiv), as the papers are cited
    cite: str          # "Radford et al. 2015, arXiv:1511.06434"
    fixed: str         # what it fixed or added over the models before it, in one line
    baseline: bool = False   # the bar the later GANs are measured against (the DCGAN)


FamilyName = Literal["classification", "gan", "translation", "language_model"]
FAMILIES: tuple[FamilyName, ...] = ("classification", "gan", "translation", "language_model")


class Trainer(Protocol):
    """What the loop and the checkpoints ask of every family's trainer (the networks, their
    optimizers and the step live behind it)."""
    device: torch.device

    def parameters(self) -> Iterable[nn.Parameter]: ...
    def set_progress(self, progress: float) -> float: ...     # the schedule; returns the lr
    def state(self) -> dict: ...                              # what a checkpoint stores
    def load_state(self, payload: dict, with_optimizer: bool = True) -> None: ...


class Task(Protocol):
    """What the training loop (``core.training.train``) drives: one family's way to train.

    ``count`` rows are shuffled each epoch and cut into batches of indices; ``step`` trains on
    one batch and returns its loss for the divergence check.
    """
    @property
    def trainer(self) -> Trainer: ...
    count: int                   # rows in one epoch (images, or a language model's windows)
    divergence_loss: float       # a loss above this (or NaN/inf) means the run diverged
    speed_name: str              # e.g. "speed/images_per_s"
    items_per_row: int           # items a row counts for in that speed (tokens per window)

    def step(self, index: torch.Tensor) -> float: ...
    def window_metrics(self) -> dict[str, float]: ...
    def extra_events(self, step: int, epoch_end: bool) -> list: ...
    def epoch_end(self, step: int, epoch: int, is_last: bool) -> dict[str, float]: ...
    def finish(self, step: int) -> tuple[dict[str, float], dict, bool]: ...


@dataclass(frozen=True)
class ModelSpec:
    """A model as the rest of the system sees it.

    ``family`` is the kind of training (classification, gan, language_model): it picks the
    default page and how runs are listed. Everything a particular model does differently lives in
    its own objects: its config class, its network builder, its ``make_task`` and ``restore``
    (usually its family's), its GAN trainer class, its health rules, its page panel and where its
    page sits in the menu (``section``, ``icon``, ``url_path``).

    Its texts (``title``, ``summary``, ``menu_title``, ``section``, the presets' names, a
    ``Paper``'s and a ``Reference``'s words) are English, marked with ``N_()`` where the model
    declares them; the pages show them through ``_()`` (``core/i18n.py``). A preset's name stays
    its key (links name it) in every language.
    """
    name: str                                   # registry key and CLI name
    title: str                                  # page title
    config_cls: type                            # dataclass extending BaseConfig
    build_network: Callable[..., Any]           # (config, image_shape, ...) -> module(s)
    summary: str                                # one paragraph for the page
    make_task: Callable[..., Task]              # (spec, config, data, device) -> Task
    restore: Callable[..., Any]                 # (spec, config, payload, device) -> ready model
    evaluate: Callable[..., dict]               # (model, data) -> the figures name=value
    family: FamilyName = "classification"       # the kind of training: one of FAMILIES
    presets: dict[str, dict] = field(default_factory=dict)  # name -> field values
    references: tuple[Reference, ...] = ()
    load_data: Callable | None = None           # (config) -> data; None: the image dataset
    trainer: type | None = None                 # GANs: the trainer class with its own step
    health: Any = None                          # GANs: the monitor's rules (diagnostics.GANHealth)
    panel: str = ""                             # "ui.module:Class": the page, when not the family's
    snapshot_every_steps: int = 0               # keep snapshots to restart from (GAN remedies)
    # Figures of a trained model that depend only on its weights and that its page shows:
    # name -> (model, judge, data) -> plain data. ``core.cli evaluate --store`` measures them
    # once and stores them in the checkpoint (``core/figures.py``); the page reads them back.
    figures: dict[str, Callable[..., Any]] = field(default_factory=dict)
    family_figures: dict[str, Callable[..., Any]] = field(default_factory=dict)  # every GAN's
    paper: Paper | None = None                  # the GAN history table: year, citation, the fix
    # Its own measure in one line, from its ``evaluate`` figures (the history table's last column).
    headline: Callable[[dict], str] | None = None
    # Its page in the app's menu (``ui/navigation.py`` builds the menu from the specs):
    section: str = ""                           # the menu's heading: "Classifiers", "GANs", …
    icon: str = ""                              # ":material/<name>:"
    url_path: str = ""                          # the page's address: /<url_path>
    menu_title: str = ""                        # the menu's label, when shorter than ``title``

    def page_figures(self) -> dict[str, Callable[..., Any]]:
        """Every figure ``evaluate --store`` keeps in a checkpoint: the family's and its own."""
        return {**self.family_figures, **self.figures}


class Family(TypedDict):
    """What a model's spec takes from its family's module: ``ModelSpec(..., **FAMILY)``."""
    family: FamilyName
    make_task: Callable[..., Task]
    restore: Callable[..., Any]
    evaluate: Callable[..., dict]
    snapshot_every_steps: NotRequired[int]
    family_figures: NotRequired[dict[str, Callable[..., Any]]]


def count_parameters(*networks: nn.Module) -> int:
    return sum(p.numel() for network in networks for p in network.parameters())
