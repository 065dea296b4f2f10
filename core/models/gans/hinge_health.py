"""The health monitor's rules for the hinge-loss GANs (SAGAN, BigGAN), beside the conditional models
that train with that loss: the tutorial's BCE bands do not fit a hinge loss, so D winning is judged
against the hinge loss's own floor (0) and the remedies are the ones these papers use."""
from __future__ import annotations

from dataclasses import dataclass

from core.diagnostics import TUTORIAL, GANHealth, Remedy, Thresholds, Verdict, Window

SAGAN = "SAGAN (Zhang et al. 2018)"
BIGGAN = "BigGAN (Brock et al. 2018)"


@dataclass(frozen=True)
class HingeThresholds(Thresholds):
    """The hinge loss's own numbers. L_D = mean max(0, 1 − D(x)) + mean max(0, 1 + D(G(z))) is 2
    when D scores everything 0 and 0 only when every real image scores ≥ 1 and every generated one
    ≤ −1; L_G = −mean D(G(z)) is a raw score with no fixed scale. The bands are where healthy runs
    of the SAGAN and BigGAN presets sat here after their first few hundred steps (`python
    bench/conditional_gans.py monitor`): L_D 0.3–1.1, L_G 0.2–2.2; their failure demos (D lr
    4e-3, 5 D steps) sat at L_D 0.14 and L_G 2.7–2.9 with D right > 97% of the time."""
    d_loss_band: tuple = (0.3, 1.6)
    g_loss_band: tuple = (0.0, 2.5)
    failure_d_loss: float = 0.25         # D's margin holds on almost every image ...
    failure_g_loss: float = 2.0          # ... while it scores generated images far below 0
    oscillation_g_std: float = 1.0
    oscillation_d_std: float = 0.5


