"""CycleGAN: unpaired image-to-image translation with cycle consistency.

Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
Networks", https://arxiv.org/abs/1703.10593 .
  G_AB: A -> B and G_BA: B -> A, ResNet-style generators with instance norm;
  D_A, D_B: PatchGANs; least-squares GAN loss (the paper's choice: steadier than BCE);
  L = L_GAN(G_AB, D_B) + L_GAN(G_BA, D_A)
      + λ_cycle (|G_BA(G_AB(a)) − a|₁ + |G_AB(G_BA(b)) − b|₁)
      + λ_identity (|G_AB(b) − b|₁ + |G_BA(a) − a|₁)
  with a replay buffer of 50 earlier generated images for D and a linear learning-rate decay.
CycleGAN needs *no pairs* (the tutorial says this of pix2pix, which does): domain A here is one
Fashion-MNIST class and domain B another, from disjoint index sets. Without the cycle term,
nothing ties G_AB(a) to a: G may draw any image of B (the "λ = 0" preset shows it).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core import translation_task
from core.config import ConfigError, param
from core.i18n import N_, _
from core.data.fashion_mnist import CLASS_NAMES
from core.data.translation import make_domains, to_model_range
from core.models.gans.base import gradient_norm, mean_pairwise_distance, to_uint8
from core.models.spec import ModelSpec, Paper
from core.models.translation.base import (PatchGAN, TranslationConfig, TranslationTrainer,
                                          patch_metrics, reference_distance)
from core.models.translation.health import TranslationHealth, TranslationThresholds

NAME = "cyclegan"
NO_CYCLE = f"{NAME}_no_cycle"     # checkpoints/<this>.pt: the λ = 0 preset's model, beside
PREVIEW_COLUMNS = 8
MONITOR_COUNT = 256
DOMAIN_PAIRS = {"Sneaker ↔ Ankle boot": ("Sneaker", "Ankle boot"),
                "T-shirt/top ↔ Dress": ("T-shirt/top", "Dress"),
                "Pullover ↔ Coat": ("Pullover", "Coat")}


@dataclass
class CycleGANConfig(TranslationConfig):
    domain_a: str = param("Sneaker", "domain A: every training image of this class",
                          choices=CLASS_NAMES, label=N_("domain A"))
    domain_b: str = param("Ankle boot", "domain B: every training image of this class (never "
                          "paired with A's)", choices=CLASS_NAMES, label=N_("domain B"))
    lambda_cycle: float = param(10.0, "weight of the cycle-consistency term |F(G(a)) − a| + "
                                "|G(F(b)) − b| (the paper: 10); 0 = no cycle term",
                                low=0.0, high=50.0, label=N_("cycle λ"))
    lambda_identity: float = param(5.0, "weight of the identity term |G(b) − b| + |F(a) − a| "
                                   "(the paper's code: 0.5 × the cycle λ = 5); it keeps tones "
                                   "and what needs no change", low=0.0, high=25.0,
                                   label=N_("identity λ"))
    replay_buffer: int = param(50, "generated images kept to show D again (the paper: 50; "
                               "0 = off)", low=0, high=500, label=N_("replay buffer"))
    gan_loss: str = param("least_squares", "the GAN loss: least squares as in the paper, or the "
                          "tutorial's binary cross-entropy", choices=("least_squares", "bce"),
                          label=N_("GAN loss"))
    batch_size: int = param(16, "images of each domain per step (the paper: 1)", low=2,
                            high=1024, label=N_("batch size"))
    epochs: int = param(30, "passes over the larger domain (6,000 images a class: 375 steps at "
                        "batch 16)", low=1, high=200)
    generator_width: int = param(16, "channels of G's first layer; the two halvings double them "
                                 "twice (the paper: 64)", low=4, high=128,
                                 label=N_("G width (ngf)"), size="width")
    residual_blocks: int = param(4, "residual blocks at 7×7 in each G (the paper: 6 at 128 px, "
                                 "9 at 256 px)", low=1, high=9, label=N_("residual blocks"),
                                 size="depth")
    discriminator_width: int = param(32, "channels of D's first layer (the paper: 64)", low=4,
                                     high=128, label=N_("D width (ndf)"), size="width")
    discriminator_layers: int = param(2, "stride-2 layers of each PatchGAN: 2 gives 34×34 px "
                                      "patches (the whole 28 px garment: sneaker and boot "
                                      "differ in overall shape), 1 gives 16×16 px patches",
                                      low=1, high=3, label=N_("D layers (patch size)"),
                                      size="depth")

    def check(self) -> None:
        if self.domain_a == self.domain_b:
            raise ConfigError(_("domain A and domain B are both {domain}: choose two different "
                                "classes to translate between").format(domain=_(self.domain_a)))


class ResidualBlock(nn.Module):
    """x + conv-norm-relu-conv-norm(x), reflection-padded (the paper's R256 block)."""

    def __init__(self, channels: int):
        super().__init__()
        self.main = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features + self.main(features)


class ResnetGenerator(nn.Module):
    """(B, C, 28, 28) -> (B, C, 28, 28): c7s1-w, d2w, d4w, residual blocks at 7×7, u2w, uw,
    c7s1-C with tanh (the paper's appendix 7.2 at 28 px)."""

    def __init__(self, channels: int, width: int, blocks: int):
        super().__init__()
        self.main = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(channels, width, 7),
            nn.InstanceNorm2d(width), nn.ReLU(True),                         # (B, w, 28, 28)
            nn.Conv2d(width, 2 * width, 3, 2, 1), nn.InstanceNorm2d(2 * width),
            nn.ReLU(True),                                                   # (B, 2w, 14, 14)
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1), nn.InstanceNorm2d(4 * width),
            nn.ReLU(True),                                                   # (B, 4w, 7, 7)
            *[ResidualBlock(4 * width) for _block in range(blocks)],              # (B, 4w, 7, 7)
            nn.ConvTranspose2d(4 * width, 2 * width, 3, 2, 1, output_padding=1),
            nn.InstanceNorm2d(2 * width), nn.ReLU(True),                     # (B, 2w, 14, 14)
            nn.ConvTranspose2d(2 * width, width, 3, 2, 1, output_padding=1),
            nn.InstanceNorm2d(width), nn.ReLU(True),                         # (B, w, 28, 28)
            nn.ReflectionPad2d(3), nn.Conv2d(width, channels, 7), nn.Tanh())  # (B, C, 28, 28)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images)


