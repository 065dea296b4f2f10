"""The GAN family's task: what the training loop drives for any GAN (steps, window metrics with the
health statistics, sample grids, the final figures), and how a GAN is rebuilt from a checkpoint.

The GAN maths lives in ``core/models/gans/`` (``base.GANTrainer`` and each model's subclass).
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import torch

from core import checkpoints, gan_eval, inside
from core.data import prepare
from core.device import configure
from core.events import Checkpointed, Samples, Started
from core.i18n import _
from core.models.gans.base import (GANTrainer, mean_pairwise_distance, nearest_neighbour_distance,
                                   to_gan_range, to_uint8)
from core.models.spec import Family

SAMPLE_GRID = 64            # the fixed-noise grid: 8 x 8 images
DIVERSITY_BATCH = 64        # generated and real images compared for the diversity ratio
CLASS_SAMPLES = 256         # generated images classified by the shipped CNN per check
SNAPSHOT_EVERY_STEPS = 250  # GAN runs keep snapshots so a remedy can restart from a healthy one
HISTOGRAM_EVERY_WINDOWS = 20  # D's score histograms (the Inside panel): every 20th metric window,
HISTOGRAM_EARLY_WINDOWS = 20  # and every 2nd of the first 20 (D changes fastest early; short runs)
HISTOGRAM_IMAGES = 128     # real and generated images per histogram


def make_trainer(spec, config, image_shape, device: torch.device) -> GANTrainer:
    """The spec's own trainer (infoGAN's codes, BEGAN's autoencoder D) or the plain GAN step."""
    return (spec.trainer or GANTrainer)(spec, config, image_shape, device)


def image_shape_for(config, data) -> tuple[int, int, int]:
    size = getattr(config, "image_size", data.image_shape[1])
    return (data.image_shape[0], size, size)


def restore(spec, config, payload: dict, device: torch.device | None = None) -> GANTrainer:
    """A trained GAN from its checkpoint, ready to draw (float16 weights are cast back).

    Checkpoints record the image shape they were trained at; older ones drew grey images at the
    config's ``image_size`` (or 28 px)."""
    shape = payload.get("image_shape")
    if shape is None:
        size = getattr(config, "image_size", 28)
        shape = (1, size, size)
    trainer = make_trainer(spec, config, tuple(shape), device or configure())
    trainer.load_state(payload, with_optimizer=False)
    return trainer


class GANTask:
    """What the training loop needs from a GAN: steps, window metrics, sample grids, final stats."""

    speed_name = "speed/images_per_s"
    items_per_row = 1

    def __init__(self, spec, config, data, device: torch.device):
        torch.manual_seed(config.seed)
        self.config = config
        self.image_shape = image_shape_for(config, data)
        self.trainer = make_trainer(spec, config, self.image_shape, device)
        self.train_x, self.train_y = prepare(data, device)[:2]
        if config.train_subset:
            self.train_x = self.train_x[:config.train_subset]
            self.train_y = self.train_y[:config.train_subset]
        self.count = len(self.train_x)
        self.divergence_loss = math.inf   # GAN losses: only NaN/inf means divergence
        self.fixed_noise = self.trainer.noise(SAMPLE_GRID, torch.Generator().manual_seed(config.seed))
        self.monitor_generator = torch.Generator().manual_seed(config.seed + 7)
        self.final_judge = gan_eval.judge_for(data, device)  # None unless Fashion-MNIST-like
        self.judge = self.final_judge if config.monitor_every_windows else None
        real_sample = self.train_x[torch.randperm(self.count, generator=self.monitor_generator)
                                   [:DIVERSITY_BATCH]]
        self.real_diversity = float(mean_pairwise_distance(to_gan_range(real_sample,
                                                                         self.image_shape[-1])))
        real_sample = self.train_x[torch.randperm(self.count, generator=self.monitor_generator)
                                   [:CLASS_SAMPLES]]
        self.real_nearest = float(nearest_neighbour_distance(to_gan_range(real_sample,
                                                                          self.image_shape[-1])))
        self._window: list[dict] = []
        self._windows = 0
        self.histogram_generator = torch.Generator().manual_seed(config.seed + 11)

    def real_batch(self, index: torch.Tensor) -> torch.Tensor:
        return to_gan_range(self.train_x.index_select(0, index), self.image_shape[-1])

    def step(self, index: torch.Tensor) -> float:
        labels = self.train_y.index_select(0, index) if self.trainer.uses_labels else None
        metrics = self.trainer.train_step(self.real_batch(index), labels)
        self.trainer.update_average()
        self._window.append(metrics)
        return float(torch.maximum(metrics["loss/discriminator"], metrics["loss/generator"]))

    def health_statistics(self, count: int = CLASS_SAMPLES, with_classes: bool = True,
                          averaged: bool = False) -> dict:
        """Diversity of a generated batch relative to real images, and classes covered. The
        monitor reads G itself (what training does now); the final figures read the average."""
        z = self.trainer.noise(count, self.monitor_generator)
        images = self.trainer.generate(z, batch_statistics=True, averaged=averaged)
        values = {"diversity/ratio": float(mean_pairwise_distance(images[:DIVERSITY_BATCH]))
                  / max(self.real_diversity, 1e-8)}
        if with_classes:   # the full check, every few windows: near-duplicates and classes
            values["diversity/nearest"] = float(nearest_neighbour_distance(
                images[:CLASS_SAMPLES])) / max(self.real_nearest, 1e-8)
            if self.judge is not None:
                values.update(self.judge.class_statistics(images))
                values.update(self.trainer.monitor_statistics(z, images, self.judge))
        return values

    def window_metrics(self) -> dict[str, float]:
        keys = self._window[0].keys()
        values = {key: float(torch.stack([m[key] for m in self._window]).mean()) for key in keys}
        self._window.clear()
        self._windows += 1
        every = self.config.monitor_every_windows
        if every:
            values.update(self.health_statistics(with_classes=self._windows % every == 0))
        if self.is_histogram_window(self._windows):
            values.update(self.score_histogram())
        return values

    @staticmethod
    def is_histogram_window(window: int) -> bool:
        """Whether the ``window``-th metric window (from 1) records D's score histogram."""
        every = HISTOGRAM_EVERY_WINDOWS
        return bool(every) and ((window - 1) % every == 0 or
                                (window <= HISTOGRAM_EARLY_WINDOWS and (window - 1) % 2 == 0))

    def score_histogram(self) -> dict[str, float]:
        """D's scores on real and on generated images now, as a histogram in the metrics
        (``d_histogram/...``), for the Inside panel's view of D over training. It draws from its
        own random generator and leaves the networks as they were, so training is unchanged."""
        count = min(HISTOGRAM_IMAGES, self.count)
        index = torch.randperm(self.count, generator=self.histogram_generator)[:count]
        index = index.to(self.train_x.device)
        latent = self.trainer.noise(count, self.histogram_generator)
        return inside.discriminator_histogram(self.trainer, self.real_batch(index), latent,
                                              self.train_y.index_select(0, index))

    def extra_events(self, step: int, epoch_end: bool) -> list:
        if step % self.config.sample_every_steps == 0 or epoch_end:
            grid = self.trainer.generate(self.fixed_noise, batch_statistics=True, averaged=False)
            return [Samples(step, to_uint8(grid))]
        return []

    def epoch_end(self, step: int, epoch: int, is_last: bool) -> dict[str, float]:
        return {}

    def finish(self, step: int) -> tuple[dict[str, float], dict, bool]:
        values = self.health_statistics(count=1000, averaged=True)
        grid = self.trainer.generate(self.fixed_noise, batch_statistics=True)
        evaluation = {"samples": to_uint8(grid), **self.trainer.final_evaluation(self.final_judge)}
        return values, evaluation, True


