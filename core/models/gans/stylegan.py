"""StyleGAN: a mapping network turns z into w, and w sets the style of every layer of a synthesis
network that starts from a learned constant; per-layer noise adds the stochastic detail.

A Style-Based Generator Architecture for GANs (Karras et al. 2019), https://arxiv.org/abs/1812.04948 ;
the convolutions are StyleGAN2's (Karras et al. 2020, https://arxiv.org/abs/1912.04958):
modulated and demodulated instead of AdaIN, a skip generator and a residual discriminator, the
non-saturating logistic loss with a lazy R1 penalty on D. At 32 px: mapping z -> w (a few FC
layers at 1/100 of the learning rate), constant 4x4 -> 8 -> 16 -> 32, one style per conv layer.

Modulation is computed in the fast form (scale the input activations by the style, convolve with
the one shared weight, scale the output by the demodulation coefficients), which gives the same
result as the paper's grouped convolution with one weight per image (a test checks it) but is
many times faster on a CPU.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from core import gan_task
from core.config import BaseConfig, ConfigError, param
from core.diagnostics import TUTORIAL, GANHealth, Remedy, Thresholds, Window
from core.i18n import N_, _
from core.models.gans.base import (GANTrainer, discriminator_metrics, gradient_norm, make_adam, ramped_decay, slerp)
from core.models.spec import ModelSpec, Paper

NAME = "stylegan"
RESOLUTIONS = (4, 8, 16, 32)
SQRT2 = math.sqrt(2.0)
EMA_RAMPUP = 0.05     # the weight average's half-life: at most 5% of the steps so far


@dataclass
class StyleGANConfig(BaseConfig):
    learning_rate_d: float = param(2e-3, "discriminator learning rate (StyleGAN2: 0.002)",
                                   low=1e-6, high=1e-2, log=True, label=N_("learning rate D"))
    learning_rate_g: float = param(2e-3, "generator learning rate (StyleGAN2: 0.002; the mapping "
                                   "network learns at this times the mapping multiplier)",
                                   low=1e-6, high=1e-2, log=True, label=N_("learning rate G"))
    batch_size: int = param(32, "real images per step (the paper: 32 at its smallest scales)",
                            low=4, high=1024, label=N_("batch size"))
    epochs: int = param(10, "passes over the training set (10 at batch 32: 18,750 steps, about "
                        "50 minutes on 2 free CPU cores)", low=1, high=200)
    latent_dim: int = param(64, "length of z (the paper: 512; 64 is plenty for 32 px garments)",
                            low=1, high=512, label=N_("z size"))
    style_dim: int = param(64, "length of w, the style vector the mapping network outputs (the "
                           "paper: 512)", low=4, high=512, label=N_("w size"), size="width")
    mapping_layers: int = param(4, "fully connected layers of the mapping network z -> w (the "
                                "paper: 8); 0 = no mapping network, w is the normalised z",
                                low=0, high=8, label=N_("mapping layers"), size="depth")
    mapping_lr_multiplier: float = param(0.01, "the mapping network learns this many times slower "
                                         "than the synthesis network (the paper: 0.01)",
                                         choices=(1.0, 0.1, 0.01), label=N_("mapping lr multiplier"))
    generator_width: int = param(64, "channels of the synthesis network at 4, 8 and 16 px (half "
                                 "as many at 32 px)", low=4, high=256, label=N_("G channels"),
                                 size="width")
    discriminator_width: int = param(64, "channels of D at 16, 8 and 4 px (half as many at 32 px)",
                                     low=4, high=256, label=N_("D channels"), size="width")
    style_mixing: float = param(0.9, "style-mixing regularisation: the share of training batches "
                                "drawn from two z, the styles of the second taking over from a "
                                "random layer on (the paper: 0.9); it keeps neighbouring layers' "
                                "styles from depending on each other", low=0.0, high=1.0,
                                label=N_("style-mixing probability"))
    r1_gamma: float = param(0.05, "weight γ of the R1 penalty γ/2·|∇D(x)|² on real images, which "
                            "keeps D smooth where the data are (StyleGAN2: 10 on 1024 px faces, "
                            "0.01 on CIFAR-10; 0 = off)", low=0.0, high=100.0,
                            label=N_("R1 γ"))
    r1_every: int = param(16, "lazy regularisation: compute R1 every N steps, weighted N times "
                          "(the paper: 16)", low=1, high=64, label=N_("R1 every N steps"))
    use_noise: bool = param(True, "per-layer noise inputs with learned strengths (stochastic "
                            "detail: folds, texture)", label=N_("noise inputs"))
    beta1: float = param(0.0, "Adam's beta1 (StyleGAN2: 0; beta2 is 0.99)", low=0.0, high=0.999,
                         label=N_("Adam beta1"))
    w_average_decay: float = param(0.995, "the tracked average w, used by truncation, follows the "
                                   "batches' mean w with this decay (the paper: 0.995)",
                                   low=0.0, high=0.9999, advanced=True, label=N_("w average decay"))
    modulation: str = param("fast", "how the modulated convolution is computed: 'fast' scales the "
                            "activations by the style and demodulates the output; 'grouped' "
                            "builds one weight per image (the paper's code); both give the same "
                            "images, grouped is many times slower on a CPU",
                            choices=("fast", "grouped"), advanced=True)
    image_size: int = param(32, "image size (32 px: 4 -> 8 -> 16 -> 32)", choices=(32,),
                            advanced=True, label=N_("image size"))
    sample_every_steps: int = param(200, "refresh the fixed-noise sample grid every N steps",
                                    low=1, high=100000, advanced=True,
                                    label=N_("sample grid every N steps"))
    monitor_every_windows: int = param(5, "classify generated images with the shipped CNN every "
                                       "N metric windows (0 = never)", low=0, high=1000,
                                       advanced=True, label=N_("class check every N windows"))
    generator_ema: float = param(0.999, "the G weight average (G_ema in StyleGAN's code): an "
                                 "exponential moving average of G's weights with this decay draws "
                                 "the finished model's images (0.999 averages over about the last "
                                 "1,000 steps; early on it averages over the last 5% of the steps "
                                 "instead, as StyleGAN2's ramp-up; 0 = off)",
                                 choices=(0.0, 0.99, 0.999, 0.9995,
                                                                   0.9999),
                                 label=N_("G weight average (EMA decay)"), zero_means=N_("off"))

    def check(self) -> None:
        if self.mapping_layers == 0 and self.style_dim != self.latent_dim:
            raise ConfigError(_("without a mapping network w is the normalised z: w size "
                                "(style_dim, {style_dim}) must equal z size (latent_dim, "
                                "{latent_dim})").format(style_dim=self.style_dim,
                                                        latent_dim=self.latent_dim))


# Layers with an equalised learning rate ----------------------------------------------------------
# Weights are stored N(0, 1) and scaled at run time by 1/sqrt(fan_in) (Karras et al. 2018), so
# Adam moves every layer at the same relative speed; the mapping network also multiplies its
# weights (and so its learning rate) by lr_multiplier.

class EqualLinear(nn.Module):
    def __init__(self, inputs: int, outputs: int, bias_init: float = 0.0,
                 lr_multiplier: float = 1.0, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(outputs, inputs) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((outputs,), float(bias_init) / lr_multiplier))
        self.weight_gain = lr_multiplier / math.sqrt(inputs)
        self.bias_gain = lr_multiplier
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)
        return F.leaky_relu(x, 0.2) * SQRT2 if self.activation else x


class EqualConv2d(nn.Module):
    def __init__(self, inputs: int, outputs: int, kernel: int, bias: bool = True,
                 activation: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(outputs, inputs, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(outputs)) if bias else None
        self.weight_gain = 1 / math.sqrt(inputs * kernel * kernel)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.weight * self.weight_gain, self.bias,
                     padding=self.weight.shape[-1] // 2)
        return F.leaky_relu(x, 0.2) * SQRT2 if self.activation else x


# Modulated convolution: two forms, one result ----------------------------------------------------

def demodulation(weight: torch.Tensor, styles: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(B, out) coefficients d_j = 1 / sqrt(sum_{i,k} (s_i w_ijk)^2 + eps) (StyleGAN2, eq. 3):
    what brings each output feature map back to unit standard deviation."""
    return (styles.square() @ weight.square().sum((2, 3)).T + eps).rsqrt()


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor,
                     demodulate: bool = True, padding: int = 1) -> torch.Tensor:
    """The fast form: x (B, in, H, W) scaled per input channel by the style (B, in), convolved
    with the shared weight (out, in, k, k), each output map scaled by its demodulation
    coefficient. One ordinary convolution over the batch."""
    out = F.conv2d(x * styles[:, :, None, None], weight, padding=padding)   # (B, out, H, W)
    if demodulate:
        out = out * demodulation(weight, styles)[:, :, None, None]
    return out


