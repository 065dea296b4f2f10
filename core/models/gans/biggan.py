"""BigGAN, scaled down: a class-conditional residual GAN with a shared class embedding,
hierarchical latents, orthogonal regularisation, G's weight average and the truncation trick.

Large Scale GAN Training for High Fidelity Natural Image Synthesis (Brock et al. 2019),
https://arxiv.org/abs/1809.11096 . What the paper changed (on top of SAGAN's hinge loss, spectral
norm, projection D and self-attention):
  - scale: 2-4x the parameters of earlier GANs (every layer 50% wider) and 8x the batch (2,048),
    trained on 128 to 512 TPU v3 cores for one to two days on ImageNet;
  - a shared class embedding: one embedding of the class feeds every conditional batch norm of G
    (through its own linear map) instead of a separate table per layer;
  - hierarchical latents: z is split into chunks, one per block of G, each concatenated with the
    class embedding to set that block's batch-norm gain and bias, so z acts at every scale;
  - orthogonal regularisation β‖WᵀW ⊙ (1 − I)‖²_F on G, which keeps G smooth enough for
  - the truncation trick: sampling z from a normal truncated at a threshold ψ (entries above ψ
    in magnitude drawn again) trades diversity for fidelity as ψ falls — small ψ, strong
    truncation (StyleGAN's ψ is an interpolation weight instead: 1 = none);
  - two D steps per G step and an exponential moving average of G's weights for sampling.
ImageNet 128 px: Inception score 166.5, FID 7.4 (previous best 52.5 / 18.7, SAGAN's). Here: the
paper's 32 px (CIFAR) architecture — residual G and D blocks, attention at 16×16 — at CPU widths.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core import gan_task
from core.config import ConfigError, param
from core.i18n import N_, _
from core.models.gans.conditional import (ConditionalBatchNorm2d,
                                          ConditionalConfig, ConditionalGANTrainer,
                                          ProjectionHead, SelfAttention, spectral_norm,
                                          truncation_curve)
from core.models.gans.hinge_health import HingeHealth
from core.models.spec import ModelSpec, Paper, Reference

NAME = "biggan"
BLOCKS = 3          # G's residual blocks at 32 px: 4 -> 8 -> 16 -> 32


@dataclass
class BigGANConfig(ConditionalConfig):
    learning_rate_d: float = param(2e-4, "discriminator learning rate (the paper: 2e-4)",
                                   low=1e-6, high=1e-2, log=True, label=N_("learning rate D"))
    learning_rate_g: float = param(5e-5, "generator learning rate (the paper: 5e-5, 4x slower "
                                   "than D)", low=1e-6, high=1e-2, log=True,
                                   label=N_("learning rate G"))
    beta2: float = param(0.999, "Adam's beta2 (BigGAN: 0.999)", low=0.0, high=0.9999,
                         label=N_("Adam beta2"))
    discriminator_steps: int = param(2, "D steps per G step (the paper: 2); the extra steps reuse "
                                     "the step's real batch with new generated images", low=1,
                                     high=5, label=N_("D steps per G step"))
    generator_width: int = param(16, "ch: G's blocks have 4·ch, 2·ch and ch channels at 8, 16 and "
                                 "32 px (the paper's 32 px net: 4·ch = 256 in every block)",
                                 low=2, high=128, label=N_("G width ch"), size="width")
    discriminator_width: int = param(16, "ch of D: ch, 2·ch and 4·ch channels at 16, 8 and 4 px",
                                     low=2, high=128, label=N_("D width ch"), size="width")
    shared_embedding_dim: int = param(128, "size of the shared class embedding every conditional "
                                      "batch norm of G reads (the paper: 128)", low=1, high=512,
                                      label=N_("shared embedding size"), size="width")
    hierarchical_latent: bool = param(True, "split z into one chunk per block of G (plus one for "
                                      "the input), each joined with the class embedding in that "
                                      "block's batch norm; off = all of z at G's input",
                                      label=N_("hierarchical z"))
    orthogonal_regularisation: float = param(
        1e-4, "weight β of the orthogonal regularisation on G's weights, β‖WᵀW ⊙ (1 − I)‖² (the "
        "paper: 1e-4)", choices=(0.0, 1e-5, 1e-4, 1e-3), zero_means=N_("off"),
        label=N_("orthogonal regularisation β"))
    generator_ema: float = param(0.999, "decay of the exponential moving average of G's weights "
                                 "the finished model draws with (the paper samples with it; "
                                 "0.999 averages over about the last 1,000 steps); 0 = off",
                                 choices=(0.0, 0.99, 0.999, 0.9995, 0.9999),
                                 label=N_("G weight average (EMA decay)"), zero_means=N_("off"))

    def attention_channels(self) -> dict[str, int]:
        return {"generator_width": 2 * self.generator_width,
                "discriminator_width": self.discriminator_width}

    def check(self) -> None:
        super().check()
        if self.hierarchical_latent and self.latent_dim % (BLOCKS + 1):
            raise ConfigError(_("hierarchical z splits nz into {chunks} equal chunks (one for "
                                "G's input, one per block): latent_dim = {latent_dim} is not "
                                "divisible by {chunks}").format(chunks=BLOCKS + 1,
                                                                latent_dim=self.latent_dim))


def orthogonal(layer: nn.Module) -> nn.Module:
    """BigGAN's initialisation: orthogonal weights (then spectral norm)."""
    assert isinstance(layer.weight, torch.Tensor)
    nn.init.orthogonal_(layer.weight)
    return spectral_norm(layer)


