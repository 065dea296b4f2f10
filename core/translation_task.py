"""The image-to-image family's task: what the training loop drives for pix2pix and CycleGAN
(steps on pairs or on two unpaired domains, window metrics with the monitor's test checks, a grid
of fixed test images, the final figures), and how such a model is rebuilt and measured.

These models translate an image into another, not noise into an image, so the GAN family's task
(fixed-noise grid, class coverage of samples) does not fit; the maths lives in
``core/models/translation/`` and the data in ``core/data/translation.py``.
"""
from __future__ import annotations

import math

import torch

from core import gan_eval
from core.device import configure
from core.events import Samples
from core.models.gans.base import to_uint8
from core.models.spec import Family

FINAL_COUNT = 2000          # test images the finished run is measured on (the CLI: all of them)
SNAPSHOT_EVERY_STEPS = 250  # remedies restart from the last snapshot before a problem


def make_trainer(spec, config, device: torch.device):
    return spec.trainer(spec, config, device)


def restore(spec, config, payload: dict, device: torch.device | None = None):
    """A trained translation model from its checkpoint (float16 weights are cast back)."""
    trainer = make_trainer(spec, config, device or configure())
    trainer.load_state(payload, with_optimizer=False)
    return trainer


@torch.no_grad()
def judged(judge, outputs: torch.Tensor, labels: torch.Tensor, real: torch.Tensor,
           inputs: torch.Tensor | None = None, real_features: torch.Tensor | None = None
           ) -> dict[str, float]:
    """The shipped CNN's figures for translated images in [-1, 1]: the share it assigns the
    intended class (``labels``), its accuracy on the real images of those classes (the ceiling),
    and the Fréchet distance (both at ``gan_eval.FRECHET_SIZE``, the project's protocol) of the
    outputs — and of the raw inputs, when given — to the real images."""
    logits, _ = judge.logits_and_features(outputs)
    real_logits, _ = judge.logits_and_features(real)
    if real_features is None:
        real_features = gan_eval.reference_features(judge, to_uint8(real))
    features = judge.logits_and_features(gan_eval.at_frechet_size(outputs))[1]
    values = {"quality/class_accuracy": float((logits.argmax(1).cpu() == labels).float().mean()),
              "quality/class_accuracy_real": float((real_logits.argmax(1).cpu() == labels)
                                                   .float().mean()),
              "quality/frechet_distance": gan_eval.frechet_distance(features, real_features)}
    if inputs is not None:
        input_features = judge.logits_and_features(gan_eval.at_frechet_size(inputs))[1]
        values["quality/frechet_distance_inputs"] = gan_eval.frechet_distance(input_features,
                                                                             real_features)
    return values


class TranslationTask:
    """What the training loop needs from a translation model: steps, window metrics with the
    monitor's checks on fixed test images, a grid of them, the final figures."""

    speed_name = "speed/images_per_s"
    items_per_row = 1

    def __init__(self, spec, config, data, device: torch.device):
        torch.manual_seed(config.seed)
        self.config = config
        self.trainer = make_trainer(spec, config, device)
        self.trainer.ensure_prepared(data)            # its pairs or its two domains
        self.count = self.trainer.count
        self.divergence_loss = math.inf               # GAN losses: only NaN/inf is divergence
        self.final_judge = gan_eval.judge_for(data, device)   # None unless Fashion-MNIST-like
        self.judge = self.final_judge if config.monitor_every_windows else None
        self._window: list[dict] = []
        self._windows = 0

    def step(self, index: torch.Tensor) -> float:
        metrics = self.trainer.train_step(*self.trainer.batch(index))
        self._window.append(metrics)
        return float(torch.maximum(metrics["loss/discriminator"],
                                   metrics["loss/generator_total"]))

    def window_metrics(self) -> dict[str, float]:
        keys = self._window[0].keys()
        values = {key: float(torch.stack([m[key] for m in self._window]).mean()) for key in keys}
        self._window.clear()
        self._windows += 1
        every = self.config.monitor_every_windows
        if every and self._windows % every == 0:
            values.update(self.trainer.monitor_statistics(self.judge))
        return values

    def extra_events(self, step: int, epoch_end: bool) -> list:
        if step % self.config.sample_every_steps == 0 or epoch_end:
            return [Samples(step, self.trainer.preview())]
        return []

    def epoch_end(self, step: int, epoch: int, is_last: bool) -> dict[str, float]:
        return {}

    def finish(self, step: int) -> tuple[dict[str, float], dict, bool]:
        values = self.trainer.evaluate(self.final_judge, count=FINAL_COUNT)
        evaluation = {"preview": self.trainer.preview(), "figures": dict(values),
                      **self.trainer.final_evaluation(self.final_judge)}
        return values, evaluation, True


def evaluate(model, data, count: int = 10_000) -> dict[str, float]:
    """The CLI's and the bench's figures for a trained translation model on the test split."""
    model.ensure_prepared(data)
    return model.evaluate(gan_eval.judge_for(data, model.device), count=count)


# What a translation model's ModelSpec takes from its family: ModelSpec(..., **FAMILY).
FAMILY: Family = {"family": "translation", "make_task": TranslationTask, "restore": restore,
          "evaluate": evaluate, "snapshot_every_steps": SNAPSHOT_EVERY_STEPS}
