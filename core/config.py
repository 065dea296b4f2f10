"""Typed training configs. The UI form and the CLI flags are both generated from the fields.

Each field carries its limits and help text in ``metadata`` (see ``param``), so a
hyper-parameter is declared once and validated the same way everywhere.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from core.i18n import N_, _


class ConfigError(ValueError):
    """A configuration value is out of range or of the wrong type."""


# The learning rates worth offering for each optimizer (the form's slider spans these; the config
# itself takes a wider range, from the CLI too). SGD keeps 10 for the divergence demo (README:
# "try SGD with lr 10"); Adam's steps are scaled per weight, so above 1e-2 it mostly diverges.
LR_RANGES: dict[str, tuple[float, float]] = {"sgd": (1e-4, 10.0), "adam": (1e-5, 1e-2)}


def param(default: Any, help: str, *, low: float | None = None, high: float | None = None,
          choices: tuple | None = None, log: bool = False, label: str | None = None,
          advanced: bool = False, hidden: bool = False, zero_means: str | None = None,
          size: str | None = None):
    """A config field with its help text and valid range (used by the form, the CLI and validate).

    ``log``: a positive value on a log scale (learning rates: the form's slider steps through a
    log grid); ``zero_means``: how the form shows a 0 (e.g. "off"); ``size``: "width" or "depth"
    when the field sets how big a network is (the hosted demo caps those).
    """
    return field(default=default, metadata={
        "help": help, "low": low, "high": high, "choices": choices, "log": log,
        "label": label, "advanced": advanced, "hidden": hidden, "zero_means": zero_means,
        "size": size})


@dataclass
class BaseConfig:
    """Settings every model's training has (all under "Advanced" in the UI)."""
    lr_schedule: str = param("constant", "learning-rate schedule over the run",
                             choices=("constant", "cosine", "onecycle"), advanced=True,
                             label=N_("learning-rate schedule"))
    train_subset: int = param(0, "use only the first N training images (0 = all 60,000)",
                              low=0, high=60000, advanced=True,
                              label=N_("training images (0 = all)"))
    time_budget_s: float = param(0.0, "stop after this many seconds; the schedule follows the "
                                 "budget (0 = no limit)", low=0.0, high=86400.0, advanced=True,
                                 label=N_("time budget (seconds)"))
    log_every_steps: int = param(10, "record training metrics every N steps", low=1, high=10000,
                                 advanced=True, label=N_("record metrics every N steps"))
    seed: int = param(0, "random seed for weights and batch order", low=0, high=2**31 - 1,
                      advanced=True, label=N_("random seed"))

    @classmethod
    def upgrade(cls, values: dict) -> dict:
        """Values saved by an earlier version of this config, in today's terms (a checkpoint's
        config goes through this before it is built). Subclasses map renamed or retyped fields."""
        return values

    def check(self) -> None:
        """Rules that tie fields together; raise ConfigError. None by default."""


