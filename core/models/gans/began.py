"""BEGAN: the discriminator is an autoencoder; G tries to make images D reconstructs as well as
real ones, and a proportional controller k_t keeps the two losses in the ratio gamma.

Boundary Equilibrium GAN (Berthelot et al. 2017), https://arxiv.org/abs/1703.10717 .
  L(v) = |v - D(v)|                     (mean absolute reconstruction error of an image)
  L_D = L(x) - k_t L(G(z_D)),  L_G = L(G(z_G))
  k_t+1 = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1)
  M_global = L(x) + |gamma L(x) - L(G(z_G))|   (the paper's convergence measure)
The tutorial reports BEGAN never collapsed for its author where DCGAN did; here the γ 0.5 preset
did collapse (docs/infogan-began.md). Networks: the
paper's ELU encoder/decoder shape at 32 px, narrowed for a CPU (one 3x3 conv per scale).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core import gan_task
from core.config import BaseConfig, ConfigError, from_dict, param
from core.diagnostics import GANHealth, Remedy, Thresholds, Verdict, Window, classes_note
from core.i18n import N_, _
from core.models.gans.base import GANTrainer, generator_average_param, gradient_norm
from core.models.gans import dcgan
from core.models.spec import ModelSpec, Paper

BEGAN_PAPER = "BEGAN (Berthelot et al. 2017)"


@dataclass
class BEGANConfig(BaseConfig):
    learning_rate_d: float = param(5e-4, "discriminator (autoencoder) learning rate (the paper: "
                                   "1e-4 for 100k+ steps; 5e-4 for a short CPU run)", low=1e-6,
                                   high=1e-2, log=True, label=N_("learning rate D"))
    learning_rate_g: float = param(5e-4, "generator learning rate (the paper: 1e-4)", low=1e-6,
                                   high=1e-2, log=True, label=N_("learning rate G"))
    batch_size: int = param(32, "real images per step (the paper: 16)", low=2, high=1024,
                            label=N_("batch size"))
    epochs: int = param(2, "passes over the training set", low=1, high=200)
    latent_dim: int = param(64, "length of the noise vector z (the paper's N_z = 64)", low=1,
                            high=200, label=N_("nz (latent size)"))
    beta1: float = param(0.5, "Adam's beta1", low=0.0, high=0.999, label=N_("Adam beta1"))
    gamma: float = param(0.7, "diversity ratio γ = E[L(G(z))] / E[L(x)] the controller aims at: "
                         "lower gives sharper but less varied images (the paper: 0.3-0.7; here "
                         "0.5 collapsed onto sneakers by step 3,000, 0.7 stayed varied)",
                         low=0.05, high=1.0, label=N_("γ (diversity ratio)"))
    lambda_k: float = param(1e-2, "learning rate λ_k of the equilibrium controller k_t (the paper: "
                            "0.001 over 100k+ steps; at 0.001 k_t was still 0.005 after 600 "
                            "steps here and G drew the same dark blur)",
                            choices=(0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1), label=N_("λ_k"))
    pull_away: float = param(0.0, "weight of EBGAN's pulling-away term on G: the mean squared "
                             "cosine similarity of D's codes for a batch of generated images, "
                             "which pushes G's images apart (Zhao et al. 2017); 0 = the paper's "
                             "BEGAN", low=0.0, high=1.0, label=N_("pull-away weight"))
    latent_constraint: float = param(0.0, "weight α of BEGAN-CS's latent constraint "
                                     "α·|Enc(G(z)) − z| on D: D's encoder must read z back "
                                     "from G's image, so G's "
                                     "images keep apart what their z keep apart (Chang et al. "
                                     "2018); needs h = nz; 0 = the paper's BEGAN", low=0.0,
                                     high=10.0, label=N_("latent constraint α (BEGAN-CS)"))
    initial_k: float = param(0.0, "k_0: how much D attends to generated images at the start",
                             low=0.0, high=1.0, advanced=True)
    width: int = param(32, "channels n of the autoencoder and of G (the paper: 64-128)", low=4,
                       high=128, label=N_("n (channels)"), size="width")
    generator_batch_norm: bool = param(
        False, "batch norm in G (as most public BEGAN code on MNIST-like data has; the paper has "
        "none): G's first samples then differ from each other, so they spread over more kinds of "
        "garment before the equilibrium settles", label=N_("batch norm in G"))
    embedding_dim: int = param(64, "size h of D's bottleneck (the paper: 64)", low=2, high=512,
                               label=N_("h (bottleneck)"), size="width")
    image_size: int = param(32, "image size (32 px as the CPU DCGAN)", choices=(32,),
                            advanced=True, label=N_("image size"))
    sample_every_steps: int = param(100, "refresh the fixed-noise sample grid every N steps",
                                    low=1, high=100000, advanced=True,
                                    label=N_("sample grid every N steps"))
    monitor_every_windows: int = param(5, "classify generated images with the shipped CNN every "
                                       "N metric windows (0 = never)", low=0, high=1000,
                                       advanced=True, label=N_("class check every N windows"))
    generator_ema: float = generator_average_param()

    def check(self) -> None:
        if self.latent_constraint and self.embedding_dim != self.latent_dim:
            raise ConfigError(_("the latent constraint compares D's code with z: it needs h "
                                "(embedding_dim, {h}) equal to nz (latent_dim, {nz})")
                              .format(h=self.embedding_dim, nz=self.latent_dim))


class Decoder(nn.Module):
    """(B, inputs) -> (B, C, 32, 32): FC to 8x8, then conv / upsample stages with ELU; no batch
    norm as in the paper, unless ``batch_norm`` (the generator option)."""

    def __init__(self, inputs: int, width: int, channels: int, is_generator: bool,
                 batch_norm: bool = False):
        super().__init__()
        self.width = 2 * width
        no_norm = lambda features: nn.Identity()
        norm1d, norm2d = (nn.BatchNorm1d, nn.BatchNorm2d) if batch_norm else (no_norm, no_norm)
        self.project = nn.Sequential(nn.Linear(inputs, self.width * 8 * 8),
                                     norm1d(self.width * 8 * 8), nn.ELU())  # (B, 2n*64)
        self.main = nn.Sequential(
            nn.Conv2d(2 * width, 2 * width, 3, 1, 1), norm2d(2 * width), nn.ELU(),       # 8x8
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), norm2d(width), nn.ELU(),      # 16x16
            nn.Conv2d(width, width, 3, 1, 1), norm2d(width), nn.ELU(),                   # 16x16
            nn.ConvTranspose2d(width, channels, 4, 2, 1),                      # (B, C, 32, 32)
            *([nn.Tanh()] if is_generator else []))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.main(self.project(codes).view(len(codes), self.width, 8, 8))


class Encoder(nn.Module):
    def __init__(self, channels: int, width: int, embedding: int):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.ELU(),                     # (B, n, 16, 16)
            nn.Conv2d(width, width, 3, 1, 1), nn.ELU(),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ELU(),                    # (B, 2n, 8, 8)
            nn.Conv2d(2 * width, 2 * width, 3, 1, 1), nn.ELU(), nn.Flatten(),  # (B, 2n*64)
            nn.Linear(2 * width * 64, embedding))                              # (B, h)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images)


class Discriminator(nn.Module):
    """An autoencoder: D(v) is the reconstruction of v."""

    def __init__(self, config: BEGANConfig, image_shape=(1, 32, 32)):
        super().__init__()
        self.encoder = Encoder(image_shape[0], config.width, config.embedding_dim)
        self.decoder = Decoder(config.embedding_dim, config.width, image_shape[0], False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(images))


def build(config: BEGANConfig, image_shape=(1, 32, 32)) -> tuple[nn.Module, nn.Module]:
    if tuple(image_shape[1:]) != (32, 32):
        raise ValueError(f"BEGAN here draws 32 px images, got {image_shape}")
    return Decoder(config.latent_dim, config.width, image_shape[0], True,
                   config.generator_batch_norm), \
        Discriminator(config, image_shape)


def reconstruction_loss(images: torch.Tensor, reconstructions: torch.Tensor) -> torch.Tensor:
    """L(v) = |v - D(v)|: the mean absolute error per pixel, averaged over the batch."""
    return (images - reconstructions).abs().mean()


def pulling_away(codes: torch.Tensor) -> torch.Tensor:
    """EBGAN's PT = 1/(N(N-1)) sum_{i != j} cos(s_i, s_j)^2 over a batch's codes: 1 when all codes
    point the same way (collapse), about 1/h for random codes of size h."""
    unit = nn.functional.normalize(codes.flatten(1), dim=1)
    similarity = (unit @ unit.T).pow(2)
    count = len(unit)
    return (similarity.sum() - similarity.diagonal().sum()) / max(count * (count - 1), 1)


def update_k(k: torch.Tensor, lambda_k: float, gamma: float, loss_real: torch.Tensor,
             loss_fake: torch.Tensor) -> torch.Tensor:
    """k_t+1 = clip(k_t + λ_k (γ L(x) - L(G(z))), 0, 1): proportional control of the equilibrium."""
    return (k + lambda_k * (gamma * loss_real - loss_fake)).clamp(0.0, 1.0)


def convergence_measure(gamma: float, loss_real: torch.Tensor, loss_fake: torch.Tensor) -> torch.Tensor:
    """M_global = L(x) + |γ L(x) - L(G(z))|: falls as images improve and the equilibrium holds."""
    return loss_real + (gamma * loss_real - loss_fake).abs()


class BEGANTrainer(GANTrainer):
    """G and the autoencoder D, their Adam optimizers, and the controller state k_t."""

    config: BEGANConfig

    def __init__(self, spec, config: BEGANConfig, image_shape, device: torch.device):
        super().__init__(spec, config, image_shape, device)
        self.k = torch.tensor(float(config.initial_k), device=device)   # stays on the device

    def noise(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        # The paper samples z uniformly in [-1, 1]^N_z.
        return (torch.rand(count, self.config.latent_dim, generator=generator) * 2 - 1).to(self.device)

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None
                   ) -> dict[str, torch.Tensor]:
        """One D step, one G step, one update of k_t; metrics as tensors (no host sync)."""
        config = self.config
        z = self.noise(len(real))
        fake = self.generator(z)

        # Update D: reconstruct real images well and generated ones badly (weighted by k_t), and
        # (BEGAN-CS) read z back from generated images.
        loss_real = reconstruction_loss(real, self.discriminator(real))
        detached = fake.detach()
        codes_fake = self.discriminator.encoder(detached)
        loss_fake_d = reconstruction_loss(detached, self.discriminator.decoder(codes_fake))
        constraint = (codes_fake - z).abs().mean() if config.latent_constraint \
            else torch.zeros((), device=self.device)
        loss_d = loss_real - self.k * loss_fake_d + config.latent_constraint * constraint
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        grad_norm_d = gradient_norm(self.discriminator)
        self.optimizer_d.step()

        # Update G: make images the autoencoder reconstructs well (and, optionally, whose codes
        # differ from each other: the pulling-away term).
        codes = self.discriminator.encoder(fake)
        loss_g = reconstruction_loss(fake, self.discriminator.decoder(codes))
        pull_away = pulling_away(codes)
        objective_g = loss_g + config.pull_away * pull_away if config.pull_away else loss_g
        self.optimizer_g.zero_grad(set_to_none=True)
        objective_g.backward()
        grad_norm_g = gradient_norm(self.generator)
        self.optimizer_g.step()

        # Update the equilibrium controller and the convergence measure.
        with torch.no_grad():
            loss_real, loss_fake = loss_real.detach(), loss_g.detach()
            self.k = update_k(self.k, config.lambda_k, config.gamma, loss_real, loss_fake)
            return {
                "loss/discriminator": loss_d.detach(), "loss/generator": loss_fake,
                "began/loss_real": loss_real, "began/loss_fake": loss_fake,
                "began/k": self.k.clone(),
                "began/m_global": convergence_measure(config.gamma, loss_real, loss_fake),
                "began/ratio": loss_fake / loss_real.clamp(min=1e-8),
                "began/pull_away": pull_away.detach(),
                "began/latent_constraint": constraint.detach(),
                "grad_norm/discriminator": grad_norm_d, "grad_norm/generator": grad_norm_g,
            }

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """D(v) for images in [-1, 1]: what the autoencoder keeps of them. G is rewarded for images
        D reconstructs well, so what D's reconstructions of real images lose, G's images lack."""
        self.discriminator.eval()
        return torch.cat([self.discriminator(images[i:i + batch_size].to(self.device)).clamp(-1, 1)
                          for i in range(0, len(images), batch_size)])

    def state(self) -> dict:
        return {**super().state(), "began_k": float(self.k)}

    def load_state(self, payload: dict, with_optimizer: bool = True) -> None:
        super().load_state(payload, with_optimizer)
        self.k = torch.tensor(float(payload.get("began_k", self.config.initial_k)), device=self.device)


# The health monitor's rules for BEGAN ------------------------------------------------------------

@dataclass(frozen=True)
class BEGANThresholds(Thresholds):
    pinned_share: float = 0.8          # k_t at 0 or 1 in most of the window ...
    ratio_gap: float = 0.25            # ... while L(G(z))/L(x) is this far from gamma
    m_rise: float = 1.3                # M_global this many times its best so far


def target_ratio(w: Window) -> float:
    """The run's γ, the L(G(z))/L(x) that the controller aims for."""
    return float(w.config.get("gamma", 0.5))


