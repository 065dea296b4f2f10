"""The one training loop: ``train(...)`` yields events; the UI, the CLI and the tests drive it.

Events: Started, Metrics, Checkpointed, then exactly one of Finished, Stopped or Failed.
Data stays as whole tensors on the device; a batch is an index slice of a shuffled order.
The loop is the step/epoch skeleton; the rules around it (Stop, a time budget, divergence,
snapshots, periodic checkpoints) are policies (``core.policies``).
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Callable, Iterator

import torch

from core import checkpoints, distributed
from core.config import validate
from core.data import prepare  # noqa: F401  (re-exported: tests and benches read it here)
from core.device import configure
from core.events import (Checkpointed, Event, Failed, Finished, Metrics, Samples,  # noqa: F401
                         Started, Stopped)
from core.policies import (DivergenceGuard, Loop, PeriodicCheckpoint, Policy, Snapshots,
                           StopFlag, TimeBudget)


def epoch_order(count: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled order of one epoch; a function of (seed, epoch) so a resumed run repeats it."""
    return torch.randperm(count, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


def checkpoint_payload(spec, config, trainer, step: int, epoch: float, history: list,
                       evaluation: dict | None = None) -> dict:
    payload = {"model": spec.name, "config": dataclasses.asdict(config), "step": step,
               "epoch": epoch, "metrics": history, **trainer.state()}
    if evaluation:
        payload["evaluation"] = evaluation
    return payload


def train(spec, config, data, *, checkpoint_dir: str | Path | None = None,
          resume: dict | None = None, should_stop: Callable[[], bool] = lambda: False,
          device: torch.device | None = None, checkpoint_every_s: float = 60.0,
          snapshot_every_steps: int | None = None, keep_snapshots: int = 10,
          policies: tuple[Policy, ...] = (),
          parallel: distributed.Group | None = None) -> Iterator[Event]:
    """Train ``spec``'s model on ``data`` and yield events as it goes.

    ``resume`` is a loaded checkpoint dict of the same model: the run continues at its step,
    with the same batch order. Checkpoints go to ``checkpoint_dir/last.pt`` at each epoch end,
    every ``checkpoint_every_s`` seconds, on Stop, and at the end; a diverged step never
    overwrites one. Snapshots (``snapshot_every_steps``, by default the spec's) go to
    ``snapshots/step_N.pt``, the newest ``keep_snapshots`` kept. ``policies`` add to the default
    ones (Stop, the config's time budget, divergence, snapshots, periodic checkpoints).

    ``parallel`` (``core.distributed``): this is one of several data-parallel workers; each
    trains on its shard of every global batch of ``config.batch_size`` rows, gradients are
    averaged across them, and only the worker given a ``checkpoint_dir`` (rank 0) writes.
    """
    validate(config)
    task = spec.make_task(spec, config, data, device or configure())
    trainer = task.trainer
    steps_per_epoch = math.ceil(task.count / config.batch_size)
    if parallel is not None:
        steps_per_epoch = distributed.steps_per_epoch(task.count, config.batch_size, parallel)
    total_steps = steps_per_epoch * config.epochs
    history: list[list] = []  # [step, epoch, name, value] rows, carried inside checkpoints
    step = 0
    if resume is not None:
        trainer.load_state(resume)
        step = int(resume["step"])
        history = [list(row) for row in resume.get("metrics", [])]
    if parallel is not None:
        distributed.synchronize(trainer, parallel)
        distributed.seed_rank(config.seed + step, parallel)
    path = Path(checkpoint_dir) / "last.pt" if checkpoint_dir else None

    def save(evaluation: dict | None = None) -> str:
        if path is None:
            return ""
        checkpoints.save(path, checkpoint_payload(spec, config, trainer, loop.step, loop.epoch,
                                                  history, evaluation))
        loop.saved_at = time.perf_counter()
        return str(path)

    def save_snapshot() -> str:
        if path is None:
            return ""
        folder = path.parent / "snapshots"
        saved = checkpoints.save(folder / f"step_{loop.step:07d}.pt", checkpoint_payload(
            spec, config, trainer, loop.step, loop.epoch, history))
        for old in sorted(folder.glob("step_*.pt"))[:-keep_snapshots]:
            old.unlink(missing_ok=True)
        return str(saved)

    def record(values: dict, epoch_float: float, kind: str) -> Metrics:
        history.extend([loop.step, round(epoch_float, 4), name, float(value)]
                       for name, value in values.items())
        return Metrics(loop.step, epoch_float, values, loop.elapsed, kind)

    snapshot_every = spec.snapshot_every_steps if snapshot_every_steps is None \
        else snapshot_every_steps
    rules: list[Policy] = [StopFlag(should_stop), DivergenceGuard(task.divergence_loss)]
    if config.time_budget_s:
        rules.append(TimeBudget(config.time_budget_s))
    if snapshot_every and path is not None:
        rules.append(Snapshots(snapshot_every))
    if checkpoint_every_s:
        rules.append(PeriodicCheckpoint(checkpoint_every_s))
    rules.extend(policies)
    if parallel is not None:
        rules.append(distributed.Agreement(parallel))   # last: sees every rule's decision

    loop = Loop(total_steps, steps_per_epoch, step, save, save_snapshot)
    yield Started(total_steps, steps_per_epoch, step, str(trainer.device),
                  sum(p.numel() for p in trainer.parameters()))
    loop.started = loop.saved_at = window_started = time.perf_counter()
    if path is not None and not path.exists():
        loop.last_path = save()  # a good state to fall back on from step 0
    is_scheduled = config.lr_schedule != "constant" or bool(config.time_budget_s)
    lr = trainer.set_progress(step / total_steps)
    window_items = 0
    # Throughput in the task's unit: images per second, or tokens for a language model.
    speed_name, items_per_row = task.speed_name, task.items_per_row

    while loop.step < total_steps and not loop.finish:
        epoch, offset = divmod(loop.step, steps_per_epoch)
        # A batch is an index slice of the shuffled order, gathered per step (cheaper than
        # gathering the whole epoch: that copies 188 MB for Fashion-MNIST).
        order = epoch_order(task.count, config.seed, epoch).to(trainer.device)
        for batch_index in range(offset, steps_per_epoch):
            for rule in rules:
                rule.before_step(loop)
            if loop.end is not None:
                yield loop.end
                return
            if loop.finish:
                break
            if is_scheduled:
                progress = loop.step / total_steps
                for rule in rules:
                    progress = rule.progress(loop, progress)
                lr = trainer.set_progress(progress)
            # One optimisation step.
            index = order[batch_index * config.batch_size:(batch_index + 1) * config.batch_size]
            rows = len(index)
            if parallel is not None:
                index = distributed.shard(index, parallel)
            loss = task.step(index)
            if parallel is not None:   # every rank judges the same (global) loss
                loss = distributed.mean(loss, parallel)
            for rule in rules:
                rule.check_loss(loop, loss)
            if loop.end is not None:
                yield loop.end
                return
            loop.step += 1
            window_items += rows * items_per_row
            # Record metrics every few steps (one host sync per window, not per step).
            is_epoch_end = batch_index == steps_per_epoch - 1
            if loop.step % config.log_every_steps == 0 or is_epoch_end:
                now = time.perf_counter()
                values = task.window_metrics()
                if parallel is not None:
                    values = distributed.mean_values(values, parallel)
                values["lr"] = lr
                values[speed_name] = window_items / max(now - window_started, 1e-9)
                yield record(values, loop.epoch, "window")
                window_items, window_started = 0, now
            yield from task.extra_events(loop.step, is_epoch_end)
            for rule in rules:
                yield from rule.after_step(loop)
        else:
            # End of an epoch: evaluate now and then, and checkpoint.
            epoch_number = loop.step // steps_per_epoch
            values = task.epoch_end(loop.step, epoch_number, loop.step == total_steps)
            if values:
                yield record(values, float(epoch_number), "evaluation")
            loop.last_path = save()
            yield Checkpointed(loop.step, loop.last_path, is_epoch_end=True)

    # Finish: the full evaluation travels inside the final checkpoint, so loading it is instant.
    final, evaluation, is_new = task.finish(loop.step)
    if is_new:
        yield record(final, loop.epoch, "final")
    yield Finished(loop.step, final, evaluation, save(evaluation))