def build(config: CycleGANConfig, image_shape=(1, 28, 28)) -> tuple[nn.Module, nn.Module]:
    """(the two generators, the two discriminators), each pair a ModuleDict keyed by direction."""
    channels = image_shape[0]
    generators = nn.ModuleDict({
        "ab": ResnetGenerator(channels, config.generator_width, config.residual_blocks),
        "ba": ResnetGenerator(channels, config.generator_width, config.residual_blocks)})
    discriminators = nn.ModuleDict({
        domain: PatchGAN(channels, config.discriminator_width, config.discriminator_layers,
                         norm="instance") for domain in ("a", "b")})
    return generators, discriminators


class ReplayBuffer:
    """D trains on a mix of the newest generated images and ones from earlier steps
    (Shrivastava et al. 2017, as CycleGAN's ImagePool): until it holds ``size`` images each new
    one is stored and shown; then each new one is, with probability ½, swapped for a stored one,
    which D sees instead. ``size`` 0 shows the newest batch only."""

    def __init__(self, size: int, seed: int):
        self.size = size
        self.images: list[torch.Tensor] = []
        self.random = torch.Generator().manual_seed(seed)

    def push_and_draw(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        shown = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                shown.append(image)
            elif float(torch.rand(1, generator=self.random)) < 0.5:
                slot = int(torch.randint(self.size, (1,), generator=self.random))
                shown.append(self.images[slot])
                self.images[slot] = image.clone()
            else:
                shown.append(image)
        return torch.stack(shown)

    def state(self) -> torch.Tensor | None:
        return torch.stack(self.images).half().cpu() if self.images else None

    def load(self, stored: torch.Tensor | None, device: torch.device) -> None:
        self.images = [image.float().to(device) for image in stored][:self.size] \
            if stored is not None else []


class CycleGANTrainer(TranslationTrainer):
    """G_AB, G_BA, D_A, D_B, the replay buffers, and the two unpaired domains."""

    config: CycleGANConfig

    def __init__(self, spec, config: CycleGANConfig, device: torch.device):
        super().__init__(spec, config, device)
        self.buffers = {domain: ReplayBuffer(config.replay_buffer, config.seed + offset)
                        for offset, domain in enumerate(("a", "b"))}

    # Data ----------------------------------------------------------------------------------------
    def prepare(self, data) -> None:
        """The two domains (uint8), fixed test images of each for the monitor and the preview."""
        self.domains = make_domains(data, self.config.domain_a, self.config.domain_b)
        subset = self.config.train_subset
        self.sizes = [min(subset, len(images)) if subset else len(images)
                      for images in (self.domains.train_a, self.domains.train_b)]
        self.count = max(self.sizes)
        # B's images meet A's through a fixed random permutation: which B image shares a batch
        # with which A image carries no meaning (the losses never compare the two).
        generator = torch.Generator().manual_seed(self.config.seed + 7)
        self.b_order = torch.randperm(self.sizes[1], generator=generator)
        self.monitor = {domain: torch.randperm(len(images), generator=generator)[:MONITOR_COUNT]
                        for domain, images in (("a", self.domains.test_a),
                                               ("b", self.domains.test_b))}
        self.distance = {domain: reference_distance(self.test_images(domain, index), generator)
                         for domain, index in self.monitor.items()}
        self.diversity = {domain: float(mean_pairwise_distance(self.test_images(domain,
                                                                                index[:64])))
                          for domain, index in self.monitor.items()}

    def test_images(self, domain: str, index: torch.Tensor | None = None) -> torch.Tensor:
        images = self.domains.test_a if domain == "a" else self.domains.test_b
        return to_model_range(images if index is None else images[index])

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        index = index.cpu()
        a = self.domains.train_a.index_select(0, index % self.sizes[0])
        b = self.domains.train_b.index_select(0, self.b_order[index % self.sizes[1]])
        return to_model_range(a, self.device), to_model_range(b, self.device)

    # Training ------------------------------------------------------------------------------------
    def adversarial(self, scores: torch.Tensor) -> torch.Tensor:
        """G's GAN term. LOSSES' least-squares G loss carries LSGAN's ½; the CycleGAN paper's
        (D(G(x)) − 1)² does not, so it is doubled here to keep the paper's balance with λ."""
        loss = self.loss.generator(scores)
        return 2 * loss if self.config.gan_loss == "least_squares" else loss

    def generator_terms(self, real_a: torch.Tensor, real_b: torch.Tensor
                        ) -> dict[str, torch.Tensor]:
        """G's loss terms on a batch of each domain: both adversarial terms, both cycle terms and
        both identity terms (zero when λ_identity is 0), the weighted objective, and the
        translations (``fake_a``, ``fake_b``) and D's scores of them."""
        config = self.config
        g, d = self.generator, self.discriminator
        fake_b, fake_a = g["ab"](real_a), g["ba"](real_b)                 # (B, 1, 28, 28) each
        terms = {"fake_a": fake_a, "fake_b": fake_b,
                 "cycle_a": (g["ba"](fake_b) - real_a).abs().mean(),
                 "cycle_b": (g["ab"](fake_a) - real_b).abs().mean(),
                 "scores_a": d["a"](fake_a), "scores_b": d["b"](fake_b)}
        terms["adversarial_ab"] = self.adversarial(terms["scores_b"])
        terms["adversarial_ba"] = self.adversarial(terms["scores_a"])
        zero = torch.zeros((), device=real_a.device)
        terms["identity_b"] = (g["ab"](real_b) - real_b).abs().mean() if config.lambda_identity \
            else zero
        terms["identity_a"] = (g["ba"](real_a) - real_a).abs().mean() if config.lambda_identity \
            else zero
        terms["objective"] = (terms["adversarial_ab"] + terms["adversarial_ba"]
                              + config.lambda_cycle * (terms["cycle_a"] + terms["cycle_b"])
                              + config.lambda_identity * (terms["identity_a"]
                                                          + terms["identity_b"]))
        return terms

    def train_step(self, real_a: torch.Tensor, real_b: torch.Tensor) -> dict[str, torch.Tensor]:
        """One step of both generators, then one of both discriminators (the paper's order)."""
        config = self.config
        g, d = self.generator, self.discriminator
        g.train(), d.train()

        # Update G_AB and G_BA: fool D_B and D_A, come back on a round trip, keep what is
        # already of the right domain (D's weights are frozen for this step).
        d.requires_grad_(False)
        terms = self.generator_terms(real_a, real_b)
        objective, fake_a, fake_b = terms["objective"], terms["fake_a"], terms["fake_b"]
        cycle_a, cycle_b = terms["cycle_a"], terms["cycle_b"]
        identity_a, identity_b = terms["identity_a"], terms["identity_b"]
        adversarial_ab, adversarial_ba = terms["adversarial_ab"], terms["adversarial_ba"]
        scores_fake_a, scores_fake_b = terms["scores_a"], terms["scores_b"]
        self.optimizer_g.zero_grad(set_to_none=True)
        objective.backward()
        grad_norm_g = gradient_norm(g)
        self.optimizer_g.step()
        d.requires_grad_(True)

        # Update D_A and D_B on real images and on generated ones drawn through the buffers.
        real_label = 1.0 - config.label_smoothing
        shown_b = self.buffers["b"].push_and_draw(fake_b.detach())
        shown_a = self.buffers["a"].push_and_draw(fake_a.detach())
        scores_real_b, scores_shown_b = d["b"](real_b), d["b"](shown_b)
        scores_real_a, scores_shown_a = d["a"](real_a), d["a"](shown_a)
        loss_d_b = self.loss.discriminator(scores_real_b, scores_shown_b, real_label)
        loss_d_a = self.loss.discriminator(scores_real_a, scores_shown_a, real_label)
        self.optimizer_d.zero_grad(set_to_none=True)
        (loss_d_a + loss_d_b).backward()
        grad_norm_d = gradient_norm(d)
        self.optimizer_d.step()

        with torch.no_grad():
            return {
                "loss/discriminator": (loss_d_a + loss_d_b).detach() / 2,
                "loss/generator": (adversarial_ab + adversarial_ba).detach() / 2,
                "loss/generator_total": objective.detach(),
                "loss/discriminator_a": loss_d_a.detach(),
                "loss/discriminator_b": loss_d_b.detach(),
                "loss/generator_ab": adversarial_ab.detach(),
                "loss/generator_ba": adversarial_ba.detach(),
                "loss/cycle_a": cycle_a.detach(), "loss/cycle_b": cycle_b.detach(),
                "loss/identity_a": identity_a.detach(), "loss/identity_b": identity_b.detach(),
                **patch_metrics(torch.cat([scores_real_a, scores_real_b]),
                                torch.cat([scores_shown_a, scores_shown_b]),
                                torch.cat([scores_fake_a, scores_fake_b]).detach(),
                                config.gan_loss),
                "grad_norm/discriminator": grad_norm_d, "grad_norm/generator": grad_norm_g}

    # Using the model -----------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, images: torch.Tensor, direction: str = "ab",
                  batch_size: int = 500) -> torch.Tensor:
        """G_AB ("ab") or G_BA ("ba") of images in [-1, 1]; each image is normalised on its own
        (instance norm), so a translation depends on its input alone."""
        generator = self.generator[direction].eval()
        outputs = [generator(images[start:start + batch_size].to(self.device))
                   for start in range(0, len(images), batch_size)]
        return torch.cat(outputs) if outputs else images.new_zeros((0, *images.shape[1:]))

    def round_trip(self, images: torch.Tensor, start: str = "a"
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(translations, images back in their own domain, per-image mean |x − F(G(x))|)."""
        forward, backward = ("ab", "ba") if start == "a" else ("ba", "ab")
        translated = self.translate(images, forward)
        back = self.translate(translated, backward)
        return translated.cpu(), back.cpu(), (back.cpu() - images.cpu()).abs().mean((1, 2, 3))

    def class_names(self) -> tuple[str, str]:
        return self.config.domain_a, self.config.domain_b

    # Figures -------------------------------------------------------------------------------------
    def monitor_statistics(self, judge) -> dict[str, float]:
        """On fixed test images of each domain: the cycle error (and its share of the distance
        between two images of a domain), diversity, and with the shipped CNN the share of
        translations it assigns the other domain's class."""
        values, ratios, diversities = {}, [], []
        for domain, other in (("a", "b"), ("b", "a")):
            images = self.test_images(domain, self.monitor[domain])
            translated, back, errors = self.round_trip(images, domain)
            error = float(errors.mean())
            values[f"cycle/error_{domain}"] = error
            ratios.append(error / max(self.distance[domain], 1e-8))
            diversities.append(float(mean_pairwise_distance(translated[:64]))
                               / max(self.diversity[other], 1e-8))
            if judge is not None:
                target = self.domains.class_b if domain == "a" else self.domains.class_a
                logits, _features = judge.logits_and_features(translated)
                values[f"translation/accuracy_{domain}{other}"] = float(
                    (logits.argmax(1) == target).float().mean())
        values["cycle/ratio"] = max(ratios)
        values["diversity/ratio"] = min(diversities)
        return values

    def preview(self) -> torch.Tensor:
        """uint8 (48, 1, 28, 28), rows of 8: A, G_AB(A), G_BA(G_AB(A)), B, G_BA(B),
        G_AB(G_BA(B))."""
        rows = []
        for domain in ("a", "b"):
            chosen = self.monitor[domain]      # a full row always (tiny test sets repeat)
            images = self.test_images(domain, chosen[torch.arange(PREVIEW_COLUMNS) % len(chosen)])
            translated, back, _errors = self.round_trip(images, domain)
            rows += [images, translated, back]
        return to_uint8(torch.cat(rows))

    @torch.no_grad()
    def evaluate(self, judge, count: int = 10_000, reference=None) -> dict[str, float]:
        """On up to ``count`` test images of each domain: the cycle error each way; with the
        shipped CNN, the share of A → B translations it calls B (and B → A: A) and the Fréchet
        distance of the translations to the real test images of the target domain."""
        values = {}
        for domain, other in (("a", "b"), ("b", "a")):
            images = self.test_images(domain)[:count]
            translated, _back, errors = self.round_trip(images, domain)
            values[f"cycle/error_{domain}"] = float(errors.mean())
            if judge is None:
                continue
            target = self.domains.class_b if domain == "a" else self.domains.class_a
            figures = translation_task.judged(judge, translated,
                                              torch.full((len(translated),), target),
                                              self.test_images(other)[:count])
            values[f"translation/accuracy_{domain}{other}"] = figures["quality/class_accuracy"]
            values[f"translation/frechet_distance_{domain}{other}"] = \
                figures["quality/frechet_distance"]
            values[f"translation/unchanged_{domain}{other}"] = float(
                (judge.logits_and_features(translated)[0].argmax(1).cpu()
                 == (self.domains.class_a if domain == "a" else self.domains.class_b))
                .float().mean())
        return values

    # Checkpoints ---------------------------------------------------------------------------------
    def state(self) -> dict:
        buffers = {domain: buffer.state() for domain, buffer in self.buffers.items()}
        return {**super().state(), "replay_buffers": {k: v for k, v in buffers.items()
                                                      if v is not None}}

    def load_state(self, payload: dict, with_optimizer: bool = True) -> None:
        super().load_state(payload, with_optimizer)
        stored = payload.get("replay_buffers") or {}
        for domain, buffer in self.buffers.items():
            buffer.load(stored.get(domain), self.device)


# The health monitor's bands for least squares (D's loss: ½(D(x) − 1)² + ½ D(G(a))², 0.25 when D
# cannot tell; G's term (D(G(a)) − 1)², 0.25 then too).
HEALTH = TranslationHealth(TranslationThresholds(
    d_loss_band=(0.05, 0.3), g_loss_band=(0.15, 0.7), failure_d_loss=0.02, failure_g_loss=0.6,
    oscillation_d_std=0.1, oscillation_g_std=0.3), loss="least_squares", paired=False)


def headline(values: dict) -> str:
    """The history table's line: translations in the target class, and the cycle error."""
    return _("A→B in the target class {ab:.1%}, B→A {ba:.1%}; cycle error {error_a:.3f} / "
             "{error_b:.3f}").format(ab=values["translation/accuracy_ab"],
                                     ba=values["translation/accuracy_ba"],
                                     error_a=values["cycle/error_a"],
                                     error_b=values["cycle/error_b"])


SPEC = ModelSpec(
    headline=headline,
    paper=Paper(2017, N_('Zhu et al. 2017, arXiv:1703.10593'), N_('translation without pairs: two generators held together by a cycle-consistency loss')),
    name=NAME, title=N_("CycleGAN"), config_cls=CycleGANConfig, build_network=build,
    section=N_("Image-to-image"), icon=":material/sync_alt:", url_path="cyclegan",
    **translation_task.FAMILY, trainer=CycleGANTrainer, health=HEALTH,
    panel="ui.panels.cyclegan:CycleGANPanel",
    summary=N_("CycleGAN needs no pairs — the property the tutorial gives pix2pix, which needs them: "
             "it learns to turn one domain into another (here sneakers into ankle boots) from two "
             "unrelated piles of images. Two generators G_AB and G_BA, two PatchGAN "
             "discriminators, least-squares losses; the cycle term asks that a round trip "
             "A → B → A gives the image back, which is what ties a translation to its input."),
    presets={
        N_("CPU run (Sneaker ↔ Ankle boot, at most an hour)"): {"time_budget_s": 3600.0},
        N_("Quick look (5 minutes: already translates, roughly)"): {"time_budget_s": 300.0},
        N_("Full schedule (30 epochs, 11,250 steps: the shipped model's)"): {},
        N_("No cycle loss (λ = 0: round trips fail; at most an hour)"): {
            "lambda_cycle": 0.0, "lambda_identity": 0.0, "time_budget_s": 3600.0},
        N_("T-shirt/top ↔ Dress (at most an hour)"): {"domain_a": "T-shirt/top",
                                                  "domain_b": "Dress", "time_budget_s": 3600.0},
        N_("Pullover ↔ Coat (at most an hour)"): {"domain_a": "Pullover", "domain_b": "Coat",
                                              "time_budget_s": 3600.0},
        N_("Paper's widths (ngf = ndf = 64, 6 blocks: slow on a CPU)"): {
            "generator_width": 64, "discriminator_width": 64, "residual_blocks": 6},
    },
)
