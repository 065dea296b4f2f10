"""infoGAN: a GAN whose generator input carries codes with meaning, learned by maximising the
mutual information between the codes and the image through a head Q on the discriminator.

InfoGAN (Chen et al. 2016), https://arxiv.org/abs/1606.03657 . The networks follow the paper's
MNIST net (its Table 1) at a CPU-friendly width: G = FC -> 2 transposed convs, D = 2 strided convs
-> FC, Q = one more FC on D's features. Codes: c1 ~ Cat(K = 10, uniform), c2.. ~ U(-1, 1), z ~ N(0, I).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn import functional as F

from core import gan_task
from core.config import param
from core.data.fashion_mnist import CLASS_NAMES
from core.diagnostics import GANHealth
from core.i18n import N_, _
from core.models.gans.base import (AdversarialConfig, GANTrainer, discriminator_metrics,
                                   gradient_norm, make_adam, maybe_spectral_norm)
from core.models.spec import ModelSpec, Paper

if TYPE_CHECKING:
    from core.gan_eval import Judge


@dataclass
class InfoGANConfig(AdversarialConfig):
    learning_rate_g: float = param(1e-3, "generator (and Q head) learning rate: the paper's 1e-3, "
                                   "5x D's; at 2e-4 the categorical code stayed a minor detail here",
                                   low=1e-6, high=1e-2, log=True, label=N_("learning rate G"))
    latent_dim: int = param(62, "length of the incompressible noise z (the paper's MNIST net uses "
                            "62; the codes come on top)", low=1, high=200, label=N_("nz (noise size)"))
    categories: int = param(10, "values of the categorical code c1 (10 in the paper: one per digit)",
                            low=2, high=20, label=N_("categorical code values"))
    continuous_codes: int = param(2, "continuous codes c2, c3, ... each uniform in [-1, 1] (the "
                                  "paper's MNIST net has 2: slant and width)", low=1, high=5,
                                  label=N_("continuous codes"))
    lambda_categorical: float = param(1.0, "weight λ_cat of the categorical code's cross-entropy "
                                      "(the paper: 1; 0 switches the information term off)",
                                      low=0.0, high=10.0, label=N_("λ categorical"))
    lambda_continuous: float = param(0.1, "weight λ_cont of the continuous codes' Gaussian term "
                                     "(smaller than λ_cat, as the paper advises)", low=0.0,
                                     high=10.0, label=N_("λ continuous"))
    instance_noise: float = param(0.0, "std of Gaussian noise added to every image D and Q see: "
                                  "a code hidden in faint pixel patterns cannot be read through "
                                  "it, so G has to make the code visible", low=0.0, high=1.0,
                                  label=N_("instance noise"))
    continuous_loss: str = param("gaussian", "Q's model of a continuous code: a factored Gaussian "
                                 "with learned variance (the paper) or plain MSE (fixed variance)",
                                 choices=("gaussian", "mse"), advanced=True)
    generator_width: int = param(64, "channels of G's last hidden layer (the paper: 64; the layer "
                                 "before has twice as many)", low=4, high=128, label=N_("ngf"),
                                 size="width")
    discriminator_width: int = param(64, "channels of D's first conv (the paper: 64; the second "
                                     "has twice as many)", low=4, high=128, label=N_("ndf"),
                                     size="width")


def sample_codes(count: int, categories: int, continuous: int,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """c1 uniform over ``categories`` values (as indices) and c2.. uniform in [-1, 1].

    The paper's prior: Cat(K, p = 1/K) and Unif(-1, 1). A known bug in public code is to draw the
    continuous codes from N(0, 1) or the one-hot from a softmax of noise; both make Q's target
    differ from what G sees.
    """
    categorical = torch.randint(0, categories, (count,), generator=generator)       # (B,)
    uniform = torch.rand(count, continuous, generator=generator) * 2 - 1            # (B, C)
    return categorical, uniform


def generator_input(z: torch.Tensor, categorical: torch.Tensor, continuous: torch.Tensor,
                    categories: int) -> torch.Tensor:
    """[z, one_hot(c1), c2..] -> (B, nz + K + C), the vector G reads."""
    one_hot = F.one_hot(categorical.long(), categories).to(z.dtype)
    return torch.cat([z, one_hot, continuous.to(z.dtype)], dim=1)


class Generator(nn.Module):
    def __init__(self, config: InfoGANConfig, image_shape=(1, 28, 28)):
        super().__init__()
        channels, size = image_shape[0], image_shape[-1]
        if size % 4:
            raise ValueError(f"infoGAN needs an image size divisible by 4, got {size}")
        ngf, self.start = config.generator_width, size // 4
        inputs = config.latent_dim + config.categories + config.continuous_codes
        self.project = nn.Sequential(                    # (B, nz+K+C) -> (B, 2ngf * s * s)
            nn.Linear(inputs, 2 * ngf * self.start ** 2, bias=False),
            nn.BatchNorm1d(2 * ngf * self.start ** 2), nn.ReLU(True))
        self.main = nn.Sequential(
            nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False),    # (B, ngf, 2s, 2s)
            nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, channels, 4, 2, 1), nn.Tanh())     # (B, C, 4s, 4s)
        self.width = 2 * ngf

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        hidden = self.project(latent).view(len(latent), self.width, self.start, self.start)
        return self.main(hidden)


class Discriminator(nn.Module):
    """A shared conv body; ``forward`` gives D's real/fake logit, ``forward_with_codes`` adds Q's
    prediction of the codes (categorical logits, continuous means and log standard deviations)."""

    def __init__(self, config: InfoGANConfig, image_shape=(1, 28, 28)):
        super().__init__()
        channels, size = image_shape[0], image_shape[-1]
        ndf, hidden = config.discriminator_width, 256
        norm = lambda layer: maybe_spectral_norm(layer, config.spectral_norm)
        # No batch norm in D (the paper has it): D sees real and generated images in separate
        # batches, and with batch norm it told them apart by their batch statistics here — G
        # drew noise at 1,000 steps. Without it (or with spectral norm) G learns shapes.
        self.body = nn.Sequential(
            norm(nn.Conv2d(channels, ndf, 4, 2, 1)), nn.LeakyReLU(0.1, True),     # (B, ndf, s/2, s/2)
            norm(nn.Conv2d(ndf, 2 * ndf, 4, 2, 1)), nn.LeakyReLU(0.1, True),
            nn.Flatten(),                                                        # (B, 2ndf * s/4 * s/4)
            norm(nn.Linear(2 * ndf * (size // 4) ** 2, hidden)),
            nn.LeakyReLU(0.1, True))                                             # (B, 256)
        self.adversarial = norm(nn.Linear(hidden, 1))
        self.categories, self.continuous = config.categories, config.continuous_codes
        self.q = nn.Sequential(nn.Linear(hidden, 128, bias=False), nn.BatchNorm1d(128),
                               nn.LeakyReLU(0.1, True),
                               nn.Linear(128, config.categories + 2 * config.continuous_codes))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.adversarial(self.body(images)).squeeze(1)            # (B,) logits

    def forward_with_codes(self, images: torch.Tensor):
        features = self.body(images)
        q = self.q(features)                                             # (B, K + 2C)
        categorical, mean, log_std = q.split([self.categories, self.continuous, self.continuous], 1)
        return (self.adversarial(features).squeeze(1), categorical, mean,
                log_std.clamp(-2.5, 1.5))  # a floor on the variance keeps the Gaussian term finite


def build(config: InfoGANConfig, image_shape=(1, 28, 28)) -> tuple[nn.Module, nn.Module]:
    return Generator(config, image_shape), Discriminator(config, image_shape)


def information_loss(config: InfoGANConfig, categorical_logits, mean, log_std, categorical,
                     continuous) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(weighted total, categorical cross-entropy, continuous term).

    Minimising the cross-entropy of Q's guess maximises the lower bound of the mutual information
    I(c1; G(z, c)) >= H(c1) - CE (the paper's L_I); for a continuous code Q is a Gaussian and the
    term is its negative log-likelihood without the constant (or the MSE, a Gaussian of fixed
    variance).
    """
    cross_entropy = F.cross_entropy(categorical_logits, categorical)
    if config.continuous_loss == "gaussian":
        continuous_term = (log_std + 0.5 * ((continuous - mean) / log_std.exp()) ** 2).mean()
    else:
        continuous_term = F.mse_loss(mean, continuous)
    total = config.lambda_categorical * cross_entropy + config.lambda_continuous * continuous_term
    return total, cross_entropy, continuous_term