class GeneratorBlock(nn.Module):
    """BigGAN's up block: CBN → ReLU → ×2 → conv3 → CBN → ReLU → conv3, plus ×2 → conv1 as the
    shortcut. The batch norms read [class embedding, this block's chunk of z]."""

    def __init__(self, inputs: int, outputs: int, condition_dim: int):
        super().__init__()
        norm = (lambda channels: ConditionalBatchNorm2d(channels, condition_dim, True)) \
            if condition_dim else nn.BatchNorm2d
        self.norm1, self.norm2 = norm(inputs), norm(outputs)
        self.conv1 = orthogonal(nn.Conv2d(inputs, outputs, 3, 1, 1))
        self.conv2 = orthogonal(nn.Conv2d(outputs, outputs, 3, 1, 1))
        self.shortcut = orthogonal(nn.Conv2d(inputs, outputs, 1))
        self.is_conditional = bool(condition_dim)

    def normalise(self, norm, x, condition):
        return norm(x, condition) if self.is_conditional else norm(x)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        h = F.interpolate(F.relu(self.normalise(self.norm1, x, condition)), scale_factor=2)
        h = self.conv2(F.relu(self.normalise(self.norm2, self.conv1(h), condition)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))           # (B, out, 2H, 2W)


class Generator(nn.Module):
    """[z, class vector] -> (B, C, 32, 32). The class vector (one-hot, or a mix of two for
    interpolation) goes through the shared embedding; z is split into BLOCKS + 1 chunks."""

    def __init__(self, config: BigGANConfig, image_shape=(1, 32, 32)):
        super().__init__()
        width = config.generator_width
        self.latent_dim, self.is_conditional = config.latent_dim, config.conditional
        self.chunks = BLOCKS + 1 if config.hierarchical_latent else 1
        chunk = config.latent_dim // self.chunks
        self.chunk_sizes = [config.latent_dim - chunk * (self.chunks - 1)] + \
            [chunk] * (self.chunks - 1)
        self.shared = nn.Linear(config.classes, config.shared_embedding_dim, bias=False) \
            if config.conditional else None
        if self.shared is not None:
            nn.init.orthogonal_(self.shared.weight)
        condition_dim = (config.shared_embedding_dim if config.conditional else 0) + \
            (chunk if config.hierarchical_latent else 0)
        widths = [4 * width, 4 * width, 2 * width, width]                    # 4, 8, 16, 32 px
        self.start = widths[0]
        self.project = orthogonal(nn.Linear(self.chunk_sizes[0], widths[0] * 4 * 4))
        self.blocks = nn.ModuleList(GeneratorBlock(widths[i], widths[i + 1], condition_dim)
                                    for i in range(BLOCKS))
        self.attention = SelfAttention(widths[2], config.attention_reduction,
                                       config.attention_heads) if config.self_attention else None
        self.output_norm = nn.BatchNorm2d(width)
        self.to_image = orthogonal(nn.Conv2d(width, image_shape[0], 3, 1, 1))

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        z, classes = latent[:, :self.latent_dim], latent[:, self.latent_dim:]
        chunks = z.split(self.chunk_sizes, dim=1)
        embedding = self.shared(classes) if self.shared is not None else None   # (B, shared)
        x = self.project(chunks[0]).view(len(z), self.start, 4, 4)         # (B, 4ch, 4, 4)
        for index, block in enumerate(self.blocks):                         # 8, 16, 32 px
            parts = ([embedding] if embedding is not None else []) + \
                ([chunks[index + 1]] if self.chunks > 1 else [])
            x = block(x, torch.cat(parts, 1) if parts else None)
            if index == 1 and self.attention is not None:                    # (B, 2ch, 16, 16)
                x = self.attention(x)
        return torch.tanh(self.to_image(F.relu(self.output_norm(x))))      # (B, C, 32, 32)