def evaluate(model: GANTrainer, data, count: int = 10_000) -> dict[str, float]:
    """The CLI's and the benches' figures for a trained GAN: sample quality (classes covered,
    Fréchet distance) and the model's own extra figures."""
    values = gan_eval.evaluate_generator(model, data, count=count)
    judge = gan_eval.judge_for(data, model.device)
    values.update(model.extra_metrics(judge))
    values.update(model.reference_metrics(judge, data, count))
    return values


class KeepBest:
    """``--keep_best N`` for GANs: every N epochs, score the checkpoint on 10,000 samples (classes
    covered, then Fréchet distance to 10,000 *training* images, so the test set plays no part in
    the choice) and copy it to ``best.pt`` when it beats the best so far. GAN quality wanders
    from epoch to epoch; the last epoch is rarely the best one.

    A consumer of the event stream: ``on_event`` reads each epoch-end checkpoint."""

    SAMPLES = 10_000

    def __init__(self, spec, config, data, every: int, folder, device=None):
        self.every, self.data = every, data
        self.model = make_trainer(spec, config, image_shape_for(config, data),
                                  device or configure())
        judge = gan_eval.judge_for(data, self.model.device)
        if judge is None:
            raise ValueError(_("needs Fashion-MNIST-like data and checkpoints/cnn.pt"))
        # The reference images never change: their features are computed once.
        self.reference = gan_eval.reference_features(judge, data.train_images[-self.SAMPLES:])
        self.path = Path(folder) / "best.pt"
        self.best: tuple[float, float] | None = None
        self.best_epoch = self.last_epoch = self.steps_per_epoch = 0

    def on_event(self, event) -> str | None:
        """Score the checkpoint written at the end of every N-th epoch; a line to print, or None."""
        if isinstance(event, Started):
            self.steps_per_epoch = event.steps_per_epoch
            return None
        if not isinstance(event, Checkpointed) or not event.is_epoch_end:
            return None
        epoch = event.step // self.steps_per_epoch
        if epoch % self.every or epoch == self.last_epoch:
            return None
        self.last_epoch = epoch
        self.model.load_state(checkpoints.load(event.path), with_optimizer=False)
        values = gan_eval.evaluate_generator(self.model, self.data, count=self.SAMPLES, seed=1,
                                             real_features=self.reference)
        score = (values["quality/covered"], -values["quality/frechet_distance"])
        is_best = self.best is None or score > self.best
        if is_best:
            self.best, self.best_epoch = score, epoch
            shutil.copyfile(event.path, self.path)
        figures = dict(epoch=epoch, classes=values["quality/covered"],
                       fd=values["quality/frechet_distance"], best=self.best_epoch)
        if is_best:
            return _("epoch {epoch} selection: classes={classes:.0f} "
                     "frechet_distance/train={fd:.1f} (best so far)").format(**figures)
        return _("epoch {epoch} selection: classes={classes:.0f} frechet_distance/train={fd:.1f} "
                 "(best: epoch {best})").format(**figures)


# What a GAN's ModelSpec takes from its family: ModelSpec(..., **FAMILY).
FAMILY: Family = {"family": "gan", "make_task": GANTask, "restore": restore, "evaluate": evaluate,
          "snapshot_every_steps": SNAPSHOT_EVERY_STEPS,
          # the Inside panel's D histogram, which every GAN page opens on
          "family_figures": {"d_scores": inside.scores_figure}}