def modulated_conv2d_grouped(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor,
                             demodulate: bool = True, padding: int = 1) -> torch.Tensor:
    """The paper's form: one modulated (and demodulated) weight per image, applied as a grouped
    convolution with one group per image."""
    batch, inputs, height, width = x.shape
    outputs, _inputs, kernel, _kernel = weight.shape
    weights = weight[None] * styles[:, None, :, None, None]         # (B, out, in, k, k)
    if demodulate:
        weights = weights * (weights.square().sum((2, 3, 4), keepdim=True) + 1e-8).rsqrt()
    out = F.conv2d(x.reshape(1, batch * inputs, height, width),
                   weights.reshape(batch * outputs, inputs, kernel, kernel),
                   padding=padding, groups=batch)                  # (1, B*out, H, W)
    return out.reshape(batch, outputs, *out.shape[2:])


MODULATIONS = {"fast": modulated_conv2d, "grouped": modulated_conv2d_grouped}


# The generator -----------------------------------------------------------------------------------

def normalize_second_moment(z: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """z / sqrt(mean(z^2)): the mapping network's input normalisation (pixel norm)."""
    return z * (z.square().mean(1, keepdim=True) + eps).rsqrt()


class MappingNetwork(nn.Module):
    """z (B, z size) -> w (B, w size): normalise, then ``layers`` FC layers with leaky ReLU at
    ``lr_multiplier`` times the learning rate. Tracks the average w (for truncation)."""
    w_average: torch.Tensor      # a buffer

    def __init__(self, latent_dim: int, style_dim: int, layers: int, lr_multiplier: float,
                 average_decay: float):
        super().__init__()
        sizes = [latent_dim] + [style_dim] * layers
        self.layers = nn.Sequential(*[EqualLinear(a, b, lr_multiplier=lr_multiplier,
                                                  activation=True)
                                      for a, b in zip(sizes[:-1], sizes[1:])])
        self.average_decay = average_decay
        self.register_buffer("w_average", torch.zeros(style_dim))

    def forward(self, z: torch.Tensor, track_average: bool = False) -> torch.Tensor:
        w = self.layers(normalize_second_moment(z))                     # (B, w size)
        if track_average:
            with torch.no_grad():
                self.w_average.copy_(w.detach().mean(0).lerp(self.w_average, self.average_decay))
        return w


class StyledConv(nn.Module):
    """Upsample (optionally), modulated 3x3 conv with its own style, noise, bias, leaky ReLU."""
    noise_const: torch.Tensor    # a buffer: the stored noise map (1, 1, H, W)

    def __init__(self, inputs: int, outputs: int, style_dim: int, resolution: int,
                 upsample: bool, modulation: str):
        super().__init__()
        self.affine = EqualLinear(style_dim, inputs, bias_init=1.0)    # A: w -> style s
        self.weight = nn.Parameter(torch.randn(outputs, inputs, 3, 3))
        self.bias = nn.Parameter(torch.zeros(outputs))
        # B: the learned strength of this layer's noise (StyleGAN2: one scalar, starting at 0).
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))
        self.upsample, self.resolution = upsample, resolution
        self.convolve = MODULATIONS[modulation]

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear",
                              align_corners=False)                  # (B, in, 2H, 2W)
        x = self.convolve(x, self.weight, self.affine(w))               # (B, out, H, W)
        if noise is not None:
            x = x + noise * self.noise_strength
        return F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * SQRT2


