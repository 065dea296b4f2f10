"""pix2pix: paired image-to-image translation with a conditional GAN and an L1 term.

Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks",
https://arxiv.org/abs/1611.07004 .
  G: a U-Net (encoder-decoder with skip connections, dropout in the decoder)
  D: a PatchGAN that sees the input and the output together (a conditional D)
  G* = arg min_G max_D  L_cGAN(G, D) + λ · E |y − G(x)|₁      (λ = 100 in the paper)
pix2pix needs *pairs*: every training input comes with the image it should become. (The tutorial
says it needs none; that is CycleGAN.) Here the pairs are made from Fashion-MNIST: an outline
by a fixed Sobel filter, or a 7 x 7 thumbnail, each with its own garment. The 28 px images are
padded to 32 px for the U-Net's halvings; D never sees G's border (it is set to background).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from core import translation_task
from core.config import ConfigError, from_dict, param
from core.i18n import N_, _
from core.data.translation import PAIR_TASKS, make_pairs, to_model_range
from core.models.gans.base import gradient_norm, mean_pairwise_distance, to_uint8
from core.models.spec import ModelSpec, Paper
from core.models.translation.base import (PatchGAN, TranslationConfig, TranslationTrainer,
                                          patch_metrics, patch_scores, receptive_field)
from core.models.translation.health import TranslationHealth, TranslationThresholds

NAME = "pix2pix"
PADDED = 32                 # the U-Net's size: 28 px padded by 2 on each side
BORDER = (PADDED - 28) // 2
PREVIEW_COLUMNS = 8         # the test grid: 8 fixed test inputs, outputs and targets
MONITOR_COUNT = 256         # fixed test pairs measured every few windows
ABLATION: dict[str, dict[str, Any]] = {N_("L1 only"): {"adversarial": False},
                                       N_("cGAN only"): {"lambda_l1": 0.0},
                                       N_("cGAN + L1"): {}}


@dataclass
class Pix2PixConfig(TranslationConfig):
    task: str = param("edges", "what the input is: the garment's outline from a fixed Sobel "
                      "filter, or its 7×7 thumbnail (super-resolution ×4)",
                      choices=tuple(PAIR_TASKS), label=N_("task (input → garment)"))
    classes: str = param("all", "which garments: all ten classes, or the three shoe classes "
                         "alone (a small edges2shoes)", choices=("all", "shoes"))
    lambda_l1: float = param(100.0, "weight λ of the L1 term |y − G(x)| (the paper: 100); 0 = "
                             "cGAN only", low=0.0, high=1000.0, label=N_("λ (L1 weight)"))
    adversarial: bool = param(True, "train G with the cGAN term; off = L1 only (D still trains "
                              "beside it so its patch map can be shown, but G ignores it)",
                              label=N_("cGAN term on"))
    gan_loss: str = param("bce", "the cGAN loss: binary cross-entropy as in the paper, or least "
                          "squares", choices=("bce", "least_squares"), label=N_("GAN loss"))
    batch_size: int = param(64, "image pairs per step (the paper: 1-10)", low=2, high=1024,
                            label=N_("batch size"))
    epochs: int = param(3, "passes over the training pairs", low=1, high=200)
    generator_width: int = param(32, "channels of the U-Net's first layer; each halving doubles "
                                 "them up to 8× (the paper: 64)", low=4, high=128,
                                 label=N_("G width (ngf)"), size="width")
    depth: int = param(4, "halvings of the U-Net: 32 px → 2 px at 4 (the paper goes 256 → 1 in "
                       "8)", low=2, high=5, label=N_("U-Net depth"), size="depth")
    dropout: float = param(0.5, "dropout in the deepest decoder layers (the paper: 0.5, its only "
                           "noise source)", low=0.0, high=0.9, label=N_("dropout"))
    discriminator_width: int = param(32, "channels of D's first layer (the paper: 64)", low=4,
                                     high=128, label=N_("D width (ndf)"), size="width")
    discriminator_layers: int = param(1, "stride-2 layers of the PatchGAN: 1 gives a 14×14 map "
                                      "of scores each seeing 16×16 px, 2 gives 34×34 px patches "
                                      "(the whole image)", low=1, high=3,
                                      label=N_("D layers (patch size)"), size="depth")

    def check(self) -> None:
        if not self.adversarial and self.lambda_l1 == 0:
            raise ConfigError(_("with the cGAN term off and λ = 0 there is nothing to learn: "
                                "raise λ or switch the cGAN term on"))


class UNet(nn.Module):
    """(B, C_in, 32, 32) -> (B, C_out, 32, 32): ``depth`` stride-2 4×4 convolutions down, the same
    number of transposed ones up, each up-layer reading the mirrored down-layer's output too
    (skip connections), so fine detail of the input reaches the output directly."""

    def __init__(self, in_channels: int, out_channels: int, width: int, depth: int,
                 dropout: float):
        super().__init__()
        widths = [width * min(2 ** level, 8) for level in range(depth)]    # e.g. 32 64 128 256
        self.down = nn.ModuleList()
        for level, channels in enumerate(widths):                          # 32 -> 16 -> ... px
            if level == 0:                       # the outermost layer: no norm, no activation
                self.down.append(nn.Conv2d(in_channels, channels, 4, 2, 1))
            else:                                # the innermost one has no norm (1x1 at depth 5)
                self.down.append(nn.Sequential(
                    nn.LeakyReLU(0.2), nn.Conv2d(widths[level - 1], channels, 4, 2, 1,
                                                 bias=level == depth - 1),
                    *([nn.BatchNorm2d(channels)] if level < depth - 1 else [])))
        self.up = nn.ModuleList()
        for index, level in enumerate(reversed(range(depth))):             # ... -> 16 -> 32 px
            reads = widths[level] if index == 0 else 2 * widths[level]    # + the skip
            if level == 0:                       # the outermost layer: to the image, tanh
                self.up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(reads, out_channels,
                                                                           4, 2, 1), nn.Tanh()))
                continue
            # The paper's decoder (appendix 6.1.1): dropout in its first three layers.
            noisy = dropout > 0 and index < 3
            self.up.append(nn.Sequential(
                nn.ReLU(), nn.ConvTranspose2d(reads, widths[level - 1], 4, 2, 1, bias=False),
                nn.BatchNorm2d(widths[level - 1]), *([nn.Dropout(dropout)] if noisy else [])))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        skips = []
        hidden = inputs
        for layer in self.down:
            hidden = layer(hidden)                   # (B, w_l, 32 / 2^(l+1), ...)
            skips.append(hidden)
        hidden = self.up[0](skips[-1])               # the bottleneck, doubled in size
        for layer, skip in zip(self.up[1:], reversed(skips[:-1])):
            hidden = layer(torch.cat([hidden, skip], dim=1))   # (B, 2 w_l, ...) -> larger
        return hidden                                # (B, C_out, 32, 32)


def build(config: Pix2PixConfig, image_shape=(1, 28, 28)) -> tuple[nn.Module, nn.Module]:
    channels = image_shape[0]
    generator = UNet(channels, channels, config.generator_width, config.depth, config.dropout)
    # D reads the input and an output (real or generated) stacked: a conditional D.
    discriminator = PatchGAN(2 * channels, config.discriminator_width,
                             config.discriminator_layers, norm="batch")
    return generator, discriminator


def pad(images: torch.Tensor) -> torch.Tensor:
    """(B, C, 28, 28) -> (B, C, 32, 32) with background (−1) around."""
    return F.pad(images, (BORDER,) * 4, value=-1.0)


def crop(images: torch.Tensor) -> torch.Tensor:
    """(B, C, 32, 32) -> the centre (B, C, 28, 28)."""
    return images[..., BORDER:PADDED - BORDER, BORDER:PADDED - BORDER]


class Pix2PixTrainer(TranslationTrainer):
    """The U-Net G, the conditional PatchGAN D, and the paired data they learn from."""

    config: Pix2PixConfig

    # Data ----------------------------------------------------------------------------------------
    def prepare(self, data) -> None:
        """The pairs of the chosen task and classes (uint8), fixed test pairs for the monitor
        and the preview grid."""
        self.pairs = make_pairs(data, self.config.task, self.config.classes)
        subset = self.config.train_subset
        self.count = min(subset, len(self.pairs.train_targets)) if subset else \
            len(self.pairs.train_targets)
        if self.count == 0:
            raise ValueError(_("no training pairs: the data have none of the chosen classes"))
        generator = torch.Generator().manual_seed(self.config.seed + 7)
        chosen = torch.randperm(len(self.pairs.test_inputs), generator=generator)
        self.monitor_index = chosen[:MONITOR_COUNT]
        # Always a full row (a tiny test set repeats images), so the grid's rows line up.
        self.preview_index = chosen[torch.arange(PREVIEW_COLUMNS) % len(chosen)]
        targets = to_model_range(self.pairs.test_targets[self.monitor_index], self.device)
        self.other = torch.randperm(len(targets), generator=generator).to(self.device)
        self.target_distance = float((targets - targets[self.other]).abs().mean())
        self.target_diversity = float(mean_pairwise_distance(targets[:64]))

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        index = index.cpu()
        return (to_model_range(self.pairs.train_inputs.index_select(0, index), self.device),
                to_model_range(self.pairs.train_targets.index_select(0, index), self.device))

    # Training ------------------------------------------------------------------------------------
    def generate(self, inputs: torch.Tensor) -> torch.Tensor:
        """G at 32 px, its output cut back to 28 px and padded with background again: D never
        judges G's border, which no L1 term constrains."""
        return pad(crop(self.generator(pad(inputs))))

    def judge_pairs(self, inputs: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        """D's patch scores for (input, output) at 32 px: (B, 1, H', W')."""
        return self.discriminator(torch.cat([pad(inputs), outputs], dim=1))

    def train_step(self, inputs: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """One D step then one G step on a batch of pairs in [-1, 1]; metrics as tensors."""
        config = self.config
        self.generator.train(), self.discriminator.train()
        fake = self.generate(inputs)                                    # (B, 1, 32, 32)

        # Update D: real pairs (x, y) towards real, generated pairs (x, G(x)) towards fake.
        real_scores = self.judge_pairs(inputs, pad(targets))
        fake_scores = self.judge_pairs(inputs, fake.detach())
        loss_d = self.loss.discriminator(real_scores, fake_scores, 1.0 - config.label_smoothing)
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        grad_norm_d = gradient_norm(self.discriminator)
        self.optimizer_d.step()

        # Update G: fool D (the cGAN term) and stay near the target (λ · L1).
        after = self.judge_pairs(inputs, fake)
        adversarial = self.loss.generator(after)
        l1 = (crop(fake) - targets).abs().mean()
        objective = config.lambda_l1 * l1
        if config.adversarial:
            objective = objective + adversarial
        self.optimizer_g.zero_grad(set_to_none=True)
        objective.backward()
        grad_norm_g = gradient_norm(self.generator)
        self.optimizer_g.step()

        with torch.no_grad():
            loss = config.gan_loss
            return {"loss/discriminator": loss_d.detach(), "loss/generator": adversarial.detach(),
                    "loss/l1": l1.detach(), "loss/generator_total": objective.detach(),
                    **patch_metrics(real_scores, fake_scores, after.detach(), loss),
                    "grad_norm/discriminator": grad_norm_d, "grad_norm/generator": grad_norm_g}

    # Using the model -----------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, inputs: torch.Tensor, batch_size: int = 500,
                  dropout: bool = False) -> torch.Tensor:
        """Outputs in [-1, 1] at 28 px for inputs in [-1, 1]. ``dropout``: keep the decoder's
        dropout on, as the paper does at test time (its only noise); off, an output depends on
        its input alone."""
        self.generator.eval()
        if dropout:
            for module in self.generator.modules():
                if isinstance(module, nn.Dropout):
                    module.train()
        outputs = [crop(self.generator(pad(inputs[start:start + batch_size].to(self.device))))
                   for start in range(0, len(inputs), batch_size)]
        self.generator.eval()
        return torch.cat(outputs) if outputs else inputs.new_zeros((0, *inputs.shape[1:]))

    @torch.no_grad()
    def patch_map(self, inputs: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        """How real D finds each patch of (input, output) pairs: (B, H', W') in [0, 1] for BCE
        (a probability), a score trained towards 1 for least squares."""
        self.discriminator.eval()
        scores = self.judge_pairs(inputs.to(self.device), pad(outputs.to(self.device)))
        return patch_scores(scores, self.config.gan_loss)[:, 0].cpu()

    def patch_size(self) -> int:
        return receptive_field(self.config.discriminator_layers)

    def test_pairs(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(inputs, targets, labels) of test pairs, inputs and targets in [-1, 1]."""
        return (to_model_range(self.pairs.test_inputs[index]),
                to_model_range(self.pairs.test_targets[index]), self.pairs.test_labels[index])

    # Figures -------------------------------------------------------------------------------------
    def monitor_statistics(self, judge) -> dict[str, float]:
        """On the fixed test pairs: L1, how much the output depends on its input (its distance to
        its own target over that to another pair's target), diversity, and the class the shipped
        CNN sees against the target's."""
        inputs, targets, labels = self.test_pairs(self.monitor_index)
        outputs = self.translate(inputs)
        targets = targets.to(self.device)
        own = (outputs - targets).abs().mean()
        other = (outputs - targets[self.other]).abs().mean()
        values = {"test/l1": float(own),
                  "match/own_vs_other": float(own / other.clamp(min=1e-8)),
                  "diversity/ratio": float(mean_pairwise_distance(outputs[:64]))
                  / max(self.target_diversity, 1e-8)}
        if judge is not None:
            logits, _features = judge.logits_and_features(outputs)
            values["test/class_accuracy"] = float((logits.argmax(1).cpu() == labels).float()
                                                  .mean())
        return values

    def preview(self) -> torch.Tensor:
        """uint8 (24, 1, 28, 28): a row of 8 fixed test inputs, their outputs, their targets."""
        inputs, targets, _labels = self.test_pairs(self.preview_index)
        return to_uint8(torch.cat([inputs, self.translate(inputs).cpu(), targets]))

    @torch.no_grad()
    def evaluate(self, judge, count: int = 10_000, reference=None) -> dict[str, float]:
        """On the first ``count`` test pairs: L1; with the shipped CNN, the share of outputs it
        assigns the target's class (and its accuracy on the targets themselves: the ceiling), and
        the Fréchet distance of the outputs and of the raw inputs to the real test images."""
        inputs, targets, labels = self.test_pairs(torch.arange(min(count,
                                                                   len(self.pairs.test_inputs))))
        outputs = self.translate(inputs).cpu()
        values = {"quality/l1": float((outputs - targets).abs().mean())}
        if judge is None:
            return values
        values.update(translation_task.judged(judge, outputs, labels, targets, inputs,
                                              reference))
        return values


# The health monitor's bands for cGAN + L1 (binary cross-entropy, D's loss a sum of two terms).
HEALTH = TranslationHealth(TranslationThresholds(
    d_loss_band=(0.4, 1.4), g_loss_band=(0.6, 3.0), failure_d_loss=0.1, failure_g_loss=4.0,
    oscillation_d_std=0.35, oscillation_g_std=1.0), loss="bce")


def ablation_configs(values: dict) -> dict[str, Pix2PixConfig]:
    """The paper's Table 1 on the same settings: L1 only, cGAN only, cGAN + L1."""
    return {title: from_dict(Pix2PixConfig, {**values, **changes})
            for title, changes in ABLATION.items()}


def headline(values: dict) -> str:
    """The history table's line: outputs the CNN puts in their truth's class."""
    return _("outputs in their truth's class {accuracy:.1%} (the CNN on the truths: "
             "{real:.1%})").format(accuracy=values["quality/class_accuracy"],
                                   real=values["quality/class_accuracy_real"])


SPEC = ModelSpec(
    headline=headline,
    paper=Paper(2016, N_('Isola et al. 2016, arXiv:1611.07004'), N_('image-to-image translation from pairs: a U-Net G, a PatchGAN D and an L1 term')),
    name=NAME, title=N_("pix2pix"), config_cls=Pix2PixConfig, build_network=build,
    section=N_("Image-to-image"), icon=":material/draw:", url_path="pix2pix",
    **translation_task.FAMILY, trainer=Pix2PixTrainer, health=HEALTH,
    panel="ui.panels.pix2pix:Pix2PixPanel",
    summary=N_("pix2pix learns from pairs: each training input (here a garment's outline, or its "
             "7×7 thumbnail) comes with the garment it should become — the tutorial says it needs "
             "no pairs, but that is CycleGAN. A U-Net G with skip connections draws the garment; "
             "a PatchGAN D sees input and output together and scores every patch real or fake; "
             "G's loss is the cGAN term + λ·L1 (λ = 100 in the paper): L1 alone gives a blurry "
             "average, the GAN term makes it sharp."),
    presets={
        N_("Quick CPU run (edges → garment, about 5 minutes)"): {"time_budget_s": 300.0,
                                                             "epochs": 20},
        N_("Paper's losses and lr (λ = 100, Adam 2e-4; batch 64, not the paper's 1–10)"): {},
        N_("Shoes only (edges2shoes, about 5 minutes)"): {"classes": "shoes",
                                                      "time_budget_s": 300.0, "epochs": 20},
        N_("Thumbnail → 28 px (super-resolution ×4, about 5 minutes)"): {
            "task": "thumbnail", "time_budget_s": 300.0, "epochs": 20},
        N_("L1 only (the ablation: blurry)"): {"adversarial": False, "time_budget_s": 300.0,
                                           "epochs": 20},
        N_("cGAN only (the ablation: λ = 0)"): {"lambda_l1": 0.0, "time_budget_s": 300.0,
                                            "epochs": 20},
    },
)