class InfoGANTrainer(GANTrainer):
    """GANTrainer with codes: ``noise`` returns the whole generator input [z, one_hot(c1), c2..].

    The information loss trains G and the Q head only; D's shared body learns from the real/fake
    loss alone (as in the widely used InfoGAN-PyTorch). When the information loss also trained the
    body, Q learned to read the codes from faint pixel patterns that G hid them in: Q was 99.5%
    right while the categorical code changed nothing visible (purity 0.24 after 5 epochs).
    """

    config: InfoGANConfig

    def make_optimizers(self):
        """G's optimizer also trains the Q head; D's trains the rest of D."""
        config = self.config
        q_parameters = list(self.discriminator.q.parameters())
        q_ids = {id(p) for p in q_parameters}
        return (make_adam(list(self.generator.parameters()) + q_parameters,
                          config.learning_rate_g, config.beta1),
                make_adam([p for p in self.discriminator.parameters() if id(p) not in q_ids],
                          config.learning_rate_d, config.beta1))

    def latent(self, z: torch.Tensor, categorical: torch.Tensor, continuous: torch.Tensor):
        return generator_input(z, categorical, continuous, self.config.categories).to(self.device)

    def sample_latent(self, count: int, generator: torch.Generator | None = None):
        z = torch.randn(count, self.config.latent_dim, generator=generator)
        categorical, continuous = sample_codes(count, self.config.categories,
                                               self.config.continuous_codes, generator)
        return (self.latent(z, categorical, continuous), categorical.to(self.device),
                continuous.to(self.device))

    def noise(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.sample_latent(count, generator)[0]

    def blur(self, images: torch.Tensor) -> torch.Tensor:
        """What D and Q see: the images plus instance noise (when configured)."""
        if not self.config.instance_noise:
            return images
        return images + self.config.instance_noise * torch.randn_like(images)

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None
                   ) -> dict[str, torch.Tensor]:
        """One D+Q step and one G step; both add the information loss on generated images."""
        self.generator.train(), self.discriminator.train()
        config, batch = self.config, len(real)
        ones = torch.full((batch,), 1.0 - config.label_smoothing, device=self.device)
        zeros = torch.zeros(batch, device=self.device)
        latent, categorical, continuous = self.sample_latent(batch)

        # Update D: the real/fake loss only.
        fake = self.generator(latent)
        logits_real = self.discriminator(self.blur(real))
        logits_fake = self.discriminator(self.blur(fake.detach()))
        loss_d = (F.binary_cross_entropy_with_logits(logits_real, ones)
                  + F.binary_cross_entropy_with_logits(logits_fake, zeros))
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        grad_norm_d = gradient_norm(self.discriminator)
        self.optimizer_d.step()

        # Update G and Q: fool D, and make the codes recoverable by Q (maximise the information
        # bound). D's body gets gradients here too; they are dropped (zeroed before D's next step).
        logits_after, q_categorical, q_mean, q_log_std = self.discriminator.forward_with_codes(
            self.blur(fake))
        loss_g = F.binary_cross_entropy_with_logits(logits_after, torch.ones_like(zeros))
        info_g, cross_entropy, continuous_term = information_loss(
            config, q_categorical, q_mean, q_log_std, categorical, continuous)
        self.optimizer_g.zero_grad(set_to_none=True)
        (loss_g + info_g).backward()
        grad_norm_g = gradient_norm(self.generator)
        self.optimizer_g.step()

        with torch.no_grad():
            return {
                "loss/discriminator": loss_d.detach(), "loss/generator": loss_g.detach(),
                "loss/info": info_g.detach(),
                "info/categorical_ce": cross_entropy.detach(),
                "info/mutual_information": math.log(config.categories) - cross_entropy.detach(),
                "info/categorical_accuracy":
                    (q_categorical.argmax(1) == categorical).float().mean(),
                "info/continuous_term": continuous_term.detach(),
                "info/continuous_mse": F.mse_loss(q_mean, continuous).detach(),
                **discriminator_metrics(logits_real, logits_fake, logits_after.detach()),
                "grad_norm/discriminator": grad_norm_d, "grad_norm/generator": grad_norm_g,
            }

    @torch.no_grad()
    def traversal(self, z: torch.Tensor, continuous: list[float], code: int,
                  values: torch.Tensor) -> torch.Tensor:
        """The explorer's grid: rows = each categorical value, columns = continuous code ``code``
        swept over ``values``, the other codes at ``continuous``, one z (1, nz) for the whole grid.
        Returns (K * len(values), C, H, W) images, row by row."""
        rows, columns = self.config.categories, len(values)
        categorical = torch.arange(rows).repeat_interleave(columns)                # (K*T,)
        codes = torch.tensor(continuous, dtype=torch.float32).repeat(rows * columns, 1)  # (K*T, C)
        codes[:, code] = values.repeat(rows)
        return self.generate(self.latent(z.expand(rows * columns, -1), categorical, codes))

    @torch.no_grad()
    def predict_codes(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Q's guess of (c1, c2..) for images in [-1, 1] (D in eval mode)."""
        self.discriminator.eval()
        _logit, categorical, mean, _log_std = self.discriminator.forward_with_codes(
            images.to(self.device))
        return categorical.argmax(1), mean

    def final_evaluation(self, judge, count: int = 2000) -> dict:
        """What each code learned, stored in the checkpoint so the explorer shows it at once."""
        if judge is None:
            return {}
        return {"codes": code_meanings(self, judge, count=count)}

    def extra_metrics(self, judge) -> dict[str, float]:
        """What each code learned, on 10,000 samples, as name=value figures."""
        if judge is None:
            return {}
        return code_metrics(code_meanings(self, judge))



# What the codes learned, measured with the shipped CNN and simple image statistics ------------

TRAVERSAL_VALUES = 9          # points of a sweep of one continuous code over [-1, 1]


def image_statistics(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Simple per-image statistics of [-1, 1] grey images (N, 1, H, W), each a (N,) tensor.

    ink: mean intensity (how much of the square is covered); width / height: twice the
    intensity-weighted standard deviation of the x / y coordinate, in pixels; brightness: the
    intensity-weighted mean intensity (how light the inked part is); slant: the weighted
    covariance of x and y over the variance of y (how much the shape leans).
    """
    intensity = ((images.float().mean(1) + 1) / 2).clamp(0, 1)            # (N, H, W) in [0, 1]
    mass = intensity.sum((1, 2)).clamp(min=1e-6)                             # (N,)
    height, width = intensity.shape[1:]
    ys = torch.arange(height, dtype=torch.float32).view(1, height, 1)
    xs = torch.arange(width, dtype=torch.float32).view(1, 1, width)
    mean_x = (intensity * xs).sum((1, 2)) / mass
    mean_y = (intensity * ys).sum((1, 2)) / mass
    dx, dy = xs - mean_x.view(-1, 1, 1), ys - mean_y.view(-1, 1, 1)
    var_x = (intensity * dx ** 2).sum((1, 2)) / mass
    var_y = (intensity * dy ** 2).sum((1, 2)) / mass
    cov_xy = (intensity * dx * dy).sum((1, 2)) / mass
    return {"ink": intensity.mean((1, 2)), "width": 2 * var_x.sqrt(), "height": 2 * var_y.sqrt(),
            "brightness": (intensity ** 2).sum((1, 2)) / mass,
            "slant": cov_xy / var_y.clamp(min=1e-6)}


def rank_correlation(a: torch.Tensor, b: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Spearman's rank correlation along ``dim`` (ties broken by order: values here are floats)."""
    rank = lambda x: x.argsort(dim).argsort(dim).float()
    ra, rb = rank(a), rank(b)
    ra, rb = ra - ra.mean(dim, keepdim=True), rb - rb.mean(dim, keepdim=True)
    return (ra * rb).sum(dim) / ((ra ** 2).sum(dim) * (rb ** 2).sum(dim)).sqrt().clamp(min=1e-12)


@torch.no_grad()
def code_meanings(trainer, judge: Judge, count: int = 10_000, seed: int = 0,
                  sweeps: int = 200) -> dict:
    """Measure what each infoGAN code controls.

    Categorical: ``count`` samples (count / K per value; z and the continuous codes random),
    labelled by the shipped CNN: the most frequent class per value and its share (purity).
    Continuous: ``sweeps`` random (z, c1, other codes), each swept over [-1, 1] in the code; the
    rank correlation of each image statistic with the code along a sweep, averaged over sweeps
    (what moving the slider does), and the pooled correlation over all swept images.
    """
    config = trainer.config
    generator = torch.Generator().manual_seed(seed)
    categories, continuous = config.categories, config.continuous_codes
    # Categorical code: which class does the CNN see for each value?
    per_value = max(count // categories, 1)
    rows: list[dict[str, Any]] = []
    for value in range(categories):
        z = torch.randn(per_value, config.latent_dim, generator=generator)
        codes = torch.rand(per_value, continuous, generator=generator) * 2 - 1
        images = trainer.generate(trainer.latent(z, torch.full((per_value,), value), codes)).cpu()
        histogram = judge.class_histogram(images)
        top = int(histogram.argmax())
        rows.append({"value": value, "class": CLASS_NAMES[top], "class_index": top,
                     "share": float(histogram[top]), "histogram": histogram.tolist()})
    # Continuous codes: sweep one, hold the rest, correlate the statistics with it.
    sweep = torch.linspace(-1, 1, TRAVERSAL_VALUES)
    correlations = []
    for code in range(continuous):
        z = torch.randn(sweeps, config.latent_dim, generator=generator)
        categorical = torch.randint(0, categories, (sweeps,), generator=generator)
        codes = torch.rand(sweeps, continuous, generator=generator) * 2 - 1
        z = z.repeat_interleave(TRAVERSAL_VALUES, 0)                        # (S*T, nz)
        categorical = categorical.repeat_interleave(TRAVERSAL_VALUES, 0)
        codes = codes.repeat_interleave(TRAVERSAL_VALUES, 0)
        codes[:, code] = sweep.repeat(sweeps)
        images = trainer.generate(trainer.latent(z, categorical, codes)).cpu()
        statistics = image_statistics(images)
        values = codes[:, code]
        along, pooled = {}, {}
        for name, statistic in statistics.items():
            along[name] = float(rank_correlation(statistic.view(sweeps, -1),
                                                 values.view(sweeps, -1)).mean())
            pooled[name] = float(rank_correlation(statistic, values))
        best = max(along, key=lambda name: abs(along[name]))
        correlations.append({"code": code, "statistic": best, "correlation": along[best],
                             "pooled": pooled[best], "along_sweep": along, "pooled_all": pooled})
    shares = [row["share"] for row in rows]
    return {"categorical": rows, "continuous": correlations,
            "purity": sum(shares) / len(shares),
            "distinct_classes": len({row["class_index"] for row in rows}),
            "samples": per_value * categories, "sweeps": sweeps}


OWN_CORRELATION = 0.6      # a continuous code "follows" a statistic: |ρ| at least this ...
CROSS_CORRELATION = 0.3    # ... and it leaves another code's statistic alone: |ρ| below this


def separation(meanings: dict) -> dict:
    """Do the continuous codes learn *different* things? Each code follows its own statistic
    (the one it correlates with most, |ρ| ≥ 0.6 along a sweep) and each other code's statistic
    moves little with it (|ρ| < 0.3). Two codes that both follow ink fail: they learned the same
    thing. Returns per code its statistic, its own |ρ|, its largest |ρ| with another code's
    statistic, and whether all codes pass."""
    rows = meanings["continuous"]
    statistics = [row["statistic"] for row in rows]
    checked = []
    for row in rows:
        others = [name for index, name in enumerate(statistics) if index != row["code"]]
        cross = max((abs(row["along_sweep"][name]) for name in others), default=0.0)
        checked.append({"code": row["code"], "statistic": row["statistic"],
                        "own": abs(row["correlation"]), "cross": cross})
    distinct = len(set(statistics)) == len(statistics)
    passes = distinct and all(row["own"] >= OWN_CORRELATION and row["cross"] < CROSS_CORRELATION
                              for row in checked)
    return {"codes": checked, "distinct_statistics": distinct, "passes": passes}


def code_metrics(meanings: dict) -> dict[str, float]:
    """``code_meanings`` as flat name=value metrics (the CLI's evaluate and the bench print them)."""
    values = {"codes/purity": meanings["purity"],
              "codes/distinct_classes": float(meanings["distinct_classes"])}
    for row in meanings["continuous"]:
        values[f"codes/c{row['code'] + 2}_{row['statistic']}_correlation"] = row["correlation"]
        values[f"codes/c{row['code'] + 2}_{row['statistic']}_pooled"] = row["pooled"]
    checked = separation(meanings)
    for row in checked["codes"]:
        values[f"codes/c{row['code'] + 2}_cross_correlation"] = row["cross"]
    values["codes/continuous_separated"] = float(checked["passes"])
    return values


def headline(values: dict) -> str:
    """The history table's line: how cleanly the codes carry a meaning."""
    if values.get("codes/continuous_separated"):
        line = _("code purity {purity:.3f}, {classes:.0f} distinct classes; continuous codes "
                 "separate")
    else:
        line = _("code purity {purity:.3f}, {classes:.0f} distinct classes; continuous codes "
                 "follow the same factor")
    return line.format(purity=values["codes/purity"], classes=values["codes/distinct_classes"])


SPEC = ModelSpec(
    headline=headline,
    paper=Paper(2016, N_('Chen et al. 2016, arXiv:1606.03657'), N_('latent codes with a meaning, learned without labels by maximising mutual information')),
    name="infogan", title=N_("infoGAN"), config_cls=InfoGANConfig, build_network=build,
    section=N_("GANs"), icon=":material/tune:", url_path="infogan",
    **gan_task.FAMILY, trainer=InfoGANTrainer, health=GANHealth(latent_default=62),
    panel="ui.panels.infogan:InfoGANPanel",
    summary=N_("A GAN whose input carries codes with a meaning: a categorical code with 10 values "
               "and a few continuous codes in [−1, 1], besides the noise z. A head Q on the "
               "discriminator guesses the codes back from the image; rewarding G when Q succeeds "
               "(maximising the mutual information between code and image) makes each code "
               "control something visible — on Fashion-MNIST mostly the kind of garment, its "
               "width or its ink."),
    presets={
        N_("Paper settings (λ_cat 1, λ_cont 0.1, lr D 2e-4 / G 1e-3, nz 62)"): {},
        N_("Stronger continuous codes (λ_cont 1)"): {"lambda_continuous": 1.0},
        N_("No information term (λ = 0: the codes mean nothing)"): {
            "lambda_categorical": 0.0, "lambda_continuous": 0.0},
        N_("Small and fast (ngf = ndf = 32)"): {"generator_width": 32, "discriminator_width": 32},
    },
)