class DiscriminatorBlock(nn.Module):
    """BigGAN's down block: (ReLU →) conv3 → ReLU → conv3 (→ avg-pool /2), plus a 1×1 shortcut.
    The first block skips the leading ReLU (it reads the image) and pools before its shortcut."""

    def __init__(self, inputs: int, outputs: int, downsample: bool, preactivation: bool):
        super().__init__()
        self.conv1 = orthogonal(nn.Conv2d(inputs, outputs, 3, 1, 1))
        self.conv2 = orthogonal(nn.Conv2d(outputs, outputs, 3, 1, 1))
        self.shortcut = orthogonal(nn.Conv2d(inputs, outputs, 1)) \
            if inputs != outputs or downsample else None
        self.downsample, self.preactivation = downsample, preactivation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        shortcut = x
        if self.preactivation:
            shortcut = self.shortcut(x) if self.shortcut is not None else x
            shortcut = F.avg_pool2d(shortcut, 2) if self.downsample else shortcut
        elif self.shortcut is not None:
            shortcut = F.avg_pool2d(x, 2) if self.downsample else x
            shortcut = self.shortcut(shortcut)
        return h + shortcut


class Discriminator(nn.Module):
    """(B, C, 32, 32) and a class vector -> (B,) scores: blocks to 16 (attention), 8, 4 px and
    one more at 4 px, ReLU, sum pooling, the projection head."""

    def __init__(self, config: BigGANConfig, image_shape=(1, 32, 32)):
        super().__init__()
        width = config.discriminator_width
        self.blocks = nn.ModuleList([
            DiscriminatorBlock(image_shape[0], width, True, False),        # (B, ch, 16, 16)
            DiscriminatorBlock(width, 2 * width, True, True),              # (B, 2ch, 8, 8)
            DiscriminatorBlock(2 * width, 4 * width, True, True),          # (B, 4ch, 4, 4)
            DiscriminatorBlock(4 * width, 4 * width, False, True)])        # (B, 4ch, 4, 4)
        self.attention = SelfAttention(width, config.attention_reduction, config.attention_heads) \
            if config.self_attention else None
        self.head = ProjectionHead(4 * width, config.classes, config.conditional)

    def forward(self, images: torch.Tensor, classes: torch.Tensor | None = None) -> torch.Tensor:
        x = images
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index == 0 and self.attention is not None:                    # (B, ch, 16, 16)
                x = self.attention(x)
        return self.head(F.relu(x).sum((2, 3)), classes)                   # (B,)


def build(config: BigGANConfig, image_shape=(1, 32, 32)) -> tuple[nn.Module, nn.Module]:
    """G and D at ``config.image_size`` (32 px) with ``image_shape``'s channels."""
    shape = (image_shape[0], config.image_size, config.image_size)
    return Generator(config, shape), Discriminator(config, shape)


@torch.no_grad()
def orthogonal_gradient(network: nn.Module, strength: float, skip: tuple = ()) -> None:
    """Add the gradient of BigGAN's orthogonal regularisation to every weight matrix W of
    ``network`` (a conv's weight read as (out, in·k·k)), except those in ``skip``: 2β (WWᵀ ⊙
    (1 − I)) W, which BigGAN-PyTorch adds directly — the gradient of (β/2)‖WWᵀ ⊙ (1 − I)‖²_F, so
    its β = 1e-4 is half the paper's written penalty."""
    skipped = {id(p) for p in skip}
    for weight in network.parameters():
        if weight.dim() < 2 or weight.grad is None or id(weight) in skipped:
            continue
        matrix = weight.view(len(weight), -1)                                # (out, in·k·k)
        gram = matrix @ matrix.T
        gram.fill_diagonal_(0)
        weight.grad.add_((2 * strength * gram @ matrix).view_as(weight))


