"""Training policies: the rules around the loop, kept out of its skeleton (as Lightning's callbacks).

``core.training.train`` calls each policy's hooks at fixed points of every step; a policy can end
the run (``loop.end``), finish it early with the final evaluation (``loop.finish``), steer the
learning-rate schedule (``progress``) or add events (a checkpoint, a snapshot). A policy that only
reads the events (the GAN family's ``KeepBest``) consumes the stream ``train`` yields instead.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

from core.events import Checkpointed, Failed, Stopped
from core.i18n import _


@dataclass
class Loop:
    """What the policies see of a run in progress, and what they can ask of it."""
    total_steps: int
    steps_per_epoch: int
    step: int
    save: Callable[[], str]              # write last.pt now; returns its path ("" without a folder)
    snapshot: Callable[[], str]          # copy the state to snapshots/step_N.pt; returns the path
    started: float = field(default_factory=time.perf_counter)
    saved_at: float = field(default_factory=time.perf_counter)   # when last.pt was last written
    last_path: str = ""                  # the last good checkpoint (kept when a run fails)
    end: Stopped | Failed | None = None  # set by a policy: the run ends with this event
    finish: bool = False                 # set by a policy: stop stepping, evaluate and finish

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def epoch(self) -> float:
        return self.step / self.steps_per_epoch


class Policy:
    """Hooks, each a no-op by default."""

    def progress(self, loop: Loop, progress: float) -> float:
        """The schedule's position in [0, 1] before a step (default: steps done / all steps)."""
        return progress

    def before_step(self, loop: Loop) -> None:
        """May set ``loop.end`` or ``loop.finish`` before the next step is taken."""

    def check_loss(self, loop: Loop, loss: float) -> None:
        """Sees each step's loss (before the step is counted); may set ``loop.end``."""

    def after_step(self, loop: Loop) -> list:
        """Events to add after a counted step (its metrics and samples are out already)."""
        return []


class StopFlag(Policy):
    """Stop within one step when ``should_stop()`` says so; the checkpoint is saved first."""

    def __init__(self, should_stop: Callable[[], bool]):
        self.should_stop = should_stop

    def before_step(self, loop: Loop) -> None:
        if self.should_stop():
            loop.end = Stopped(loop.step, loop.save())


class TimeBudget(Policy):
    """Finish after ``seconds`` of training; the learning-rate schedule follows the budget, so a
    cosine decay reaches its end when the time does."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def progress(self, loop: Loop, progress: float) -> float:
        return max(progress, loop.elapsed / self.seconds)

    def before_step(self, loop: Loop) -> None:
        if loop.elapsed >= self.seconds:
            loop.finish = True


class DivergenceGuard(Policy):
    """A loss that is NaN/inf, or above the task's limit, ends the run as failed; the last good
    checkpoint (never one of the diverged state) and the metrics so far are kept."""

    def __init__(self, limit: float):
        self.limit = limit

    def check_loss(self, loop: Loop, loss: float) -> None:
        if not math.isfinite(loss) or loss > self.limit:
            loop.end = Failed(loop.step + 1, _("diverged at step {step} (loss {loss:.3g}) — "
                                               "lower the learning rate").format(
                                                   step=loop.step + 1, loss=loss),
                              loop.last_path)


class Snapshots(Policy):
    """Every ``every`` steps, a copy of the state under snapshots/ (the newest ``keep`` kept): the
    GAN pages' remedies restart from the last one before a problem began."""

    def __init__(self, every: int):
        self.every = every

    def after_step(self, loop: Loop) -> list:
        if loop.step % self.every:
            return []
        return [Checkpointed(loop.step, loop.snapshot(), is_snapshot=True)]


class PeriodicCheckpoint(Policy):
    """Write last.pt every ``seconds`` of wall time between epoch ends."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def after_step(self, loop: Loop) -> list:
        if time.perf_counter() - loop.saved_at <= self.seconds:
            return []
        loop.last_path = loop.save()
        return [Checkpointed(loop.step, loop.last_path)]