class ToImage(nn.Module):
    """1x1 modulated conv to the image's channels, not demodulated (StyleGAN2's tRGB)."""

    def __init__(self, inputs: int, channels: int, style_dim: int, modulation: str):
        super().__init__()
        self.affine = EqualLinear(style_dim, inputs, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(channels, inputs, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.gain = 1 / math.sqrt(inputs)
        self.convolve = MODULATIONS[modulation]

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.gain
        return self.convolve(x, self.weight, styles, demodulate=False, padding=0) \
            + self.bias[None, :, None, None]


def channels_at(width: int, resolution: int) -> int:
    """Channels at a resolution: ``width`` at 4-16 px, half at 32 px."""
    return max(width // 2, 1) if resolution >= 32 else width


class SynthesisNetwork(nn.Module):
    """A learned constant (C, 4, 4), then conv layers 4 | 8 8 | 16 16 | 32 32 (px), each with its
    own style; an image is drawn at every resolution and summed upwards (skip architecture)."""

    def __init__(self, config: StyleGANConfig, channels: int):
        super().__init__()
        width, style = config.generator_width, config.style_dim
        self.constant = nn.Parameter(torch.randn(channels_at(width, 4), 4, 4))
        layers = [StyledConv(channels_at(width, 4), channels_at(width, 4), style, 4, False,
                             config.modulation)]
        to_image = [ToImage(channels_at(width, 4), channels, style, config.modulation)]
        for previous, resolution in zip(RESOLUTIONS[:-1], RESOLUTIONS[1:]):
            inputs, outputs = channels_at(width, previous), channels_at(width, resolution)
            layers += [StyledConv(inputs, outputs, style, resolution, True, config.modulation),
                       StyledConv(outputs, outputs, style, resolution, False, config.modulation)]
            to_image.append(ToImage(outputs, channels, style, config.modulation))
        self.layers, self.to_image = nn.ModuleList(layers), nn.ModuleList(to_image)
        self.styled: list[StyledConv] = layers        # the same modules, typed
        self.resolutions = [layer.resolution for layer in layers]        # 4 8 8 16 16 32 32
        self.use_noise = config.use_noise

    def noise_inputs(self, batch: int, mode: str, generator: torch.Generator | None = None,
                     enabled: list[bool] | None = None) -> list[torch.Tensor | None]:
        """One noise map per layer: "random" draws new ones, "const" uses the stored ones (the
        finished model: an image depends on its w only), "none" switches noise off; ``enabled``
        switches single layers off."""
        inputs: list[torch.Tensor | None] = []
        for index, layer in enumerate(self.styled):
            if not self.use_noise or mode == "none" or (enabled is not None and not enabled[index]):
                inputs.append(None)
            elif mode == "const":
                inputs.append(layer.noise_const)                          # (1, 1, H, W)
            else:
                size = (batch, 1, layer.resolution, layer.resolution)
                inputs.append(torch.randn(size, generator=generator).to(layer.noise_const.device)
                              if generator is not None
                              else torch.randn(size, device=layer.noise_const.device))
        return inputs

    def forward(self, ws: torch.Tensor, noise: list[torch.Tensor | None]) -> torch.Tensor:
        """ws (B, layers, w size): one w per layer -> images (B, C, 32, 32), not clamped."""
        x = self.constant[None].expand(len(ws), -1, -1, -1)              # (B, C, 4, 4)
        x = self.layers[0](x, ws[:, 0], noise[0])
        image = self.to_image[0](x, ws[:, 0])                            # (B, C_img, 4, 4)
        for block in range(1, len(RESOLUTIONS)):
            first, second = 2 * block - 1, 2 * block
            x = self.layers[first](x, ws[:, first], noise[first])      # (B, C, 2H, 2W)
            x = self.layers[second](x, ws[:, second], noise[second])
            image = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False) \
                + self.to_image[block](x, ws[:, second])                 # the block's style
        return image


class Generator(nn.Module):
    """G(z) = synthesis(mapping(z) for every layer); random noise while training, the stored
    noise maps otherwise."""

    def __init__(self, config: StyleGANConfig, channels: int):
        super().__init__()
        self.mapping = MappingNetwork(config.latent_dim, config.style_dim, config.mapping_layers,
                                      config.mapping_lr_multiplier, config.w_average_decay)
        self.synthesis = SynthesisNetwork(config, channels)
        self.layer_count = len(self.synthesis.layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w = self.mapping(z)
        noise = self.synthesis.noise_inputs(len(z), "random" if self.training else "const")
        return self.synthesis(w[:, None].expand(-1, self.layer_count, -1), noise)


# The discriminator (StyleGAN2's residual D) --------------------------------------------------------

class DiscriminatorBlock(nn.Module):
    """(B, in, H, W) -> (B, out, H/2, W/2): a 3x3 conv, a 2x2 average pool and a 3x3 conv at the
    lower resolution, plus a pooled 1x1 skip, summed and scaled by 1/sqrt(2). (StyleGAN2 blurs and
    convolves with stride 2; pooling before the second conv costs a quarter of a full-size one.)"""

    def __init__(self, inputs: int, outputs: int):
        super().__init__()
        self.conv0 = EqualConv2d(inputs, inputs, 3)
        self.conv1 = EqualConv2d(inputs, outputs, 3)
        self.skip = EqualConv2d(inputs, outputs, 1, bias=False, activation=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = F.avg_pool2d(self.conv0(x), 2)                            # (B, in, H/2, W/2)
        return (self.skip(F.avg_pool2d(x, 2)) + self.conv1(main)) / SQRT2


def minibatch_std(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append the standard deviation of features across a group of images as one more channel:
    D can then see a batch that lacks variety (Karras et al. 2018)."""
    batch, channels, height, width = x.shape
    group = next(g for g in (group, 3, 2, 1) if g <= batch and batch % g == 0)
    y = x.reshape(group, -1, channels, height, width)                    # (G, B/G, C, H, W)
    y = (y.var(0, unbiased=False) + 1e-8).sqrt().mean((1, 2, 3))         # (B/G,)
    y = y.reshape(-1, 1, 1, 1).repeat(group, 1, height, width)           # (B, 1, H, W)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    def __init__(self, config: StyleGANConfig, channels: int):
        super().__init__()
        width = config.discriminator_width
        self.from_image = EqualConv2d(channels, channels_at(width, 32), 1)    # (B, C, 32, 32)
        self.blocks = nn.Sequential(*[DiscriminatorBlock(channels_at(width, r),
                                                         channels_at(width, r // 2))
                                      for r in (32, 16, 8)])                  # (B, C, 4, 4)
        self.conv = EqualConv2d(channels_at(width, 4) + 1, channels_at(width, 4), 3)
        self.fc = EqualLinear(channels_at(width, 4) * 16, channels_at(width, 4), activation=True)
        self.out = EqualLinear(channels_at(width, 4), 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.from_image(images))
        x = self.conv(minibatch_std(x))                                  # (B, C, 4, 4)
        return self.out(self.fc(x.flatten(1))).squeeze(1)                # (B,) logits


def build(config: StyleGANConfig, image_shape=(1, 32, 32)) -> tuple[nn.Module, nn.Module]:
    """(G, D) drawing ``config.image_size`` px images with ``image_shape[0]`` channels."""
    channels = image_shape[0]
    return Generator(config, channels), Discriminator(config, channels)


# Styles: mixing and truncation -----------------------------------------------------------------

def check_psi(psi: float) -> None:
    if not 0.0 <= psi <= 2.0:
        raise ValueError(f"truncation ψ must be between 0 and 2 (0 = the average w, 1 = no "
                         f"truncation), got {psi:g}")


def truncate(w: torch.Tensor, w_average: torch.Tensor, psi: float) -> torch.Tensor:
    """w' = w_avg + ψ (w − w_avg): ψ < 1 pulls every style toward the average garment."""
    check_psi(psi)
    return w_average.lerp(w, psi) if psi != 1 else w


def mix_styles(w_first: torch.Tensor, w_second: torch.Tensor, crossover: int,
               layer_count: int) -> torch.Tensor:
    """(B, layers, w size): w_first on the layers below ``crossover``, w_second from it on."""
    if not 0 <= crossover <= layer_count:
        raise ValueError(f"crossover layer {crossover} does not exist: this generator has layers "
                         f"0–{layer_count - 1} (0 takes every style from the second w, "
                         f"{layer_count} every style from the first)")
    ws = w_first[:, None].repeat(1, layer_count, 1)
    ws[:, crossover:] = w_second[:, None]
    return ws


def crossover_after(resolutions: list[int], resolution: int) -> int:
    """The first layer above ``resolution`` px: crossing over there takes the styles up to and
    including ``resolution`` from the first w ("coarse 4–8 px" is ``crossover_after(.., 8)``)."""
    return next((i for i, r in enumerate(resolutions) if r > resolution), len(resolutions))


# The trainer -------------------------------------------------------------------------------------

class StyleGANTrainer(GANTrainer):
    """G (mapping + synthesis) and D with Adam (β = (0, 0.99)); a step draws styles with mixing
    regularisation, takes a D step (non-saturating logistic loss, plus R1 every ``r1_every``
    steps) and a G step on the same images. ``generate`` draws with the weight average, stored
    noise and no truncation; the page's methods (``styles``, ``synthesize``, ``mixed``, ...)
    expose w, mixing, truncation and noise."""

    config: StyleGANConfig

    def __init__(self, spec, config: StyleGANConfig, image_shape, device: torch.device):
        super().__init__(spec, config, image_shape, device)
        self.steps = 0
        self.last_r1 = torch.zeros((), device=device)

    def make_optimizers(self):
        config = self.config
        return (make_adam(self.generator.parameters(), config.learning_rate_g, config.beta1, 0.99),
                make_adam(self.discriminator.parameters(), config.learning_rate_d, config.beta1,
                          0.99))

    @property
    def layer_count(self) -> int:
        return self.generator.layer_count

    @property
    def resolutions(self) -> list[int]:
        return list(self.generator.synthesis.resolutions)

    def training_styles(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(ws (B, layers, w size), whether this batch mixes): with probability ``style_mixing``
        a second z takes over from a random layer 1..layers-1 (one crossover per batch, as the
        paper's code draws it). The average w follows the first z's."""
        generator, count = self.generator, self.layer_count
        w = generator.mapping(z, track_average=True)
        ws = w[:, None].repeat(1, count, 1)
        mixing = torch.rand(()) < self.config.style_mixing
        if mixing:
            crossover = int(torch.randint(1, count, ()))
            second = generator.mapping(torch.randn_like(z))
            ws[:, crossover:] = second[:, None]
        return ws, mixing

    def r1_penalty(self, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(D's logits on ``real``, the mean over the batch of |∇_x D(x)|²), with the graph kept
        for the penalty's own backward pass."""
        real = real.detach().requires_grad_(True)
        logits = self.discriminator(real)
        gradient, = torch.autograd.grad(logits.sum(), real, create_graph=True)
        return logits, gradient.square().sum((1, 2, 3)).mean()

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None
                   ) -> dict[str, torch.Tensor]:
        """One D step (with R1 on every ``r1_every``-th step) and one G step; metrics as tensors."""
        self.generator.train(), self.discriminator.train()
        config = self.config
        z = torch.randn(len(real), config.latent_dim, device=self.device)
        ws, mixing = self.training_styles(z)
        noise = self.generator.synthesis.noise_inputs(len(real), "random")
        fake = self.generator.synthesis(ws, noise)

        # Update D: softplus(D(G(z))) + softplus(−D(x)) — the BCE of the tutorial's errD — and,
        # lazily, γ/2·|∇D(x)|² times the interval, so it weighs γ/2 per step on average.
        is_r1_step = config.r1_gamma > 0 and self.steps % config.r1_every == 0
        if is_r1_step:
            logits_real, r1 = self.r1_penalty(real)
        else:
            logits_real = self.discriminator(real)
        logits_fake = self.discriminator(fake.detach())
        loss_d = F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward(retain_graph=is_r1_step)
        grad_norm_d = gradient_norm(self.discriminator)   # the adversarial gradient alone
        if is_r1_step:
            (r1 * (config.r1_gamma / 2) * config.r1_every).backward()
            self.last_r1 = r1.detach()
        self.optimizer_d.step()

        # Update G: the non-saturating loss softplus(−D(G(z))).
        logits_after = self.discriminator(fake)
        loss_g = F.softplus(-logits_after).mean()
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        grad_norm_g = gradient_norm(self.generator)
        self.optimizer_g.step()
        self.steps += 1

        with torch.no_grad():
            w = ws[:, 0]
            average = self.generator.mapping.w_average
            strengths = torch.stack([layer.noise_strength.abs()
                                     for layer in self.generator.synthesis.layers])
            return {
                "loss/discriminator": loss_d.detach(), "loss/generator": loss_g.detach(),
                **discriminator_metrics(logits_real.detach(), logits_fake, logits_after.detach()),
                "grad_norm/discriminator": grad_norm_d, "grad_norm/generator": grad_norm_g,
                "stylegan/r1": self.last_r1.clone(),
                "stylegan/mixing": torch.as_tensor(float(mixing), device=self.device),
                "stylegan/w_spread": (w - average).norm(dim=1).mean(),
                "stylegan/w_average_norm": average.norm(),
                "stylegan/noise_strength": strengths.mean(),
            }

    def average_decay(self) -> float:
        """The weight average's decay at this step: its half-life grows with training (5% of the
        steps so far, StyleGAN2's ema_rampup) up to the configured decay. Without the ramp the
        average of a short run is still mostly the random initial weights (at step 1,050 the
        averaged G of a 0.999 average drew one blob class for 96% of z while G covered 6)."""
        return ramped_decay(self.config.generator_ema, self.steps, EMA_RAMPUP)

    def update_average(self) -> None:
        if self.config.generator_ema:
            self.average.decay = self.average_decay()
        super().update_average()

    # Drawing -------------------------------------------------------------------------------------
    def drawing_network(self, averaged: bool = True) -> Generator:
        """The weight average when there is one (and ``averaged``), else G; in eval mode."""
        average = self.average.network
        network = average if averaged and average is not None else self.generator
        assert isinstance(network, Generator)
        return network.eval()

    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch_statistics: bool = False,
                 averaged: bool = True) -> torch.Tensor:
        """Images in [−1, 1] for ``z``: no truncation, the stored noise maps (so an image depends
        on its z only; StyleGAN has no batch norm, so ``batch_statistics`` changes nothing)."""
        return self.synthesize(self.styles(z, averaged=averaged), averaged=averaged)

    @torch.no_grad()
    def styles(self, z: torch.Tensor, psi: float = 1.0, averaged: bool = True) -> torch.Tensor:
        """w (B, w size) for ``z``, truncated toward the tracked average w by ψ."""
        network = self.drawing_network(averaged)
        w = network.mapping(z.to(self.device))
        return truncate(w, network.mapping.w_average, psi)

    def w_average(self, averaged: bool = True) -> torch.Tensor:
        return self.drawing_network(averaged).mapping.w_average

    @torch.no_grad()
    def synthesize(self, ws: torch.Tensor, noise: str = "const", noise_seed: int | None = None,
                   noise_enabled: list[bool] | None = None, averaged: bool = True) -> torch.Tensor:
        """Images in [−1, 1] from styles: ``ws`` (B, w size) for every layer or (B, layers, w
        size) one per layer. ``noise``: "const" (the stored maps), "random" (new maps, from
        ``noise_seed`` when given) or "none"; ``noise_enabled`` switches single layers off."""
        network = self.drawing_network(averaged)
        ws = ws.to(self.device)
        if ws.dim() == 2:
            ws = ws[:, None].expand(-1, self.layer_count, -1)
        if ws.shape[1] != self.layer_count:
            raise ValueError(f"{ws.shape[1]} styles given; this generator has {self.layer_count} "
                             "layers")
        if noise_enabled is not None and len(noise_enabled) != self.layer_count:
            raise ValueError(f"noise switches for {len(noise_enabled)} layers; this generator "
                             f"has {self.layer_count}")
        generator = torch.Generator().manual_seed(noise_seed) if noise_seed is not None else None
        inputs = network.synthesis.noise_inputs(len(ws), noise, generator, noise_enabled)
        return network.synthesis(ws, inputs).clamp(-1, 1)

    @torch.no_grad()
    def mixed(self, w_first: torch.Tensor, w_second: torch.Tensor, crossover: int,
              **options) -> torch.Tensor:
        """Images with the styles of w_first below layer ``crossover`` and of w_second from it on."""
        return self.synthesize(mix_styles(w_first.to(self.device), w_second.to(self.device),
                                          crossover, self.layer_count), **options)

    def noise_strengths(self, averaged: bool = True) -> list[float]:
        return [float(layer.noise_strength.detach()) for layer in
                self.drawing_network(averaged).synthesis.styled]

    def layer_labels(self) -> list[str]:
        """"layer 3 · 16 px" for every conv layer."""
        return [_("layer {index} · {resolution} px").format(index=index, resolution=resolution)
                for index, resolution in enumerate(self.resolutions)]

    # State ---------------------------------------------------------------------------------------
    def state(self) -> dict:
        return {**super().state(), "stylegan_steps": self.steps,
                "stylegan_r1": float(self.last_r1)}

    def load_state(self, payload: dict, with_optimizer: bool = True) -> None:
        model = payload.get("model", NAME)
        if model != NAME:
            raise ValueError(f"this checkpoint is for model '{model}', not StyleGAN")
        super().load_state(payload, with_optimizer)
        self.steps = int(payload.get("stylegan_steps", payload.get("step", 0)))
        self.last_r1 = torch.tensor(float(payload.get("stylegan_r1", 0.0)), device=self.device)

    # What the finished model is measured by --------------------------------------------------------
    def final_evaluation(self, judge, paths: int = 500) -> dict:
        """Path lengths in Z and in W and the style-mixing measure, stored in the checkpoint so
        the page shows them at once (the bench and ``evaluate`` use 10,000)."""
        if judge is None:
            return {}
        return {"ppl": path_length_summary(self, judge, paths=paths, keep_lengths=True),
                "mixing": mixing_follows(self, judge, count=paths)}

    def extra_metrics(self, judge, count: int = 10_000) -> dict[str, float]:
        """PPL in Z and in W on ``count`` paths, and the style-mixing shares on ``count`` pairs
        crossing over above 8 px (what `evaluate` and bench/stylegan.py print)."""
        if judge is None:
            return {}
        ppl = path_length_summary(self, judge, paths=count)
        mixing = mixing_follows(self, judge, count=count)
        return {"stylegan/ppl_z": ppl["z"]["mean"], "stylegan/ppl_w": ppl["w"]["mean"],
                "stylegan/ppl_w_over_z": ppl["w"]["mean"] / max(ppl["z"]["mean"], 1e-12),
                "stylegan/ppl_z_median": ppl["z"]["median"],
                "stylegan/ppl_w_median": ppl["w"]["median"],
                "stylegan/mixing_follows_coarse_8px": mixing["coarse"],
                "stylegan/mixing_follows_fine_8px": mixing["fine"],
                "stylegan/mixing_follows_coarse_8px_differing": mixing["coarse_differing"]}


# Measurements: perceptual path length and style mixing, with the shipped CNN ------------------------

PPL_EPSILON = 1e-4


def image_features(judge, images: torch.Tensor) -> torch.Tensor:
    """The judge's penultimate features of images, each scaled to unit length (LPIPS compares
    unit-normalised activations; here one layer of the shipped CNN stands in for VGG)."""
    return F.normalize(judge.logits_and_features(images)[1], dim=1)


@torch.no_grad()
def path_lengths(trainer, judge, space: str, paths: int = 10_000, epsilon: float = PPL_EPSILON,
                 seed: int = 0, batch: int = 500) -> torch.Tensor:
    """Perceptual path length samples (Karras et al. 2019, section 4.1): for random endpoints and
    t ~ U(0, 1), d(G(path(t)), G(path(t + ε))) / ε², with d the squared distance of the shipped
    CNN's unit-normalised features. In Z the path is spherical (slerp of z), in W linear (lerp of
    w). Same noise maps and no truncation for both. Returns the ``paths`` values."""
    if space not in ("z", "w"):
        raise ValueError(f"space must be 'z' or 'w', got {space!r}")
    generator = torch.Generator().manual_seed(seed)
    lengths = []
    for start in range(0, paths, batch):
        count = min(batch, paths - start)
        z0, z1 = trainer.noise(count, generator), trainer.noise(count, generator)
        t = torch.rand(count, 1, generator=generator).to(z0.device)
        if space == "z":
            ends = torch.cat([slerp(z0, z1, t), slerp(z0, z1, t + epsilon)])
            images = trainer.generate(ends)
        else:
            w0, w1 = trainer.styles(z0), trainer.styles(z1)
            ends = torch.cat([w0.lerp(w1, t), w0.lerp(w1, t + epsilon)])
            images = trainer.synthesize(ends)
        features = image_features(judge, images)
        lengths.append((features[:count] - features[count:]).square().sum(1).cpu()
                       / epsilon ** 2)
    return torch.cat(lengths)


def filtered_mean(values: torch.Tensor, low: float = 0.01, high: float = 0.99) -> float:
    """The mean of the values between the 1st and 99th percentiles (as StyleGAN2's PPL metric:
    a few paths that cross a sharp change of garment would otherwise dominate)."""
    lo, hi = torch.quantile(values.double(), torch.tensor([low, high], dtype=torch.float64))
    kept = values[(values >= lo) & (values <= hi)]
    return float(kept.mean()) if len(kept) else float(values.mean())


def path_length_summary(trainer, judge, paths: int = 10_000, seed: int = 0,
                        keep_lengths: bool = False) -> dict:
    """PPL in Z and in W: mean (1st–99th percentile), median, and the values themselves."""
    summary: dict[str, Any] = {"paths": paths, "epsilon": PPL_EPSILON}
    for space in ("z", "w"):
        values = path_lengths(trainer, judge, space, paths=paths, seed=seed)
        summary[space] = {"mean": filtered_mean(values), "median": float(values.median())}
        if keep_lengths:
            summary[space]["lengths"] = [round(v, 4) for v in values.tolist()]
    return summary


@torch.no_grad()
def mixing_follows(trainer, judge, resolution: int = 8, count: int = 10_000, seed: int = 0,
                   batch: int = 500) -> dict:
    """Style mixing measured: pairs (A, B) of w, crossing over above ``resolution`` px (A's coarse
    styles, B's fine ones). The share of mixed images whose class (shipped CNN) is A's, B's, and
    A's among the pairs whose A and B differ in class."""
    generator = torch.Generator().manual_seed(seed)
    crossover = crossover_after(trainer.resolutions, resolution)
    follows_first = follows_second = differing = first_differing = 0
    for start in range(0, count, batch):
        size = min(batch, count - start)
        w_first = trainer.styles(trainer.noise(size, generator))
        w_second = trainer.styles(trainer.noise(size, generator))
        classes = [judge.logits_and_features(images)[0].argmax(1) for images in
                   (trainer.synthesize(w_first), trainer.synthesize(w_second),
                    trainer.mixed(w_first, w_second, crossover))]
        first, second, mixed = classes
        follows_first += int((mixed == first).sum())
        follows_second += int((mixed == second).sum())
        differ = first != second
        differing += int(differ.sum())
        first_differing += int((mixed == first)[differ].sum())
    return {"resolution": resolution, "crossover": crossover, "pairs": count,
            "coarse": follows_first / count, "fine": follows_second / count,
            "coarse_differing": first_differing / max(differing, 1)}


# The health monitor's rules ------------------------------------------------------------------------

@dataclass(frozen=True)
class StyleGANThresholds(Thresholds):
    # The bands the loss chart shades and the notes compare with, from this model's CPU preset on
    # Fashion-MNIST (window means): d_loss 0.71-0.74 at steps 200-500, then rising as G catches
    # up (0.83 at 600, 0.96-1.00 at 800-1,050) while D's accuracy fell from 85% to 77% and g_loss
    # from 2.0 to 1.5. The tutorial's 0.5-0.8 would call that healthy run "G fooling D"; R1 keeps
    # D from becoming certain, so d_loss settles higher than with the tutorial's plain D.
    d_loss_band: tuple = (0.6, 1.3)
    g_loss_band: tuple = (0.7, 2.2)
    d_accuracy_healthy: float = 0.75
    # StyleGAN's garments take shape more slowly per step than the DCGAN's: at step 1,050 the CPU
    # preset drew still-forming garments in 5-6 classes (4 on the monitor's 256-image checks), so
    # the class checks wait until step 3,000 instead of 1,000 (the near-duplicate and diversity
    # checks, which catch a real collapse within a few hundred steps, do not wait).
    class_warmup_steps: int = 3000


class StyleGANHealth(GANHealth):
    """The tutorial's rules for its BCE losses (the non-saturating logistic loss is that BCE),
    with bands measured on this model, its R1 and w statistics in the evidence, and StyleGAN's own
    remedies (a stronger R1, lower learning rates, style mixing and the weight average back on)."""

    def __init__(self):
        super().__init__(StyleGANThresholds(), latent_default=64)

    def numbers(self, w: Window) -> list[str]:
        """The tutorial's numbers, then R1's gradient penalty and the spread of w."""
        r1, spread = w.recent("stylegan/r1"), w.recent("stylegan/w_spread")
        gamma = float(w.config.get("r1_gamma", 0.0))
        numbers = super().numbers(w)
        if not r1.empty and gamma:
            numbers.append(_("R1: |∇D(x)|² {r1:.3g} on average (γ = {gamma:g}, "
                             "penalty γ/2·|∇D(x)|² = {penalty:.3g})").format(
                                 r1=r1.mean(), gamma=gamma, penalty=gamma / 2 * r1.mean()))
        if not spread.empty:
            numbers.append(_("w spread (mean distance of a batch's w to the average w) "
                             "{spread:.3g}").format(spread=spread.mean()))
        return numbers

    @property
    def chart_notes(self) -> dict[str, str]:
        """The GAN charts' notes, and what a healthy R1 looks like."""
        return {**super().chart_notes,
                "r1": _("R1 is |∇D(x)|², how steeply D's score changes around real images. "
                        "Healthy: small and roughly level, perhaps slowly rising. A climb by "
                        "orders of magnitude means D is getting sharp at the data (raise γ); "
                        "near 0 all along with blurry images may mean γ is too strong.")}

    def remedies(self, state: str, config: dict) -> list[Remedy]:
        """StyleGAN's remedies (R1, G_ema) and the tutorial's (lower rates, nz), each with its
        source."""
        remedies = []
        lr_d, lr_g = config.get("learning_rate_d", 2e-3), config.get("learning_rate_g", 2e-3)
        gamma = float(config.get("r1_gamma", 0.05))
        stronger = Remedy(_("Stronger R1 (γ = {gamma:g})").format(
                              gamma=min(max(gamma * 10, 0.01), 100)),
                          {"r1_gamma": min(max(gamma * 10, 0.01), 100.0)},
                          _("a larger penalty on D's gradient at real images keeps D smooth, so "
                            "its gradient stays informative for G"),
                          source=_("StyleGAN (Karras et al. 2019; R1 from Mescheder et al. "
                                   "2018)"))
        if state == "convergence failure":
            if gamma < 100:
                remedies.append(stronger)
            remedies.append(Remedy(_("Lower D's learning rate (÷4)"),
                                   {"learning_rate_d": lr_d / 4},
                                   _("slows the discriminator down relative to G")))
        elif state in ("mode collapse", "oscillation"):
            if config.get("latent_dim", self.latent_default) < 10:
                remedies.append(Remedy(_("z size = {size}").format(size=self.latent_default),
                                       {"latent_dim": self.latent_default},
                                       _("a tiny z gives G almost nothing to vary; the mapping "
                                         "network's input changes, so it restarts at step 0"),
                                       from_scratch=True,
                                       source=_("{tutorial} (nz = 1 provokes collapse)").format(
                                           tutorial=_(TUTORIAL))))
            remedies.append(Remedy(_("Lower learning rates (÷2)"),
                                   {"learning_rate_d": lr_d / 2, "learning_rate_g": lr_g / 2},
                                   _("the tutorial: a too-large lr easily causes this")))
            if gamma < 100:
                remedies.append(stronger)
            if not config.get("generator_ema"):
                remedies.append(Remedy(_("G weight average (0.999)"), {"generator_ema": 0.999},
                                       _("the finished images come from an average of G over "
                                         "the last ~1,000 steps, which smooths out a swing"),
                                       source=_("StyleGAN (Karras et al. 2019): G_ema")))
        return remedies


MEASURED_PATHS = 500       # the page's path lengths and mixing shares


def page_measurements(model, judge, data=None) -> dict | None:
    """The page's path lengths in Z and W and style-mixing shares (a page figure: stored in a
    shipped checkpoint)."""
    if judge is None or model.image_shape[0] != 1:
        return None
    return {"ppl": path_length_summary(model, judge, paths=MEASURED_PATHS, keep_lengths=True),
            "mixing": mixing_follows(model, judge, count=MEASURED_PATHS)}


def headline(values: dict) -> str:
    """The history table's line: path lengths in W and Z, and style mixing."""
    return _("path length W {w:.1f} vs Z {z:.1f}; style mixing follows the coarse source "
             "{coarse:.0%}").format(w=values[f"{NAME}/ppl_w"], z=values[f"{NAME}/ppl_z"],
                                    coarse=values[f"{NAME}/mixing_follows_coarse_8px"])


SPEC = ModelSpec(
    headline=headline,
    paper=Paper(2018, 'Karras et al. 2018, arXiv:1812.04948', N_('a mapping network to W and per-layer styles (AdaIN) with noise: control over coarse and fine features')),
    figures={"measurements": page_measurements},
    name=NAME, title=N_("StyleGAN"), config_cls=StyleGANConfig, build_network=build,
    section=N_("GANs"), icon=":material/style:", url_path="stylegan",
    **gan_task.FAMILY, trainer=StyleGANTrainer, health=StyleGANHealth(),
    panel="ui.panels.stylegan:StyleGANPanel",
    summary=N_("StyleGAN redesigned the generator: a mapping network turns z into a style vector w, "
                "and w steers every layer of a synthesis network that starts from a learned constant "
                "(coarse layers: silhouette and kind of garment; fine layers: texture and shading), "
                "while per-layer noise adds random detail. The tutorial says it solved feature "
                "entanglement (特性重叠); the paper's claim is milder — W is less entangled than Z "
                "— with path length as evidence. Here: StyleGAN2's modulated convolutions, style "
                "mixing, truncation in W and that evidence measured: is W smoother than Z on this "
                "model, or not? Its ψ is a weight towards the average style: w' = w̄ + ψ(w − w̄), "
                "so ψ = 1 is no truncation and ψ = 0 the average garment for every seed — not "
                "BigGAN's ψ, a threshold on z where small means strong truncation."),
    presets={
        N_("CPU preset (32 px, G/D 64 channels, batch 32, 10 epochs, at most an hour)"): {
            "time_budget_s": 3600.0},
        N_("Quick look (G/D 32 channels, 2 epochs)"): {
            "generator_width": 32, "discriminator_width": 32, "epochs": 2},
        N_("Mapping off (w = normalised z: compare the path lengths)"): {
            "mapping_layers": 0},
        N_("Mixing off (style-mixing probability 0)"): {"style_mixing": 0.0},
        N_("Noise off (no noise inputs)"): {"use_noise": False},
        N_("Paper's mapping (8 layers, z = w = 512)"): {
            "mapping_layers": 8, "latent_dim": 512, "style_dim": 512},
    },
)
