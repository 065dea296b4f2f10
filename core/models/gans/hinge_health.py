"""The health monitor's rules for the hinge-loss GANs (SAGAN, BigGAN), beside the conditional models
that train with that loss: the tutorial's BCE bands do not fit a hinge loss, so D winning is judged
against the hinge loss's own floor (0) and the remedies are the ones these papers use."""
from __future__ import annotations

from dataclasses import dataclass

from core.diagnostics import GANHealth, Remedy, Thresholds, Verdict, Window
from core.i18n import _

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
        return _("Bands for the hinge loss, not the tutorial's: its d_loss 0.5–0.8 and g_loss "
                 "0.5–2 are binary cross-entropies (about ln 2 per term when D guesses). The "
                 "hinge L_D = mean max(0, 1 − D(x)) + mean max(0, 1 + D(G(z))) is 2 when D "
                 "scores everything 0 and reaches 0 only when D is beyond its margin on every "
                 "image, and L_G = −mean D(G(z)) is a raw score. Healthy here: L_D "
                 "{d_low:g}–{d_high:g} and L_G {g_low:g}–{g_high:g} (where healthy runs of these "
                 "presets sat); convergence failure: L_D below {failure_d:g} with D right > "
                 "{failure_accuracy:.0%} of the time in most of the last {window} steps while "
                 "L_G stays above {failure_g:g}; mode collapse: the same diversity, "
                 "near-duplicate and class checks as every GAN page.").format(
            d_low=t.d_loss_band[0], d_high=t.d_loss_band[1], g_low=t.g_loss_band[0],
            g_high=t.g_loss_band[1], failure_d=t.failure_d_loss,
            failure_accuracy=t.failure_d_accuracy, window=t.window_steps,
            failure_g=t.failure_g_loss)

    def numbers(self, w: Window) -> list[str]:
        """The hinge losses against their bands, D's accuracy and how often the shipped CNN sees
        the intended class."""
        t = self.thresholds
        d_accuracy, intended = w.recent("d_accuracy/mean"), w.recent("classes/intended_accuracy")
        numbers = [_("mean hinge d_loss {d_loss:.2f} (healthy {d_low:g}–{d_high:g}), mean "
                     "g_loss {g_loss:.2f} (healthy {g_low:g}–{g_high:g}) over {span}").format(
            d_loss=w.recent("loss/discriminator").mean(), d_low=t.d_loss_band[0],
            d_high=t.d_loss_band[1], g_loss=w.recent("loss/generator").mean(),
            g_low=t.g_loss_band[0], g_high=t.g_loss_band[1], span=w.span)]
        if not d_accuracy.empty:
            numbers.append(_("D accuracy (sign of its score) {accuracy:.0%}").format(
                accuracy=d_accuracy.mean()))
        if not intended.empty:
            numbers.append(_("the shipped CNN sees the intended class in {share:.0%} of "
                             "generated images").format(
                share=intended.iloc[-t.class_checks:].mean()))
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
                         _("Convergence failure: the discriminator wins outright (its hinge loss "
                           "is near 0), so the generator's gradient carries little that helps."),
                         [_("hinge d_loss < {limit:g} in {winning:.0%} of records and D accuracy "
                            "> {accuracy:.0%} in {certain:.0%} ({span})").format(
                             limit=t.failure_d_loss, winning=winning,
                             accuracy=t.failure_d_accuracy, certain=certain, span=w.span),
                          _("g_loss {first:.1f} → {last:.1f} (above {limit:g}: D scores "
                            "generated images far below its margin)").format(
                              first=first, last=last, limit=t.failure_g_loss)])

    def healthy(self, w: Window) -> Verdict:
        """No rule found a problem: notes on the hinge d_loss, the samples and the classes."""
        low, high = self.thresholds.d_loss_band
        d_loss = w.recent("loss/discriminator").mean()
        notes = []
        if d_loss < low:
            notes.append(_("the hinge d_loss is below its healthy band: D is ahead; watch it"))
        elif d_loss > high:
            notes.append(_("the hinge d_loss is near 2: D can hardly tell real from generated; "
                           "fine early on"))
        notes += self.sample_notes(w)
        if w.classes.covered is not None:
            notes.append(_("{covered:.1f} of 10 classes covered").format(
                covered=w.classes.covered))
        return w.verdict("healthy", _("Healthy: no sign of convergence failure, mode collapse or "
                                      "oscillation."), notes, remedies=[])

    def remedies(self, state: str, config: dict) -> list[Remedy]:
        """The remedies of the hinge-loss papers, as changes to the fields ``config`` has."""
        remedies = []
        lr_d, lr_g = config.get("learning_rate_d", 4e-4), config.get("learning_rate_g", 1e-4)
        steps = config.get("discriminator_steps")
        ttur = Remedy(_("TTUR (D 4e-4, G 1e-4)"),
                      {"learning_rate_d": 4e-4, "learning_rate_g": 1e-4},
                      _("two time-scales: a faster D guides a slower G (SAGAN's setting)"),
                      source=_("{paper}, after Heusel et al. 2017").format(paper=SAGAN))
        if state == "convergence failure":
            remedies.append(Remedy(_("Lower D's learning rate (÷4)"),
                                   {"learning_rate_d": lr_d / 4},
                                   _("slows the discriminator down relative to G"),
                                   source=_("{paper}: TTUR's rates set D against G").format(
                                       paper=SAGAN)))
            if steps is not None and steps > 1:
                remedies.append(Remedy(_("One D step per G step"), {"discriminator_steps": 1},
                                       _("D gets fewer updates per G update; SAGAN needs only "
                                         "one with TTUR"), source=SAGAN))
            if (lr_d, lr_g) != (4e-4, 1e-4) and lr_d > 4e-4:
                remedies.append(ttur)
        elif state in ("mode collapse", "oscillation"):
            if config.get("latent_dim", self.latent_default) < 10:
                remedies.append(Remedy(f"nz = {self.latent_default}",
                                       {"latent_dim": self.latent_default},
                                       _("a tiny z gives G almost nothing to vary within a class; "
                                         "G's input layer changes, so it restarts at step 0"),
                                       from_scratch=True,
                                       source=_("the tutorial (nz = 1 provokes collapse)")))
            remedies.append(Remedy(_("Lower learning rates (÷2)"),
                                   {"learning_rate_d": lr_d / 2, "learning_rate_g": lr_g / 2},
                                   _("BigGAN: collapse follows a too-large step; halving both "
                                     "delays it"), source=BIGGAN))
            if (lr_d, lr_g) != (4e-4, 1e-4):
                remedies.append(ttur)
            if steps is not None and steps < 5:
                remedies.append(Remedy(_("{steps} D steps per G step").format(steps=steps + 1),
                                       {"discriminator_steps": steps + 1},
                                       _("a better-trained D punishes G for repeating itself "
                                         "(BigGAN uses 2)"), source=BIGGAN))
            if config.get("beta1", 0.0) > 0:
                remedies.append(Remedy("Adam β1 = 0", {"beta1": 0.0},
                                       _("no momentum in the updates, as SAGAN and BigGAN train"),
                                       source=_("{sagan} and {biggan}").format(sagan=SAGAN,
                                                                               biggan=BIGGAN)))
        return remedies
