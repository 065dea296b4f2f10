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


Event = Started | Metrics | Checkpointed | Finished | Stopped | Failed

_prepared: dict[int, tuple] = {}


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


def checkpoint_payload(spec, config, trainer, step: int, epoch: float, history: list,
                       evaluation: dict | None = None) -> dict:
    payload = {"model": spec.name, "config": dataclasses.asdict(config), "step": step,
               "epoch": epoch, "metrics": history, **trainer.state()}
    if evaluation:
        payload["evaluation"] = evaluation
    return payload


def train(spec, config, data, *, checkpoint_dir: str | Path | None = None,
          resume: dict | None = None, should_stop: Callable[[], bool] = lambda: False,
          device: torch.device | None = None, checkpoint_every_s: float = 60.0) -> Iterator[Event]:
    """Train ``spec``'s model on ``data`` and yield events as it goes.

    ``resume`` is a loaded checkpoint dict of the same model: the run continues at its step,
    with the same batch order. Checkpoints go to ``checkpoint_dir/last.pt`` at each evaluation,
    every ``checkpoint_every_s`` seconds, on Stop, and at the end; a NaN loss never overwrites one.
    """
    validate(config)
    trainer = build_trainer(spec, config, data, device)
    device = trainer.device
    train_x, train_y, test_x, test_y = prepare(data, device)
    if config.train_subset:
        train_x, train_y = train_x[:config.train_subset], train_y[:config.train_subset]
    count, num_classes = len(train_x), len(data.class_names)
    steps_per_epoch = math.ceil(count / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    # A loss that is NaN/inf, or 100x that of guessing uniformly (ln K), means the run diverged:
    # with ReLU nets a too-large lr often explodes to 1e15 long before it reaches NaN.
    divergence_loss = 100 * math.log(num_classes)
    history: list[list] = []  # [step, epoch, name, value] rows, carried inside checkpoints
    step = 0
    if resume is not None:
        trainer.load_state(resume)
        step = int(resume["step"])
        history = [list(row) for row in resume.get("metrics", [])]
    path = Path(checkpoint_dir) / "last.pt" if checkpoint_dir else None
    last_path = ""
    last_eval = None

    def save(epoch_float: float, evaluation: dict | None = None) -> str:
        if path is None:
            return ""
        checkpoints.save(path, checkpoint_payload(spec, config, trainer, step, epoch_float,
                                                  history, evaluation))
        return str(path)

    def record(values: dict, epoch_float: float) -> Metrics:
        history.extend([step, round(epoch_float, 4), name, float(value)]
                       for name, value in values.items())
        return Metrics(step, epoch_float, values, time.perf_counter() - started)

    yield Started(total_steps, steps_per_epoch, step,
                  str(device), sum(p.numel() for p in trainer.network.parameters()))
    started = last_save = time.perf_counter()
    if path is not None and not path.exists():
        last_path = save(step / steps_per_epoch)  # a good state to fall back on from step 0
    window_loss = 0.0
    is_scheduled = config.lr_schedule != "constant" or bool(config.time_budget_s)
    lr = trainer.set_progress(step / total_steps)
    window_correct = torch.zeros((), device=device, dtype=torch.long)
    window_seen, window_started, epoch_correct, epoch_seen = 0, started, 0, 0

    while step < total_steps:
        epoch, offset = divmod(step, steps_per_epoch)
        # A batch is an index slice of the shuffled order, gathered per step (cheaper than
        # gathering the whole epoch: that copies 188 MB for Fashion-MNIST).
        order = epoch_order(count, config.seed, epoch).to(device)
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
            images = train_x.index_select(0, index)
            loss, correct = trainer.train_step(images, train_y.index_select(0, index))
            loss_value = loss.item()
            if not math.isfinite(loss_value) or loss_value > divergence_loss:
                yield Failed(step + 1, f"diverged at step {step + 1} (loss {loss_value:.3g}) — "
                             "lower the learning rate", last_path)
                return
            step += 1
            window_loss += loss_value * len(images)
            window_correct += correct
            window_seen += len(images)
            # Record metrics every few steps (one host sync per window, not per step).
            if step % config.log_every_steps == 0 or batch_index == steps_per_epoch - 1:
                correct_count = int(window_correct.item())
                now = time.perf_counter()
                yield record({"loss/train": window_loss / window_seen,
                              "accuracy/train": correct_count / window_seen,
                              "lr": lr,
                              "speed/images_per_s": window_seen / max(now - window_started, 1e-9)},
                             step / steps_per_epoch)
                epoch_correct += correct_count
                epoch_seen += window_seen
                window_correct.zero_()
                window_loss, window_seen, window_started = 0.0, 0, now
            if checkpoint_every_s and time.perf_counter() - last_save > checkpoint_every_s:
                last_path, last_save = save(step / steps_per_epoch), time.perf_counter()
                yield Checkpointed(step, last_path)
        else:
            # End of an epoch: evaluate on the test set now and then, and checkpoint.
            epoch_number = step // steps_per_epoch
            if epoch_number % config.eval_every_epochs == 0 or step == total_steps:
                result = evaluate(trainer, test_x, test_y, num_classes)
                last_eval = (step, result)
                values = {"accuracy/test": result["accuracy"], "loss/test": result["loss"]}
                if epoch_seen:
                    values["accuracy/train_epoch"] = epoch_correct / epoch_seen
                yield record(values, float(epoch_number))
                last_path, last_save = save(float(epoch_number)), time.perf_counter()
                yield Checkpointed(step, last_path)
            epoch_correct = epoch_seen = 0
            continue
        break  # the time budget ran out inside an epoch

    # Finish: the full evaluation travels inside the final checkpoint, so loading it is instant.
    if last_eval is None or last_eval[0] != step:
        result = evaluate(trainer, test_x, test_y, num_classes)
        yield record({"accuracy/test": result["accuracy"], "loss/test": result["loss"]},
                     step / steps_per_epoch)
    else:
        result = last_eval[1]
    final = {"accuracy/test": result["accuracy"], "loss/test": result["loss"]}
    evaluation = {"confusion": result["confusion"], "predicted": result["predicted"]}
    yield Finished(step, final, evaluation, save(step / steps_per_epoch, evaluation))