class HingeHealth(GANHealth):
    """The monitor's rules for a GAN trained with the hinge loss (SAGAN, BigGAN): the tutorial's
    BCE bands do not apply, so it judges D's hinge loss against its own floor (0, D winning
    outright) and the same diversity and class checks. Remedies: the ones these papers use —
    lower learning rates, TTUR, fewer or more D steps, Adam β1 = 0."""
    thresholds: HingeThresholds

    def __init__(self, thresholds: HingeThresholds = HingeThresholds(), latent_default: int = 128):
        super().__init__(thresholds, latent_default=latent_default)

    @property
    def explanation(self) -> str:
        """The sentence a page shows under the verdict: which bands, and why."""
        t = self.thresholds
        return (f"Bands for the hinge loss, not the tutorial's: its d_loss 0.5–0.8 and g_loss 0.5–2 "
                f"are binary cross-entropies (about ln 2 per term when D guesses). The hinge "
                f"L_D = mean max(0, 1 − D(x)) + mean max(0, 1 + D(G(z))) is 2 when D scores "
                f"everything 0 and reaches 0 only when D is beyond its margin on every image, and "
                f"L_G = −mean D(G(z)) is a raw score. Healthy here: L_D {t.d_loss_band[0]:g}–"
                f"{t.d_loss_band[1]:g} and L_G {t.g_loss_band[0]:g}–{t.g_loss_band[1]:g} (where "
                f"healthy runs of these presets sat); convergence failure: L_D below "
                f"{t.failure_d_loss:g} with D right > {t.failure_d_accuracy:.0%} of the time in "
                f"most of the last {t.window_steps} steps while L_G stays above "
                f"{t.failure_g_loss:g}; mode collapse: the same diversity, near-duplicate and "
                f"class checks as every GAN page.")

    def numbers(self, w: Window) -> list[str]:
        """The hinge losses against their bands, D's accuracy and how often the shipped CNN sees
        the intended class."""
        t = self.thresholds
        d_accuracy, intended = w.recent("d_accuracy/mean"), w.recent("classes/intended_accuracy")
        numbers = [f"mean hinge d_loss {w.recent('loss/discriminator').mean():.2f} (healthy "
                   f"{t.d_loss_band[0]:g}–{t.d_loss_band[1]:g}), mean g_loss "
                   f"{w.recent('loss/generator').mean():.2f} (healthy {t.g_loss_band[0]:g}–"
                   f"{t.g_loss_band[1]:g}) over {w.span}"]
        if not d_accuracy.empty:
            numbers.append(f"D accuracy (sign of its score) {d_accuracy.mean():.0%}")
        if not intended.empty:
            numbers.append(f"the shipped CNN sees the intended class in "
                           f"{intended.iloc[-t.class_checks:].mean():.0%} of generated images")
        return numbers

    def convergence_failure(self, w: Window) -> Verdict | None:
        """D's margin holds on nearly every image (hinge d_loss near 0, D almost always right)
        for most of the window while G's score sinks."""
        t = self.thresholds
        shares = w.d_winning(0.0)
        if shares is None:
            return None
        winning, certain = shares
        g_loss = w.recent("loss/generator")
        quarter = max(len(g_loss) // 4, 1)
        first, last = g_loss.iloc[:quarter].mean(), g_loss.iloc[-quarter:].mean()
        return w.verdict("convergence failure",
                         "Convergence failure: the discriminator wins outright (its hinge loss "
                         "is near 0), so the generator's gradient carries little that helps.",
                         [f"hinge d_loss < {t.failure_d_loss:g} in {winning:.0%} of records and "
                          f"D accuracy > {t.failure_d_accuracy:.0%} in {certain:.0%} ({w.span})",
                          f"g_loss {first:.1f} → {last:.1f} (above {t.failure_g_loss:g}: D "
                          "scores generated images far below its margin)"])

    def healthy(self, w: Window) -> Verdict:
        """No rule found a problem: notes on the hinge d_loss, the samples and the classes."""
        low, high = self.thresholds.d_loss_band
        d_loss = w.recent("loss/discriminator").mean()
        notes = []
        if d_loss < low:
            notes.append("the hinge d_loss is below its healthy band: D is ahead; watch it")
        elif d_loss > high:
            notes.append("the hinge d_loss is near 2: D can hardly tell real from generated; fine "
                         "early on")
        notes += self.sample_notes(w)
        if w.classes.covered is not None:
            notes.append(f"{w.classes.covered:.1f} of 10 classes covered")
        return w.verdict("healthy", "Healthy: no sign of convergence failure, mode collapse or "
                         "oscillation.", notes, remedies=[])

    def remedies(self, state: str, config: dict) -> list[Remedy]:
        """The remedies of the hinge-loss papers, as changes to the fields ``config`` has."""
        remedies = []
        lr_d, lr_g = config.get("learning_rate_d", 4e-4), config.get("learning_rate_g", 1e-4)
        steps = config.get("discriminator_steps")
        ttur = Remedy("TTUR (D 4e-4, G 1e-4)", {"learning_rate_d": 4e-4, "learning_rate_g": 1e-4},
                      "two time-scales: a faster D guides a slower G (SAGAN's setting)",
                      source=f"{SAGAN}, after Heusel et al. 2017")
        if state == "convergence failure":
            remedies.append(Remedy("Lower D's learning rate (÷4)", {"learning_rate_d": lr_d / 4},
                                   "slows the discriminator down relative to G",
                                   source=f"{SAGAN}: TTUR's rates set D against G"))
            if steps is not None and steps > 1:
                remedies.append(Remedy("One D step per G step", {"discriminator_steps": 1},
                                       "D gets fewer updates per G update; SAGAN needs only one "
                                       "with TTUR", source=SAGAN))
            if (lr_d, lr_g) != (4e-4, 1e-4) and lr_d > 4e-4:
                remedies.append(ttur)
        elif state in ("mode collapse", "oscillation"):
            if config.get("latent_dim", self.latent_default) < 10:
                remedies.append(Remedy(f"nz = {self.latent_default}",
                                       {"latent_dim": self.latent_default},
                                       "a tiny z gives G almost nothing to vary within a class; "
                                       "G's input layer changes, so it restarts at step 0",
                                       from_scratch=True,
                                       source=f"{TUTORIAL} (nz = 1 provokes collapse)"))
            remedies.append(Remedy("Lower learning rates (÷2)",
                                   {"learning_rate_d": lr_d / 2, "learning_rate_g": lr_g / 2},
                                   "BigGAN: collapse follows a too-large step; halving both "
                                   "delays it", source=BIGGAN))
            if (lr_d, lr_g) != (4e-4, 1e-4):
                remedies.append(ttur)
            if steps is not None and steps < 5:
                remedies.append(Remedy(f"{steps + 1} D steps per G step",
                                       {"discriminator_steps": steps + 1},
                                       "a better-trained D punishes G for repeating itself "
                                       "(BigGAN uses 2)", source=BIGGAN))
            if config.get("beta1", 0.0) > 0:
                remedies.append(Remedy("Adam β1 = 0", {"beta1": 0.0},
                                       "no momentum in the updates, as SAGAN and BigGAN train",
                                       source=f"{SAGAN} and {BIGGAN}"))
        return remedies
