"""The one training loop: ``train(...)`` yields events; the UI, the CLI and the tests drive it.

Events: Started, Metrics, Checkpointed, then exactly one of Finished, Stopped or Failed.
Data stays as whole tensors on the device; a batch is an index slice of a shuffled order.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import torch

from core import checkpoints
from core.classification import ClassifierTrainer, evaluate
from core.config import validate
from core.device import configure


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


@dataclass
class Samples:
    """A grid of generated images (uint8, (N, C, H, W)) from the fixed noise, for GAN pages."""
    step: int
    images: torch.Tensor = field(repr=False)


@dataclass
class Checkpointed:
    step: int
    path: str


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

_prepared: dict[tuple, tuple] = {}


def prepare(data, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Float [0, 1] tensors on the device (as ToTensor gives), converted once per dataset."""
    key = (id(data), str(device))
    if key not in _prepared:
        to_float = lambda images: images.to(device).float().div_(255)
        _prepared.clear()  # keep at most one dataset converted
        _prepared[key] = (to_float(data.train_images), data.train_labels.to(device),
                          to_float(data.test_images), data.test_labels.to(device))
    return _prepared[key]


def epoch_order(count: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled order of one epoch; a function of (seed, epoch) so a resumed run repeats it."""
    return torch.randperm(count, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


def build_trainer(spec, config, data, device=None) -> ClassifierTrainer:
    device = device or configure()
    torch.manual_seed(config.seed)
    return ClassifierTrainer(spec, config, data.image_shape, len(data.class_names), device)


class ClassificationTask:
    """What the loop needs from a classifier: one step, window metrics, evaluation."""

    def __init__(self, spec, config, data, device):
        self.trainer = build_trainer(spec, config, data, device)
        self.train_x, self.train_y, self.test_x, self.test_y = prepare(data, self.trainer.device)
        if config.train_subset:
            self.train_x, self.train_y = (self.train_x[:config.train_subset],
                                          self.train_y[:config.train_subset])
        self.count = len(self.train_x)
        self.num_classes = len(data.class_names)
        # A loss that is NaN/inf, or 100x that of guessing uniformly (ln K), means the run
        # diverged: with ReLU nets a too-large lr often explodes to 1e15 long before NaN.
        self.divergence_loss = 100 * math.log(self.num_classes)
        self.eval_every_epochs = config.eval_every_epochs
        self._loss, self._correct, self._seen = 0.0, torch.zeros((), dtype=torch.long), 0
        self._epoch_correct = self._epoch_seen = 0
        self._last_eval: tuple[int, dict] | None = None

    def step(self, index: torch.Tensor) -> float:
        """One optimisation step on the rows ``index``; returns the loss for the divergence check."""
        loss, correct = self.trainer.train_step(self.train_x.index_select(0, index),
                                                self.train_y.index_select(0, index))
        loss_value = loss.item()
        self._loss += loss_value * len(index)
        self._correct += correct
        self._seen += len(index)
        return loss_value

    def window_metrics(self) -> dict[str, float]:
        correct = int(self._correct.item())
        values = {"loss/train": self._loss / self._seen, "accuracy/train": correct / self._seen}
        self._epoch_correct += correct
        self._epoch_seen += self._seen
        self._loss, self._seen = 0.0, 0
        self._correct.zero_()
        return values

    def extra_events(self, step: int, epoch_end: bool) -> list:
        return []

    def epoch_end(self, step: int, epoch: int, is_last: bool) -> dict[str, float]:
        """Test-set evaluation every few epochs (and after the last)."""
        values = {}
        if epoch % self.eval_every_epochs == 0 or is_last:
            result = evaluate(self.trainer, self.test_x, self.test_y, self.num_classes)
            self._last_eval = (step, result)
            values = {"accuracy/test": result["accuracy"], "loss/test": result["loss"]}
            if self._epoch_seen:
                values["accuracy/train_epoch"] = self._epoch_correct / self._epoch_seen
        self._epoch_correct = self._epoch_seen = 0
        return values

    def finish(self, step: int) -> tuple[dict[str, float], dict, bool]:
        """(final values, evaluation stored in the checkpoint, whether the values are new)."""
        is_new = self._last_eval is None or self._last_eval[0] != step
        result = evaluate(self.trainer, self.test_x, self.test_y, self.num_classes) \
            if is_new else self._last_eval[1]
        values = {"accuracy/test": result["accuracy"], "loss/test": result["loss"]}
        return values, {"confusion": result["confusion"], "predicted": result["predicted"]}, is_new


def make_task(spec, config, data, device=None):
    device = device or configure()
    if spec.task == "gan":
        from core.gan_task import GANTask  # GAN maths lives with the GAN models
        return GANTask(spec, config, data, device)
    if spec.task == "language_model":
        from core.lm_task import LMTask
        return LMTask(spec, config, data, device)
    return ClassificationTask(spec, config, data, device)


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
          snapshot_every_steps: int = 0, keep_snapshots: int = 10) -> Iterator[Event]:
    """Train ``spec``'s model on ``data`` and yield events as it goes.

    ``resume`` is a loaded checkpoint dict of the same model: the run continues at its step,
    with the same batch order. Checkpoints go to ``checkpoint_dir/last.pt`` at each epoch end,
    every ``checkpoint_every_s`` seconds, on Stop, and at the end; a diverged step never
    overwrites one. With ``snapshot_every_steps``, copies also go to ``snapshots/step_N.pt``
    (the newest ``keep_snapshots`` kept): the GAN pages restart from the last healthy one.
    """
    validate(config)
    task = make_task(spec, config, data, device)
    trainer, device = task.trainer, task.trainer.device
    steps_per_epoch = math.ceil(task.count / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    history: list[list] = []  # [step, epoch, name, value] rows, carried inside checkpoints
    step = 0
    if resume is not None:
        trainer.load_state(resume)
        step = int(resume["step"])
        history = [list(row) for row in resume.get("metrics", [])]
    path = Path(checkpoint_dir) / "last.pt" if checkpoint_dir else None
    last_path = ""

    def save(epoch_float: float, evaluation: dict | None = None) -> str:
        if path is None:
            return ""
        checkpoints.save(path, checkpoint_payload(spec, config, trainer, step, epoch_float,
                                                  history, evaluation))
        return str(path)

    def save_snapshot(epoch_float: float) -> str:
        folder = path.parent / "snapshots"
        saved = checkpoints.save(folder / f"step_{step:07d}.pt", checkpoint_payload(
            spec, config, trainer, step, epoch_float, history))
        for old in sorted(folder.glob("step_*.pt"))[:-keep_snapshots]:
            old.unlink(missing_ok=True)
        return str(saved)

    def record(values: dict, epoch_float: float) -> Metrics:
        history.extend([step, round(epoch_float, 4), name, float(value)]
                       for name, value in values.items())
        return Metrics(step, epoch_float, values, time.perf_counter() - started)

    yield Started(total_steps, steps_per_epoch, step, str(device),
                  sum(p.numel() for p in trainer.parameters()))
    started = last_save = window_started = time.perf_counter()
    if path is not None and not path.exists():
        last_path = save(step / steps_per_epoch)  # a good state to fall back on from step 0
    is_scheduled = config.lr_schedule != "constant" or bool(config.time_budget_s)
    lr = trainer.set_progress(step / total_steps)
    window_images = 0
    # Throughput in the task's unit: images per second, or tokens for a language model.
    speed_name = getattr(task, "speed_name", "speed/images_per_s")
    items_per_row = getattr(task, "items_per_row", 1)

    while step < total_steps:
        epoch, offset = divmod(step, steps_per_epoch)
        # A batch is an index slice of the shuffled order, gathered per step (cheaper than
        # gathering the whole epoch: that copies 188 MB for Fashion-MNIST).
        order = epoch_order(task.count, config.seed, epoch).to(device)
        for batch_index in range(offset, steps_per_epoch):
            if should_stop():
                yield Stopped(step, save(step / steps_per_epoch))
                return
            if is_scheduled:
                progress = step / total_steps
                if config.time_budget_s:
                    elapsed = time.perf_counter() - started
                    if elapsed >= config.time_budget_s:
                        break
                    progress = max(progress, elapsed / config.time_budget_s)
                lr = trainer.set_progress(progress)
            # One optimisation step.
            index = order[batch_index * config.batch_size:(batch_index + 1) * config.batch_size]
            loss_value = task.step(index)
            if not math.isfinite(loss_value) or loss_value > task.divergence_loss:
                yield Failed(step + 1, f"diverged at step {step + 1} (loss {loss_value:.3g}) — "
                             "lower the learning rate", last_path)
                return
            step += 1
            window_images += len(index) * items_per_row
            # Record metrics every few steps (one host sync per window, not per step).
            is_epoch_end = batch_index == steps_per_epoch - 1
            if step % config.log_every_steps == 0 or is_epoch_end:
                now = time.perf_counter()
                values = task.window_metrics()
                values["lr"] = lr
                values[speed_name] = window_images / max(now - window_started, 1e-9)
                yield record(values, step / steps_per_epoch)
                window_images, window_started = 0, now
            yield from task.extra_events(step, is_epoch_end)
            if snapshot_every_steps and path is not None and step % snapshot_every_steps == 0:
                yield Checkpointed(step, save_snapshot(step / steps_per_epoch))
            if checkpoint_every_s and time.perf_counter() - last_save > checkpoint_every_s:
                last_path, last_save = save(step / steps_per_epoch), time.perf_counter()
                yield Checkpointed(step, last_path)
        else:
            # End of an epoch: evaluate now and then, and checkpoint.
            epoch_number = step // steps_per_epoch
            values = task.epoch_end(step, epoch_number, step == total_steps)
            if values:
                yield record(values, float(epoch_number))
            last_path, last_save = save(float(epoch_number)), time.perf_counter()
            yield Checkpointed(step, last_path)
            continue
        break  # the time budget ran out inside an epoch

    # Finish: the full evaluation travels inside the final checkpoint, so loading it is instant.
    final, evaluation, is_new = task.finish(step)
    if is_new:
        yield record(final, step / steps_per_epoch)
    yield Finished(step, final, evaluation, save(step / steps_per_epoch, evaluation))