class BigGANTrainer(ConditionalGANTrainer):
    """The conditional hinge trainer with BigGAN's orthogonal regularisation on G (the shared
    embedding is left out, as in the paper's code), two D steps, and G's weight average."""

    config: BigGANConfig
    # The weight average ramps up as StyleGAN2's does: with a plain 0.999 from step 1, a GPU run
    # of 1,500 steps drew from an average still mostly made of early weights (Fréchet distance
    # 71 against 21 for its own G, intended class 57% against 79%).
    average_rampup = 0.05

    def before_generator_step(self) -> None:
        if self.config.orthogonal_regularisation:
            shared = self.generator.shared
            orthogonal_gradient(self.generator, self.config.orthogonal_regularisation,
                                tuple(shared.parameters()) if shared is not None else ())

    def reference_metrics(self, judge, data, count: int = 10_000) -> dict[str, float]:
        """The conditional figures, and the truncation curve: intended-class accuracy, diversity
        within a class and Fréchet distance at each ψ."""
        values = super().reference_metrics(judge, data, count)
        if not self.class_count or judge is None:
            return values
        for row in truncation_curve(self, judge, data, per_class=count // self.class_count):
            for key in ("intended_accuracy", "class_diversity", "frechet_distance"):
                values[f"truncation/psi_{row['psi']:g}_{key}"] = row[key]
        return values


CURVE_PER_CLASS = 100      # samples per class and ψ on the page (the bench and evaluate: 1,000)


def page_truncation_curve(model, judge, data) -> list[dict] | None:
    """The page's truncation curve (a page figure: stored in a shipped checkpoint)."""
    if judge is None or model.image_shape[0] != 1 or model.class_count != 10:
        return None
    return truncation_curve(model, judge, data, per_class=CURVE_PER_CLASS)


def headline(values: dict) -> str:
    """The history table's line: the intended class at truncation threshold 1."""
    return _("at threshold 1: intended class {accuracy:.1%}").format(
        accuracy=values['truncation/psi_1_intended_accuracy'])


SPEC = ModelSpec(
    headline=headline,
    paper=Paper(2018, 'Brock et al. 2018, arXiv:1809.11096', N_('scale, shared class embeddings, orthogonal regularisation and the truncation trick')),
    figures={"truncation_curve": page_truncation_curve},
    name=NAME, title=N_("BigGAN"), config_cls=BigGANConfig, build_network=build, **gan_task.FAMILY,
    section=N_("GANs"), icon=":material/category:", url_path="biggan",
    trainer=BigGANTrainer, health=HingeHealth(latent_default=128),
    panel="ui.panels.biggan:BigGANPanel",
    summary=N_("BigGAN (Brock et al. 2019), scaled down and class-conditional: choose the garment, "
                "then trade variety for fidelity with the truncation trick. Its ψ is a threshold: "
                "every entry of z larger than ψ in magnitude is drawn again, so a small ψ truncates "
                "strongly and ψ = 2 hardly at all (StyleGAN's ψ is another thing: a weight towards "
                "the average style, where 1 means no truncation). What the paper changed: scale "
                "(2–4× the parameters of earlier GANs, each layer 50% wider, and 8× the batch, "
                "2,048; 128 to 512 TPU v3 cores for one to two days on ImageNet), a "
                "class embedding shared by every conditional batch norm of G, hierarchical latents "
                "(a chunk of z for every block), orthogonal regularisation so G stays smooth enough "
                "to truncate, two D steps per G step and G's weight average. On ImageNet 128 px: "
                "Inception score 166.5 and FID 7.4, against SAGAN's 52.5 and 18.7 (the paper's "
                "figures: context, not a target; the tutorial notes that scaled-down versions still "
                "work well)."),
    presets={
        N_("CPU (the paper's settings at ch = 16; stops after 60 min)"): {
            "epochs": 20, "time_budget_s": 3600.0},
        N_("Paper widths (ch = 64, as BigGAN-PyTorch's 32 px net; for a GPU)"): {
            "generator_width": 64, "discriminator_width": 64},
        N_("No orthogonal regularisation, no weight average (the ablation)"): {
            "orthogonal_regularisation": 0.0, "generator_ema": 0.0},
        N_("Failure demo (D lr 4e-3, 5 D steps: D runs away)"): {
            "learning_rate_d": 4e-3, "discriminator_steps": 5},
    },
    references=(Reference(N_("BigGAN, ImageNet 128 px: Inception score"), 166.5, "arXiv:1809.11096"),
                Reference(N_("BigGAN, ImageNet 128 px: FID"), 7.4, "arXiv:1809.11096")),
)
