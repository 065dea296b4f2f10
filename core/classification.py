"""The classification task: cross-entropy training step, batched evaluation, augmentation."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def make_optimizer(config, parameters) -> torch.optim.Optimizer:
    """SGD or Adam(W); the fused kernels when this torch has them (2.4x faster Adam steps on CPU)."""
    parameters = list(parameters)
    if config.optimizer == "sgd":
        build = lambda **fused: torch.optim.SGD(
            parameters, lr=config.learning_rate, momentum=config.momentum,
            weight_decay=config.weight_decay, nesterov=config.momentum > 0, **fused)
    elif config.weight_decay:
        build = lambda **fused: torch.optim.AdamW(parameters, lr=config.learning_rate,
                                                  weight_decay=config.weight_decay, **fused)
    else:
        build = lambda **fused: torch.optim.Adam(parameters, lr=config.learning_rate, **fused)
    try:
        return build(fused=True)
    except (RuntimeError, TypeError, ValueError):
        return build()


def lr_factor(schedule: str, progress: float) -> float:
    """Multiplier of the base learning rate at ``progress`` in [0, 1] of the run."""
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * progress))
    if schedule == "onecycle":  # linear warm-up over 25% from lr/20, then cosine down to ~0
        warmup = 0.25
        if progress < warmup:
            return 0.05 + 0.95 * progress / warmup
        return 0.5 * (1 + math.cos(math.pi * (progress - warmup) / (1 - warmup))) + 1e-3
    return 1.0


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
        self.network: nn.Module = spec.build_network(config, image_shape, num_classes).to(device)
        # NHWC is 1.3-1.7x faster for these small convolutions on CPU (bench/ measures it).
        self.memory_format = (torch.channels_last if any(isinstance(m, nn.Conv2d)
                              for m in self.network.modules()) else torch.contiguous_format)
        self.network.to(memory_format=self.memory_format)
        self.optimizer = make_optimizer(config, self.network.parameters())
        self.base_lr = config.learning_rate
        self.generator = torch.Generator().manual_seed(config.seed + 1)

    def set_progress(self, progress: float) -> float:
        lr = self.base_lr * lr_factor(self.config.lr_schedule, progress)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

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
                "optimizer": {"network": self.optimizer.state_dict()}}

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
