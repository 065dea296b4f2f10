"""The classification family: cross-entropy training step, batched evaluation, augmentation, and
the task the training loop drives for softmax regression, the MLP, the CNN and the ResNet."""
from __future__ import annotations

import math
import re

import torch
from torch import nn
from torch.nn import functional as F

from core.data import prepare
from core.device import configure
from core.i18n import _
from core.optim import lr_factor, make_optimizer, set_learning_rates
from core.models.spec import Family


def augment(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random shifts of up to 2 pixels and horizontal flips, per image, as one batched gather."""
    batch, channels, height, width = images.shape
    device = images.device
    padded = F.pad(images, (2, 2, 2, 2))                                         # (B, C, H+4, W+4)
    offsets = torch.randint(0, 5, (2, batch), generator=generator).to(device)
    rows = offsets[0, :, None] + torch.arange(height, device=device)             # (B, H)
    cols = offsets[1, :, None] + torch.arange(width, device=device)              # (B, W)
    flip = torch.rand(batch, generator=generator).to(device) < 0.5
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    index = torch.arange(batch, device=device)[:, None, None]
    shifted = padded.permute(0, 2, 3, 1)[index, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return shifted.permute(0, 3, 1, 2).contiguous()                              # (B, C, H, W)


class ClassifierTrainer:
    """Holds the network and its optimizer; ``train_step`` is one optimisation step."""

    def __init__(self, spec, config, image_shape, num_classes: int, device: torch.device):
        self.config = config
        self.device = device
        self.image_shape, self.num_classes = tuple(image_shape), num_classes
        self.network: nn.Module = spec.build_network(config, image_shape, num_classes).to(device)
        # NHWC is 1.3-1.7x faster for these small convolutions on CPU (bench/ measures it).
        self.memory_format = (torch.channels_last if any(isinstance(m, nn.Conv2d)
                              for m in self.network.modules()) else torch.contiguous_format)
        self.network.to(memory_format=self.memory_format)
        self.optimizer = make_optimizer(config, self.network.parameters())
        self.base_lr = config.learning_rate
        self.generator = torch.Generator().manual_seed(config.seed + 1)

    def set_progress(self, progress: float) -> float:
        factor = lr_factor(self.config.lr_schedule, progress)
        set_learning_rates([(self.optimizer, self.base_lr)], factor)
        return self.base_lr * factor

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step; returns (loss, number of correct predictions) as tensors (no sync here)."""
        if not self.network.training:  # .train() walks every module: only when predict() left eval
            self.network.train()
        if self.config.augment:
            images = augment(images, self.generator)
        if self.memory_format is torch.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        logits = self.network(images)
        loss = F.cross_entropy(logits, labels, label_smoothing=self.config.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach(), (logits.detach().argmax(1) == labels).sum()

    @torch.inference_mode()
    def predict(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Logits for all ``images`` (float, on device), in eval mode, batched."""
        self.network.eval()
        return torch.cat([self.network(images[i:i + batch_size]
                                       .contiguous(memory_format=self.memory_format))
                          for i in range(0, len(images), batch_size)])

    def parameters(self):
        return self.network.parameters()

    def state(self) -> dict:
        return {"state_dict": {"network": self.network.state_dict()},
                "optimizer": {"network": self.optimizer.state_dict()},
                "image_shape": list(self.image_shape), "num_classes": self.num_classes}

    def load_state(self, payload: dict, with_optimizer: bool = True) -> None:
        self.network.load_state_dict(payload["state_dict"]["network"])
        if with_optimizer and payload.get("optimizer"):
            self.optimizer.load_state_dict(payload["optimizer"]["network"])


def evaluate(trainer: ClassifierTrainer, images: torch.Tensor, labels: torch.Tensor,
             num_classes: int) -> dict:
    """Test loss and accuracy, the confusion matrix (rows true, columns predicted), predictions."""
    logits = trainer.predict(images)
    predicted = logits.argmax(1)
    confusion = torch.bincount(labels * num_classes + predicted,
                               minlength=num_classes ** 2).reshape(num_classes, num_classes)
    return {
        "loss": F.cross_entropy(logits, labels).item(),
        "accuracy": (predicted == labels).float().mean().item(),
        "confusion": confusion.cpu(),
        "predicted": predicted.to(torch.uint8).cpu(),
    }


class ClassificationTask:
    """What the loop needs from a classifier: one step, window metrics, evaluation."""

    speed_name = "speed/images_per_s"
    items_per_row = 1

    def __init__(self, spec, config, data, device: torch.device):
        torch.manual_seed(config.seed)
        self.trainer = ClassifierTrainer(spec, config, data.image_shape, len(data.class_names),
                                         device)
        self.train_x, self.train_y, self.test_x, self.test_y = prepare(data, device)
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
        last = self._last_eval
        is_new = last is None or last[0] != step
        result = (evaluate(self.trainer, self.test_x, self.test_y, self.num_classes)
                  if last is None or last[0] != step else last[1])
        values = {"accuracy/test": result["accuracy"], "loss/test": result["loss"]}
        return values, {"confusion": result["confusion"], "predicted": result["predicted"]}, is_new


MAX_CLASSES = 1000


def restore(spec, config, payload: dict, device: torch.device) -> ClassifierTrainer:
    """A trained classifier from its checkpoint (float16 weights are cast back on loading).
    ValueError when the checkpoint's shapes or its stored evaluation do not fit."""
    classes = int(payload.get("num_classes", 10))
    shape = tuple(int(size) for size in payload.get("image_shape", (1, 28, 28)))
    if not 2 <= classes <= MAX_CLASSES or len(shape) != 3 or not 1 <= shape[0] <= 4 \
            or not all(8 <= size <= 256 for size in shape[1:]):
        raise ValueError(_("{classes} classes of {shape} images is not a classifier this app "
                           "makes").format(classes=classes, shape=shape))
    check_evaluation(payload.get("evaluation"), classes)
    trainer = ClassifierTrainer(spec, config, shape, classes, device)
    trainer.load_state(payload, with_optimizer=False)
    return trainer


def check_evaluation(evaluation, classes: int) -> None:
    """A stored evaluation the results panel can draw: a classes × classes confusion matrix of
    counts, predictions that are class indices. ValueError otherwise."""
    if evaluation is None:
        return
    if not isinstance(evaluation, dict):
        raise ValueError(_("its evaluation is not a table of results"))
    if "confusion" in evaluation:
        confusion = torch.as_tensor(evaluation["confusion"])
        if confusion.shape != (classes, classes) or confusion.is_complex() or \
                not bool(torch.isfinite(confusion.double()).all()) or \
                bool((confusion < 0).any()) or bool((confusion != confusion.round()).any()):
            raise ValueError(_("its confusion matrix is not {classes} × {classes} counts").format(
                classes=classes))
    if "predicted" in evaluation:
        predicted = torch.as_tensor(evaluation["predicted"])
        if predicted.dim() != 1 or predicted.is_floating_point() or predicted.is_complex() or \
                (predicted.numel() and (int(predicted.min()) < 0 or int(predicted.max()) >= classes)):
            raise ValueError(_("its predictions are not class indices 0–{last}").format(
                last=classes - 1))


def evaluate_model(model: ClassifierTrainer, data) -> dict[str, float]:
    """Test accuracy and loss, and the accuracy of each class (``accuracy/class/<name>``)."""
    _train_x, _train_y, test_x, test_y = prepare(data, model.device)
    result = evaluate(model, test_x, test_y, len(data.class_names))
    metrics = {"accuracy/test": result["accuracy"], "loss/test": result["loss"]}
    confusion = result["confusion"].double()
    for index, name in enumerate(data.class_names):
        slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        metrics[f"accuracy/class/{slug}"] = (confusion[index, index] / confusion[index].sum()).item()
    return metrics


# What a classifier's ModelSpec takes from its family: ModelSpec(..., **FAMILY).
FAMILY: Family = {"family": "classification", "make_task": ClassificationTask, "restore": restore,
          "evaluate": evaluate_model}


def build_trainer(spec, config, data, device: torch.device | None = None) -> ClassifierTrainer:
    """A fresh classifier for ``data`` (seeded by the config), as the task builds it."""
    torch.manual_seed(config.seed)
    return ClassifierTrainer(spec, config, data.image_shape, len(data.class_names),
                             device or configure())
