"""What the class-conditional GANs here share (SAGAN and BigGAN): spectral norm, class-conditional
batch norm, the self-attention block, the projection discriminator's head, the truncated prior,
and a trainer whose latent carries the class.

- Conditional batch norm (de Vries et al. 2017; Dumoulin et al. 2017): batch norm without its own
  scale and shift; a class (or, in BigGAN, a class embedding with a chunk of z) sets them.
- Projection discriminator (Miyato & Koyama 2018, https://arxiv.org/abs/1802.05637):
  D(x, y) = ψ(φ(x)) + <embed(y), φ(x)>, the class entering as an inner product with D's features.
- Self-attention (Zhang et al. 2019, SAGAN, https://arxiv.org/abs/1805.08318): every position of a
  feature map mixes the values of all positions, weighted by a softmax of query · key, and adds
  γ times that to its input; γ starts at 0, so the block starts as the identity.
- Hinge loss (``base.LOSSES["hinge"]``), spectral norm on every layer, TTUR, Adam β1 = 0.

The latent a conditional G reads is one tensor, [z, class vector]: ``noise`` draws z ~ N(0, I) and
a one-hot class uniform over the classes, so everything generic (the fixed-noise grid, the monitor,
the judge, the weight average) keeps working; a soft class vector (a mix of two one-hots) is how the
pages interpolate between classes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core import gan_eval
from core.config import ConfigError, param
from core.i18n import N_, _
from core.models.gans.base import (AdversarialLoop, GANTrainer, LOSSES, discriminator_metrics,
                                   generator_average_param, gradient_norm, make_adam,
                                   mean_pairwise_distance, to_gan_range)

TRUNCATION_VALUES = (0.25, 0.5, 0.75, 1.0, 1.5)   # the ψ of the fidelity/diversity curve


# Settings --------------------------------------------------------------------------------------

@dataclass
class ConditionalConfig(AdversarialLoop):
    """Settings SAGAN and BigGAN share (SAGAN's defaults: TTUR D 4e-4 / G 1e-4, Adam β 0 / 0.9)."""
    learning_rate_d: float = param(4e-4, "discriminator learning rate (SAGAN's TTUR: 4e-4)",
                                   low=1e-6, high=1e-2, log=True, label=N_("learning rate D"))
    learning_rate_g: float = param(1e-4, "generator learning rate (SAGAN's TTUR: 1e-4)", low=1e-6,
                                   high=1e-2, log=True, label=N_("learning rate G"))
    epochs: int = param(10, "passes over the training set", low=1, high=200)
    latent_dim: int = param(128, "length of the noise vector z (the papers: 128); the class comes "
                            "on top", low=1, high=200, label=N_("nz (latent size)"))
    beta1: float = param(0.0, "Adam's beta1 (SAGAN and BigGAN: 0)", low=0.0, high=0.999,
                         label=N_("Adam beta1"))
    beta2: float = param(0.9, "Adam's beta2 (SAGAN: 0.9, BigGAN: 0.999)", low=0.0, high=0.9999,
                         label=N_("Adam beta2"))
    discriminator_steps: int = param(1, "D steps per G step (SAGAN: 1 with TTUR; BigGAN: 2); the "
                                     "extra steps reuse the step's real batch with new generated "
                                     "images", low=1, high=5, label=N_("D steps per G step"))
    conditional: bool = param(True, "class-conditional: class-conditional batch norm in G and a "
                              "projection D, so you choose the class; off = an unconditional GAN",
                              label=N_("class-conditional"))
    classes: int = param(10, "classes the model is conditioned on (Fashion-MNIST: 10); the data's "
                         "labels must lie in 0 … classes − 1", low=1, high=1000, advanced=True)
    self_attention: bool = param(True, "a self-attention block at the 16×16 feature maps of G and "
                                 "D (off = γ fixed at 0: the block is the identity)",
                                 label=N_("self-attention"))
    attention_heads: int = param(1, "attention heads (the paper: 1); the channels at 16×16 must "
                                 "divide by heads × reduction", choices=(1, 2, 4),
                                 label=N_("attention heads"))
    attention_reduction: int = param(8, "query and key channels = channels / reduction (the "
                                     "paper: 8)", choices=(1, 2, 4, 8),
                                     label=N_("attention reduction"))
    spectral_norm_generator: bool = param(True, "spectral norm on G's layers too (SAGAN's change; "
                                          "D always has it)", label=N_("spectral norm on G"))
    image_size: int = param(32, "image size (32 px: attention sits at the 16×16 maps)",
                            choices=(32,), advanced=True, label=N_("image size"))
    generator_ema: float = generator_average_param()

    def attention_channels(self) -> dict[str, int]:
        """{which width field: channels of the 16×16 map the attention block reads}."""
        return {}

    def check(self) -> None:
        if not self.self_attention:
            return
        unit = self.attention_reduction * self.attention_heads
        for name, channels in self.attention_channels().items():
            if channels % unit:
                raise ConfigError(
                    _("self-attention at the 16×16 map needs its channels ({channels}, set by "
                      "{name} = {value}) divisible by attention_reduction × "
                      "attention_heads = {reduction} × {heads} = "
                      "{unit}; change {name} or the attention settings").format(
                        channels=channels, name=name, value=getattr(self, name),
                        reduction=self.attention_reduction, heads=self.attention_heads,
                        unit=unit))


# Layers ----------------------------------------------------------------------------------------

def spectral_norm(layer: nn.Module, enabled: bool = True) -> nn.Module:
    """W / σ(W), σ estimated by one power iteration per training forward (Miyato et al. 2018)."""
    return nn.utils.parametrizations.spectral_norm(layer, eps=1e-6) if enabled else layer


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift come from a condition vector: out = BN(x)·(1 + W_γ c) + W_β c.

    With c a one-hot class, W c is that class's column: a per-class gain and bias (SAGAN). With c
    = [shared class embedding, chunk of z] (BigGAN) it is the paper's linear projection. A soft c
    (a mix of two classes) mixes their gains and biases.
    """

    def __init__(self, channels: int, condition_dim: int, use_spectral_norm: bool = False):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = spectral_norm(nn.Linear(condition_dim, channels, bias=False), use_spectral_norm)
        self.bias = spectral_norm(nn.Linear(condition_dim, channels, bias=False), use_spectral_norm)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(condition).view(len(x), -1, 1, 1)       # (B, C, 1, 1)
        bias = self.bias(condition).view(len(x), -1, 1, 1)
        return self.norm(x) * gain + bias


class SelfAttention(nn.Module):
    """SAGAN's block: o = softmax(qᵀk) v (per head), out = x + γ · W_o o.

    q, k: 1×1 convs to C / reduction channels; v: C channels; W_o: a 1×1 conv that mixes the
    heads. Keys and values are max-pooled 2×2 first, as BigGAN-PyTorch and StudioGAN do: each of
    the N = H·W query positions looks at N/4 key cells (8×8 at a 16×16 map), which makes the
    block 4× cheaper. Row i of the softmax (over the key cells) is where position i looks, so every
    row sums to 1. γ is learned and starts at 0: the block starts as the identity and the network
    learns how much to use it. Set ``record`` to keep the last maps in ``maps`` (B, heads, N,
    N/4) for the attention viewer.
    """

    def __init__(self, channels: int, reduction: int = 8, heads: int = 1,
                 use_spectral_norm: bool = True):
        super().__init__()
        if channels % (reduction * heads):
            raise ConfigError(_("self-attention over {channels} channels needs them divisible "
                                "by reduction × heads = {reduction} × {heads}").format(
                                    channels=channels, reduction=reduction, heads=heads))
        self.heads = heads
        conv = lambda inputs, outputs: spectral_norm(nn.Conv2d(inputs, outputs, 1, bias=False),
                                                     use_spectral_norm)
        self.query = conv(channels, channels // reduction)
        self.key = conv(channels, channels // reduction)
        self.value, self.out = conv(channels, channels), conv(channels, channels)
        self.gamma = nn.Parameter(torch.zeros(()))
        self.record = False
        self.maps: torch.Tensor | None = None

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """The maps (B, heads, N, N/4): row i = where query position i looks among the key cells."""
        batch = len(x)
        query = self.query(x).flatten(2).view(batch, self.heads, -1, x.shape[2] * x.shape[3])
        key = F.max_pool2d(self.key(x), 2).flatten(2)                      # (B, C/r, N/4)
        key = key.view(batch, self.heads, -1, key.shape[-1])              # (B, h, C/rh, N/4)
        scores = query.transpose(2, 3) @ key                              # (B, h, N, N/4)
        return scores.softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        maps = self.attention(x)                                          # (B, h, N, N/4)
        if self.record:
            self.maps = maps.detach()
        value = F.max_pool2d(self.value(x), 2).flatten(2)                 # (B, C, N/4)
        value = value.view(batch, self.heads, channels // self.heads, -1)  # (B, h, C/h, N/4)
        mixed = (value @ maps.transpose(2, 3)).reshape(batch, channels, height, width)
        return x + self.gamma * self.out(mixed)


class ProjectionHead(nn.Module):
    """D's last layer: ψ(φ) + <V c, φ> (Miyato & Koyama 2018) for D's pooled features φ (B, F)
    and a class vector c (B, K); without c (an unconditional D) just ψ(φ)."""

    def __init__(self, features: int, classes: int, conditional: bool):
        super().__init__()
        self.linear = spectral_norm(nn.Linear(features, 1))
        self.embedding = spectral_norm(nn.Linear(classes, features, bias=False)) \
            if conditional else None

    def forward(self, features: torch.Tensor, classes: torch.Tensor | None) -> torch.Tensor:
        logits = self.linear(features).squeeze(1)                          # (B,)
        if self.embedding is not None and classes is not None:
            logits = logits + (self.embedding(classes) * features).sum(1)
        return logits


def attention_layers(network: nn.Module) -> list[tuple[str, SelfAttention]]:
    return [(name, module) for name, module in network.named_modules()
            if isinstance(module, SelfAttention)]


# The prior -------------------------------------------------------------------------------------

def truncated_normal(count: int, dim: int, threshold: float | None,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """z ~ N(0, I) with every value whose magnitude is above ``threshold`` (ψ) drawn again until
    none is (BigGAN's truncation trick); ``threshold`` None = no truncation."""
    z = torch.randn(count, dim, generator=generator)
    if threshold is None:
        return z
    if not threshold > 0:
        raise ConfigError(_("the truncation threshold ψ must be > 0; got {threshold}").format(
            threshold=threshold))
    flat = z.view(-1)
    index = (flat.abs() > threshold).nonzero().squeeze(1)      # the values still outside
    while len(index):
        flat[index] = torch.randn(len(index), generator=generator)
        index = index[flat[index].abs() > threshold]
    return z


def check_labels(labels: torch.Tensor, classes: int) -> None:
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        bad = int(labels.max()) if int(labels.max()) >= classes else int(labels.min())
        raise ConfigError(_("class {bad} is out of range: this model knows classes 0 … "
                            "{last}").format(bad=bad, last=classes - 1))


# The trainer -----------------------------------------------------------------------------------

class ConditionalGANTrainer(GANTrainer):
    """A hinge-loss GAN whose latent is [z, class vector]: ``noise`` draws both, G splits them, D
    reads the real images' labels and the generated images' classes (a projection D).

    ``train_step`` takes ``discriminator_steps`` D steps, then one G step on the last D step's
    generated images. ``before_generator_step`` lets a model touch G's gradients (BigGAN's
    orthogonal regularisation); ``step_metrics`` adds a model's own figures (SAGAN's γ).
    """

    loss = "hinge"
    uses_labels = True

    def __init__(self, spec, config, image_shape, device: torch.device):
        super().__init__(spec, config, image_shape, device)
        self.labels_checked = False

    # The latent ----------------------------------------------------------------------------------
    @property
    def class_count(self) -> int:
        """Classes the model draws (0 for an unconditional model)."""
        return self.config.classes if self.config.conditional else 0

    def make_optimizers(self):
        config = self.config
        return (make_adam(self.generator.parameters(), config.learning_rate_g, config.beta1,
                          config.beta2),
                make_adam(self.discriminator.parameters(), config.learning_rate_d, config.beta1,
                          config.beta2))

    def class_vectors(self, labels: torch.Tensor) -> torch.Tensor:
        """Class indices (B,) -> one-hot (B, K); a float (B, K) tensor is taken as it is."""
        if labels.is_floating_point() and labels.dim() == 2:
            if labels.shape[1] != self.class_count:
                raise ConfigError(_("a class vector needs {count} entries, got "
                                    "{got}").format(count=self.class_count, got=labels.shape[1]))
            return labels.float()
        check_labels(labels, self.class_count)
        return F.one_hot(labels.long(), self.class_count).float()

    def latent_for(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """What G reads: [z, one_hot(labels)] (or a soft class vector (B, K) as it is); z alone for
        an unconditional model. A class outside 0 … K − 1 raises ConfigError."""
        if not self.class_count:
            return z.to(self.device)
        if labels is None:
            raise ConfigError(_("a class-conditional model needs a class for every z"))
        return torch.cat([z.float(), self.class_vectors(labels.cpu())], 1).to(self.device)

    def split(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(z, class vector or None)."""
        if not self.class_count:
            return latent, None
        return latent[:, :self.config.latent_dim], latent[:, self.config.latent_dim:]

    def sample_z(self, count: int, generator: torch.Generator | None = None,
                 truncation: float | None = None) -> torch.Tensor:
        return truncated_normal(count, self.config.latent_dim, truncation, generator)

    def noise(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I) and a class uniform over the classes, as one latent [z, one_hot(y)]."""
        z = self.sample_z(count, generator)
        if not self.class_count:
            return z.to(self.device)
        labels = torch.randint(0, self.class_count, (count,), generator=generator)
        return self.latent_for(z, labels)

    # Training ------------------------------------------------------------------------------------
    def real_classes(self, labels: torch.Tensor | None, count: int) -> torch.Tensor | None:
        if not self.class_count:
            return None
        if labels is None:
            raise ConfigError(_("a class-conditional GAN trains on labelled images"))
        if not self.labels_checked:   # once: the data's labels must fit the model's classes
            check_labels(labels, self.class_count)
            self.labels_checked = True
        return F.one_hot(labels.long(), self.class_count).float().to(self.device)

    def before_generator_step(self) -> None:
        """After G's backward, before its optimizer step (BigGAN: orthogonal regularisation)."""

    def step_metrics(self) -> dict[str, torch.Tensor]:
        """A model's own figures for the step's metrics (SAGAN: γ of each attention block)."""
        return {}

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None
                   ) -> dict[str, torch.Tensor]:
        """``discriminator_steps`` hinge D steps, then one G step; metrics as tensors."""
        self.generator.train(), self.discriminator.train()
        loss = LOSSES[self.loss]
        batch = len(real)
        real_classes = self.real_classes(labels, batch)

        # Update D: hinge on real (with their labels) and generated images (with their classes).
        # Real and generated images go through D as one batch (D has no batch norm).
        steps = self.config.discriminator_steps
        for index in range(steps):
            latent = self.noise(batch)
            if index == steps - 1:        # the G step reuses the last D step's images
                fake = self.generator(latent)
                images = fake.detach()
            else:
                with torch.no_grad():
                    images = self.generator(latent)
            fake_classes = self.split(latent)[1]
            classes = (None if real_classes is None or fake_classes is None
                       else torch.cat([real_classes, fake_classes]))
            logits_real, logits_fake = self.discriminator(torch.cat([real, images]),
                                                          classes).split([batch, batch])
            hinge_real = F.relu(1 - logits_real).mean()
            hinge_fake = F.relu(1 + logits_fake).mean()
            loss_d = loss.discriminator(logits_real, logits_fake)
            self.optimizer_d.zero_grad(set_to_none=True)
            loss_d.backward()
            grad_norm_d = gradient_norm(self.discriminator)
            self.optimizer_d.step()

        # Update G: raise D's score of its images for their classes (hinge G loss = −D(G(z), y)).
        logits_after = self.discriminator(fake, fake_classes)
        loss_g = loss.generator(logits_after)
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.before_generator_step()
        grad_norm_g = gradient_norm(self.generator)
        self.optimizer_g.step()

        with torch.no_grad():
            return {"loss/discriminator": loss_d.detach(), "loss/generator": loss_g.detach(),
                    "loss/d_real": hinge_real.detach(), "loss/d_fake": hinge_fake.detach(),
                    "d_score/real": logits_real.detach().mean(),
                    "d_score/fake": logits_fake.detach().mean(),
                    **discriminator_metrics(logits_real.detach(), logits_fake.detach(),
                                            logits_after.detach()),
                    "grad_norm/discriminator": grad_norm_d, "grad_norm/generator": grad_norm_g,
                    **self.step_metrics()}

    def discriminator_scores(self, images: torch.Tensor, latent: torch.Tensor | None = None,
                             labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's score of each image (B,) for its class: the class in ``latent`` (generated images)
        or ``labels`` (real ones); without either, the projection's class term is left out."""
        classes = None
        if self.class_count and latent is not None:
            classes = self.split(latent.to(self.device))[1]
        elif self.class_count and labels is not None:
            classes = self.class_vectors(labels.cpu()).to(self.device)
        return self.discriminator(images.to(self.device), classes)

    # Drawing -------------------------------------------------------------------------------------
    @torch.no_grad()
    def draw(self, labels: torch.Tensor, generator: torch.Generator | None = None,
             truncation: float | None = None, z: torch.Tensor | None = None,
             averaged: bool = True) -> torch.Tensor:
        """Finished images of the classes ``labels`` (B,) (or soft class vectors (B, K)), from
        fresh z (truncated at ψ = ``truncation`` when given) or from ``z``."""
        if z is None:
            z = self.sample_z(len(labels), generator, truncation)
        return self.generate(self.latent_for(z, labels), averaged=averaged)

    @torch.no_grad()
    def class_grid(self, seeds: list[int], truncation: float | None = None) -> torch.Tensor:
        """Rows = the classes, columns = one z per seed (the same z down a column)."""
        z = torch.cat([self.sample_z(1, torch.Generator().manual_seed(int(seed)), truncation)
                       for seed in seeds])                                     # (S, nz)
        rows = self.class_count
        labels = torch.arange(rows).repeat_interleave(len(seeds))             # (K*S,)
        return self.draw(labels, z=z.repeat(rows, 1))

    @torch.no_grad()
    def class_interpolation(self, first: int, second: int, z: torch.Tensor,
                            steps: int = 8) -> torch.Tensor:
        """Each row: one z (rows of ``z``), its class vector moved from ``first`` to ``second``
        in ``steps`` steps (the class embeddings interpolated at fixed z)."""
        one_hot = self.class_vectors(torch.tensor([first, second]))
        weights = torch.linspace(0, 1, steps).view(-1, 1)
        path = (1 - weights) * one_hot[0] + weights * one_hot[1]               # (T, K)
        rows = len(z)
        return self.draw(path.repeat(rows, 1), z=z.repeat_interleave(steps, 0))

    @torch.no_grad()
    def attention_maps(self, latent: torch.Tensor) -> list[dict]:
        """Where each attention block looks when G draws ``latent`` (one image) and when D reads
        that image with its class: [{"network", "name", "size" (the query grid's side), "key_size"
        (the key cells' side), "maps" (heads, N, N/4), "gamma"}, ...]."""
        generator = self.generator_average if self.generator_average is not None \
            else self.generator
        generator.eval(), self.discriminator.eval()
        found = []
        blocks = [("G", name, block) for name, block in attention_layers(generator)] + \
                 [("D", name, block) for name, block in attention_layers(self.discriminator)]
        for _network, _name, block in blocks:
            block.record = True
        try:
            image = generator(latent.to(self.device))
            self.discriminator(image, self.split(latent.to(self.device))[1])
        finally:
            for _network, _name, block in blocks:
                block.record = False
        for network, name, block in blocks:
            recorded = block.maps
            assert recorded is not None, "the block recorded nothing: it was not run"
            maps = recorded[0].cpu()                                            # (heads, N, N)
            found.append({"network": network, "name": name,
                          "size": int(math.isqrt(maps.shape[-2])),          # query grid
                          "key_size": int(math.isqrt(maps.shape[-1])),      # key cells
                          "maps": maps, "gamma": float(block.gamma)})
            block.maps = None
        return found

    # Measures ------------------------------------------------------------------------------------
    def monitor_statistics(self, latent: torch.Tensor, images: torch.Tensor, judge) -> dict:
        """The share of a monitor batch the shipped CNN labels with the class G was asked for."""
        if not self.class_count or judge is None:
            return {}
        logits = judge.logits_and_features(images)[0]
        classes = self.split(latent)[1]
        assert classes is not None    # class_count > 0: the latent carries a class vector
        intended = classes.argmax(1).to(logits.device)
        return {"classes/intended_accuracy": float((logits.argmax(1) == intended).float().mean())}

    def reference_metrics(self, judge, data, count: int = 10_000) -> dict[str, float]:
        """Intended-class accuracy and class-conditional diversity on ``count`` samples (the same
        number per class), as the CLI's ``evaluate`` prints them."""
        if not self.class_count or judge is None:
            return {}
        row = class_conditional_quality(self, judge, data, per_class=count // self.class_count)
        return {"conditional/intended_accuracy": row["intended_accuracy"],
                "conditional/class_diversity": row["class_diversity"]}


# Class-conditional quality, measured with the shipped CNN ----------------------------------------

def real_class_diversity(data, classes: int, per_class: int = 500) -> torch.Tensor:
    """Mean pairwise distance of real test images within each class (K,), at 32 px."""
    values = []
    for label in range(classes):
        images = data.test_images[data.test_labels == label][:per_class]
        values.append(mean_pairwise_distance(to_gan_range(images.float() / 255, 32))
                      if len(images) > 1 else torch.tensor(float("nan")))
    return torch.stack(values)


@torch.no_grad()
def class_conditional_quality(trainer: ConditionalGANTrainer, judge, data, per_class: int = 1000,
                              truncation: float | None = None, seed: int = 0,
                              real_features: torch.Tensor | None = None,
                              real_diversity: torch.Tensor | None = None) -> dict[str, float]:
    """``per_class`` samples of every class (at ψ = ``truncation``):

    - intended-class accuracy: the share the shipped CNN labels with the class G was asked for;
    - class-conditional diversity: within each class, the samples' mean pairwise distance over the
      real test images' of that class, averaged over the classes (1 = as varied as real images);
    - the Fréchet distance of all samples to as many test images, in the CNN's features
      (``gan_eval``'s protocol), when ``real_features`` (or the data) are given.
    """
    generator = torch.Generator().manual_seed(seed)
    classes = trainer.class_count
    if real_diversity is None:
        real_diversity = real_class_diversity(data, classes, min(per_class, 500))
    correct, ratios, features = 0, [], []
    for label in range(classes):
        images = torch.cat([trainer.draw(torch.full((min(500, per_class - start),), label),
                                         generator, truncation).cpu()
                            for start in range(0, per_class, 500)])
        logits, _features = judge.logits_and_features(images)
        correct += int((logits.argmax(1) == label).sum())
        features.append(judge.logits_and_features(gan_eval.at_frechet_size(images))[1])
        spread = mean_pairwise_distance(images[:500])
        ratios.append(float(spread / real_diversity[label]))
    values = {"intended_accuracy": correct / (classes * per_class),
              "class_diversity": float(torch.tensor(ratios).nanmean())}
    if real_features is None and data is not None:
        real_features = gan_eval.reference_features(judge, data.test_images[:classes * per_class])
    if real_features is not None:
        values["frechet_distance"] = gan_eval.frechet_distance(torch.cat(features), real_features)
    return values


def truncation_curve(trainer: ConditionalGANTrainer, judge, data, per_class: int = 100,
                     values: tuple[float, ...] = TRUNCATION_VALUES, seed: int = 0) -> list[dict]:
    """Fidelity against diversity as ψ varies: one ``class_conditional_quality`` row per ψ, all
    against the same test images."""
    real_features = gan_eval.reference_features(judge, data.test_images[:trainer.class_count
                                                                        * per_class])
    real_diversity = real_class_diversity(data, trainer.class_count, min(per_class, 500))
    return [{"psi": psi, **class_conditional_quality(trainer, judge, data, per_class, psi, seed,
                                                      real_features, real_diversity)}
            for psi in values]