class BEGANHealth(GANHealth):
    """BEGAN's losses are reconstruction errors, so the tutorial's BCE bands do not apply. Judged
    instead: the equilibrium (k_t pinned at a bound while L(G(z))/L(x) stays far from γ), the
    convergence measure M_global rising again, and the same diversity and class checks."""

    thresholds: BEGANThresholds
    rules = ("warming_up", "equilibrium_lost", "m_global_rising", "mode_collapse",
             "partial_collapse")
    collapse_signs = ("low_diversity", "few_classes")

    def __init__(self):
        super().__init__(BEGANThresholds(), latent_default=64)

    def numbers(self, w: Window) -> list[str]:
        """M_global against its best so far, k_t and its range, L(G(z))/L(x) against γ."""
        m_global, k = w.recent("began/m_global"), w.recent("began/k")
        ratio = w.recent("began/ratio")
        best = w.history("began/m_global").rolling(5, min_periods=1).mean().min()
        return [_("mean M_global {m_global:.3f} (best so far {best:.3f}), k_t {k:.3f} (range "
                  "{k_min:.3f}–{k_max:.3f}), L(G(z))/L(x) {ratio:.2f} (target γ = {gamma:g}) "
                  "over {span}").format(m_global=m_global.mean(), best=best, k=k.mean(),
                                        k_min=k.min(), k_max=k.max(), ratio=ratio.mean(),
                                        gamma=target_ratio(w), span=w.span)]

    def equilibrium_lost(self, w: Window) -> Verdict | None:
        """k_t sits at 0 or 1 for most of the window while L(G(z))/L(x) stays far from γ."""
        t, k, ratio = self.thresholds, w.recent("began/k"), w.recent("began/ratio")
        pinned = max((k <= 1e-4).mean(), (k >= 1 - 1e-4).mean()) if not k.empty else 0.0
        if pinned >= t.pinned_share and abs(ratio.mean() - target_ratio(w)) > t.ratio_gap:
            bound = 0 if (k <= 1e-4).mean() >= (k >= 1 - 1e-4).mean() else 1
            return w.verdict("convergence failure",
                             _("Equilibrium lost: k_t is stuck at {bound}, so the controller no "
                               "longer balances D's work on real and generated images.")
                             .format(bound=bound),
                             [_("k_t at {bound} in {pinned:.0%} of records while L(G(z))/L(x) = "
                                "{ratio:.2f} stays far from γ = {gamma:g} ({span})")
                              .format(bound=bound, pinned=pinned, ratio=ratio.mean(),
                                      gamma=target_ratio(w), span=w.span)])
        return None

    def m_global_rising(self, w: Window) -> Verdict | None:
        """M_global (smoothed over 5 records) in the window is well above its best before it."""
        smooth = w.history("began/m_global").rolling(5, min_periods=1).mean()
        best = smooth[smooth.index <= w.start].min() if (smooth.index <= w.start).any() else None
        m_global = w.recent("began/m_global").mean()
        if best is not None and m_global > self.thresholds.m_rise * best:
            return w.verdict("convergence failure", _("M_global is rising: the run is moving "
                             "away from convergence (the paper's measure should fall and "
                             "settle)."),
                             [_("mean M_global {m_global:.3f} over {span} is {times:.1f}× its "
                                "best before step {step} ({best:.3f})")
                              .format(m_global=m_global, span=w.span, times=m_global / best,
                                      step=w.start, best=best)])
        return None

    def classes_source(self, w: Window) -> str:
        """The class evidence names only its source."""
        return _("shipped CNN's labels")

    def healthy(self, w: Window) -> Verdict:
        """The equilibrium holds and the images stay varied: notes on diversity and classes."""
        diversity = w.recent("diversity/ratio")
        notes = [_("diversity {ratio:.2f}× real").format(ratio=diversity.median())] \
            if not diversity.empty else []
        if w.classes.covered is not None:
            notes.append(classes_note(w.classes))
        return w.verdict("healthy", _("Healthy: the equilibrium holds (k_t stays off its bounds "
                         "0 and 1, M_global is not rising) and the images stay varied."),
                         notes, remedies=[])

    @property
    def explanation(self) -> str:
        t = self.thresholds
        return _("BEGAN's losses are reconstruction errors, not the tutorial's cross-entropies, "
                 "so its bands do not apply. Judged instead: the equilibrium (k_t stuck at 0 or 1 "
                 "in {pinned:.0%} of the last {window} steps while L(G(z))/L(x) is more than "
                 "{gap:g} from γ means it is lost), the convergence measure M_global (rising to "
                 "{rise:g}× its best means the run moves away from convergence), and the same "
                 "diversity and class checks as every GAN page.").format(
                     pinned=t.pinned_share, window=t.window_steps, gap=t.ratio_gap,
                     rise=t.m_rise)

    @property
    def chart_notes(self) -> dict[str, str]:
        """The GAN charts' notes, and what a healthy k_t and M_global look like."""
        return {**super().chart_notes,
                "k_t": _("Healthy: k_t rises from 0 in the first steps, then settles somewhere "
                         "between 0 and 1 and wanders slowly. Stuck at 0 means D ignores the "
                         "generated images; stuck at 1 means the "
                         "controller cannot hold L(G(z)) ≈ γ·L(x) (equilibrium lost)."),
                "m_global": _("Healthy: M_global falls quickly, then slowly, and settles; a "
                              "sustained rise means the run is moving away from convergence.")}

    def remedies(self, state: str, config: dict) -> list[Remedy]:
        """No BCE here, so no smoothing, spectral-norm or TTUR remedies: BEGAN's own (each
        says where it comes from)."""
        remedies = []
        lr_d, lr_g = config.get("learning_rate_d", 5e-4), config.get("learning_rate_g", 5e-4)
        if state == "mode collapse":
            if config.get("latent_dim", 64) < 10:
                remedies.append(Remedy("nz = 64", {"latent_dim": 64},
                                       _("a tiny z gives G almost nothing to vary; G's input "
                                         "layer changes, so it restarts at step 0"),
                                       from_scratch=True,
                                       source=_("{paper}: its z of 64").format(paper=BEGAN_PAPER)))
            if not config.get("pull_away"):
                remedies.append(Remedy(_("Pull-away term (0.1)"), {"pull_away": 0.1},
                                       _("EBGAN's remedy for autoencoder discriminators: G is "
                                         "rewarded when D's codes for its images differ"),
                                       source="EBGAN (Zhao et al. 2016)"))
            if not config.get("generator_batch_norm"):
                remedies.append(Remedy(_("Batch norm in G (from scratch)"),
                                       {"generator_batch_norm": True},
                                       _("G's first samples then differ, so they spread over "
                                         "more kinds of garment; changes G's layers, so it "
                                         "restarts at step 0"), from_scratch=True,
                                       source=_("this project's runs (not in the paper)")))
            if not config.get("latent_constraint") and \
                    config.get("embedding_dim", 64) == config.get("latent_dim", 64):
                remedies.append(Remedy(_("Latent constraint (BEGAN-CS, 0.1)"),
                                       {"latent_constraint": 0.1},
                                       _("D's encoder must read z back from G's images, so "
                                         "images of different z stay apart (Chang et al. 2018)"),
                                       source="BEGAN-CS (Chang et al. 2018)"))
            gamma = config.get("gamma", 0.7)
            if gamma < 0.9:
                remedies.append(Remedy(_("Raise γ to {gamma:.1f}").format(
                                           gamma=min(gamma + 0.2, 1.0)),
                                       {"gamma": round(min(gamma + 0.2, 1.0), 2)},
                                       _("the paper: a higher diversity ratio γ gives more "
                                         "varied images"), source=BEGAN_PAPER))
        remedies.append(Remedy(_("Lower learning rates (÷2)"),
                               {"learning_rate_d": lr_d / 2, "learning_rate_g": lr_g / 2},
                               _("the paper halves the learning rate when M_global stalls"),
                               source=BEGAN_PAPER))
        lambda_k = config.get("lambda_k", 1e-3)
        if state in ("convergence failure", "oscillation") and lambda_k > 1e-4:
            slower = 1e-3 if lambda_k > 1e-3 else 1e-4      # values the λ_k select offers
            remedies.append(Remedy(_("Slower controller (λ_k = {lambda_k:g})").format(
                                       lambda_k=slower), {"lambda_k": slower},
                                   _("k_t swings less, so D's attention to fakes changes gently"),
                                   source=f"{BEGAN_PAPER}: λ_k = 0.001"))
        return remedies



