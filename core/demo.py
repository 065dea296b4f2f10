"""Hosted-demo mode: one small CPU box, many strangers.

Turn it on with the environment variable ``DLSTUDIO_DEMO=1`` (on Streamlit Community Cloud, a
root-level secret ``DLSTUDIO_DEMO = "1"``: Streamlit exports those as environment variables).
Then:

- every job has a wall-clock cap (``max_seconds``) and at most ``max_epochs`` epochs;
- model widths (hidden sizes, channels, ngf/ndf, embeddings: the config fields declared with
  ``size="width"``) are capped at ``max_width``, depths (``size="depth"``) at ``max_depth``;
- uploads over ``max_upload_mb`` are refused;
- ``max_jobs`` train at once (default 1) and each visitor may have ``max_per_visitor`` job
  queued or running (default 1);
- a job whose visitor has not been seen for ``abandon_after_s`` (the tab was closed) is stopped;
- a visitor sees only their own runs (plus the shipped checkpoints).

Every cap can be overridden by ``DLSTUDIO_DEMO_<NAME>`` (e.g. ``DLSTUDIO_DEMO_MAX_SECONDS=600``).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any
from dataclasses import dataclass

from core.config import ConfigError
from core.i18n import _


class LimitError(ValueError):
    """A request over one of the demo's caps; str(error) says which and what to do."""


@dataclass(frozen=True)
class Limits:
    enabled: bool = False
    max_seconds: float = 300.0        # wall-clock budget of one job
    max_epochs: int = 5
    max_width: int = 512
    max_depth: int = 3
    max_upload_mb: int = 20
    max_jobs: int = 1
    max_per_visitor: int = 1
    abandon_after_s: float = 90.0


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def from_environment(environ=None) -> Limits:
    """Limits from DLSTUDIO_DEMO and the DLSTUDIO_DEMO_<FIELD> overrides."""
    environ = os.environ if environ is None else environ
    if not _truthy(environ.get("DLSTUDIO_DEMO")):
        return Limits(enabled=False)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Limits):
        if field.name == "enabled":
            continue
        raw = environ.get(f"DLSTUDIO_DEMO_{field.name.upper()}")
        if raw is not None:
            kind = float if isinstance(field.default, float) else int
            try:
                values[field.name] = kind(raw)
            except ValueError:
                raise ConfigError(_("{name} must be a number; got {value!r}").format(
                    name=f"DLSTUDIO_DEMO_{field.name.upper()}", value=raw)) from None
    return Limits(enabled=True, **values)


def field_cap(limits: Limits, field: dataclasses.Field) -> float | None:
    """The demo's upper bound for a config field, or None. A field says whether it sets a
    network's width or depth where it is declared (``param(..., size=...)``)."""
    if not limits.enabled:
        return None
    size = field.metadata.get("size")
    if size == "width":
        return limits.max_width
    if size == "depth":
        return limits.max_depth
    if field.name == "epochs":
        return limits.max_epochs
    if field.name == "time_budget_s":
        return limits.max_seconds
    return None


def apply(limits: Limits, config):
    """Check ``config`` against the caps (LimitError) and give it the demo's time budget."""
    if not limits.enabled:
        return config
    for field in dataclasses.fields(config):
        cap = field_cap(limits, field)
        value = getattr(config, field.name)
        if cap is None or field.name == "time_budget_s" or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and value > cap:
            raise LimitError(_("{name} = {value} is over this demo's limit of {cap:g}; run DL "
                               "Studio on your own machine for bigger models (see README)").format(
                                   name=field.name, value=value, cap=cap))
    budget = config.time_budget_s
    budget = limits.max_seconds if not budget else min(budget, limits.max_seconds)
    return dataclasses.replace(config, time_budget_s=float(budget))