@dataclass
class TrainConfig(BaseConfig):
    """A classifier's training settings; each model's config extends it with its own knobs."""
    learning_rate: float = param(1e-3, "step size of the optimizer (the tutorial's lr). The "
                                 "slider offers Adam 1e-5 to 1e-2 and SGD 1e-4 to 10 (SGD above "
                                 "about 1 diverges: a demo)",
                                 low=1e-6, high=10.0, log=True, label=N_("learning rate (lr)"))
    batch_size: int = param(100, "images per optimisation step (the tutorial's batch_size)",
                            low=1, high=4096, label=N_("batch size"))
    epochs: int = param(2, "passes over the training set", low=1, high=200)
    optimizer: str = param("adam", "SGD as in the softmax script, Adam as in the MLP/CNN scripts",
                           choices=("sgd", "adam"))
    momentum: float = param(0.0, "SGD momentum μ, in Nesterov's form: the step follows a running "
                            "sum of past gradients (v = μ·v + g) and looks ahead along it (the "
                            "weights move by −lr·(g + μ·v)); 0 = plain SGD. Ignored by Adam, "
                            "which keeps its own running averages", low=0.0, high=0.999,
                            advanced=True)
    weight_decay: float = param(0.0, "weight decay wd. With SGD it is an L2 penalty: wd·w is added "
                                "to each gradient. With Adam it is AdamW's decoupled decay "
                                "(Loshchilov & Hutter 2019): each step also shrinks every weight "
                                "by lr·wd·w, apart from Adam's per-weight scaling, which an L2 "
                                "penalty would go through", low=0.0, high=0.1, advanced=True)
    augment: bool = param(False, "random 2-pixel shifts and horizontal flips of training images",
                          advanced=True)
    label_smoothing: float = param(0.0, "cross-entropy label smoothing", low=0.0, high=0.5,
                                   advanced=True)
    eval_every_epochs: int = param(1, "test-set evaluation every N epochs", low=1, high=100,
                                   advanced=True, label=N_("test every N epochs"))


def field_info(config_cls) -> list[tuple[dataclasses.Field, dict]]:
    """The dataclass fields of a config class with their metadata."""
    return [(f, dict(f.metadata)) for f in dataclasses.fields(config_cls)]


def coerce(f: dataclasses.Field, value: Any) -> Any:
    """Convert ``value`` (a CLI string, a JSON value) to the field's type."""
    kind = f.type if isinstance(f.type, type) else {"int": int, "float": float, "str": str,
                                                     "bool": bool}[str(f.type)]
    if kind is bool:
        if isinstance(value, str):
            low = value.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ConfigError(_("{name}: expected true or false, got {value!r}").format(
                name=f.name, value=value))
        return bool(value)
    try:
        if kind is int:
            number = float(value)
            if number != int(number):
                raise ValueError
            return int(number)
        return kind(value)
    except (TypeError, ValueError, OverflowError):   # (int("1e400") overflows: inf)
        raise ConfigError(_("{name}: expected {kind}, got {value!r}").format(
            name=f.name, kind=kind.__name__, value=str(value)[:40])) from None


def validate(config) -> None:
    """Raise ConfigError with one clear line for the first out-of-range field."""
    for f, meta in field_info(type(config)):
        value = getattr(config, f.name)
        if meta.get("choices") and value not in meta["choices"]:
            raise ConfigError(_("{name} must be one of {choices}; got {value!r}").format(
                name=f.name, choices=", ".join(map(str, meta["choices"])), value=value))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if value != value:  # NaN
            raise ConfigError(_("{name} must be a number; got NaN").format(name=f.name))
        if value in (float("inf"), float("-inf")):
            raise ConfigError(_("{name} must be a finite number; got {value}").format(
                name=f.name, value=value))
        low, high = meta.get("low"), meta.get("high")
        if meta.get("log") and value <= 0:
            raise ConfigError(_("{name} must be > 0; got {value}").format(name=f.name, value=value))
        if low is not None and value < low:
            raise ConfigError(_("{name} must be >= {low}; got {value}").format(
                name=f.name, low=low, value=value))
        if high is not None and value > high:
            raise ConfigError(_("{name} must be <= {high}; got {value}").format(
                name=f.name, high=high, value=value))
    config.check()   # rules that tie fields together


def from_dict(config_cls, values: dict, *, strict: bool = True):
    """Build and validate a config from a dict (unknown keys raise when ``strict``)."""
    known = {f.name: f for f in dataclasses.fields(config_cls)}
    values = config_cls.upgrade(dict(values))
    unknown = set(values) - set(known)
    if unknown and strict:
        raise ConfigError(_("unknown setting(s) for {config}: {names}").format(
            config=config_cls.__name__, names=", ".join(sorted(unknown))))
    config = config_cls(**{k: coerce(known[k], v) for k, v in values.items() if k in known})
    validate(config)
    return config