# The page's and the bench's side-by-side: BEGAN at its defaults and the tutorial's DCGAN
# widened to a comparable size (BEGAN n = 32: 1.03 M parameters; DCGAN ngf = ndf = 48: 1.05 M).
NAME = "began"
SIDE_BY_SIDE = {NAME: {}, dcgan.SPEC.name: {"generator_width": 48, "discriminator_width": 48}}


def side_by_side_configs(budget_s: float) -> tuple:
    """(BEGAN config, DCGAN config), each stopping after ``budget_s`` seconds of training; the
    order of ``SIDE_BY_SIDE``."""
    common = {"time_budget_s": budget_s, "epochs": 200}
    return tuple(from_dict(config_cls, {**values, **common}) for config_cls, values
                 in zip((BEGANConfig, dcgan.DCGANConfig), SIDE_BY_SIDE.values()))


SPEC = ModelSpec(
    paper=Paper(2017, N_('Berthelot et al. 2017, arXiv:1703.10717'), N_('an autoencoder D and an equilibrium term k_t that balances D and G, with a convergence measure')),
    name=NAME, title=N_("BEGAN"), config_cls=BEGANConfig, build_network=build, **gan_task.FAMILY,
    section=N_("GANs"), icon=":material/balance:", url_path="began",
    trainer=BEGANTrainer, health=BEGANHealth(), panel="ui.panels.began:BEGANPanel",
    summary=N_("The discriminator is an autoencoder: it scores an image by how badly it "
             "reconstructs it, L(x) = |x − D(x)|. D learns to reconstruct real images and not generated ones; G "
             "learns to make images D reconstructs well. A controller k_t keeps L(G(z)) ≈ γ·L(x), "
             "and γ trades sharpness for diversity. M_global is the paper's convergence measure: "
             "it falls as the images improve. The tutorial's author found it never collapsed; "
             "here it can: the γ 0.5 preset collapsed onto one class in this project's runs."),
    presets={
        N_("Short CPU run (γ 0.7, λ_k 0.01, lr 5e-4, batch 32)"): {},
        N_("More kinds of garment (batch norm in G + pull-away 0.1)"): {
            "generator_batch_norm": True, "pull_away": 0.1},
        N_("Paper settings (γ 0.5, λ_k 0.001, lr 1e-4, batch 16: slow to start)"): {
            "gamma": 0.5, "lambda_k": 1e-3, "learning_rate_d": 1e-4, "learning_rate_g": 1e-4,
            "batch_size": 16},
        N_("Less diverse (γ 0.5: collapsed onto one class here)"): {"gamma": 0.5},
        N_("Sharper, less varied (γ 0.3)"): {"gamma": 0.3},
        N_("Too fast (lr 1e-3: watch M_global)"): {"learning_rate_d": 1e-3, "learning_rate_g": 1e-3},
    },
)
