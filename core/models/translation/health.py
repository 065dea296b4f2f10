"""The health monitor's rules for image-to-image GANs, where the tutorial's BCE bands do not fit.

pix2pix's G also minimises λ·L1 and CycleGAN trains with least squares, so "d_loss near 0.5-0.8"
says little. What is judged instead, from the same metrics frame (step, epoch, name, value):
- **D wins** (convergence failure): D's loss near its floor and D right on almost every patch for
  most of the window while G's adversarial loss stays high: G's cGAN term gives no useful
  gradient, only the L1 / cycle terms still teach it.
- **The input is ignored** (pix2pix's form of mode collapse): an output is about as far from its
  own target as from another pair's (``match/own_vs_other`` near 1).
- **Mode collapse**: translations far less varied than real images of the target domain.
- **Round trips lose the image** (CycleGAN): the cycle error is a large share of the distance
  between two different images of the domain.
- **Not translating** (CycleGAN, with the shipped CNN): after 1,000 steps, fewer than half of the
  translations are classified as the target domain's class.
- **Oscillation**: the losses swing too widely to settle.
Each verdict lists its evidence and remedies, as ``core.diagnostics.GANHealth`` does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from core.diagnostics import GANHealth, Remedy, Thresholds, Verdict, Window, d_loss_floor
from core.i18n import N_, _

PIX2PIX = "pix2pix (Isola et al. 2017)"
CYCLEGAN = "CycleGAN (Zhu et al. 2017)"
STATES = (N_("convergence failure"), N_("mode collapse"), N_("round trip broken"),
          N_("not translating"), N_("oscillation"))   # codes; a page shows them through _()


@dataclass(frozen=True)
class TranslationThresholds(Thresholds):
    """Every number the monitor uses: the GAN monitor's (the loss bands, D winning, diversity,
    oscillation: set per loss by each model) and the translation checks'."""
    ignored_input: float = 0.9                # own-target / other-target distance above this
    cycle_broken: float = 0.8                 # cycle error / distance to another image above:
    #   400 steps on Sneaker ↔ Ankle boot gave 0.45-0.51 with λ = 10 and 1.07-1.25 with λ = 0
    translation_accuracy: float = 0.5         # share classified as the target class below this


class TranslationVerdict(Verdict):
    @property
    def is_problem(self) -> bool:
        return self.state in STATES


class TranslationHealth(GANHealth):
    """Rules for a translation GAN. ``paired``: pix2pix's checks (the input is used, L1
    remedies); otherwise CycleGAN's (round trips, class of the translations, cycle remedies).
    ``loss`` is the GAN loss the bands were measured with ("bce" or "least_squares")."""

    thresholds: TranslationThresholds
    rules: tuple[str, ...] = ("warming_up", "convergence_failure", "mode_collapse",
                              "round_trip_broken", "not_translating", "oscillation")
    verdict_type = TranslationVerdict

    def __init__(self, thresholds: TranslationThresholds, loss: str, paired: bool = True):
        super().__init__(thresholds)
        self.loss, self.paired = loss, paired
        if paired:     # no round trips and no domain classes to judge
            self.rules = tuple(rule for rule in self.rules
                               if rule not in ("round_trip_broken", "not_translating"))
        # The losses chart's y axis (a page shows it through _()).
        self.loss_name = N_("BCE loss") if loss == "bce" else N_("least-squares loss")
        # D's loss when it cannot tell (D = ½ everywhere): 2 ln 2 for BCE, ½·¼ + ½·¼ for LS.
        self.equilibrium_d_loss = 2 * math.log(2) if loss == "bce" else 0.25

    def bands_text(self) -> str:
        """One line for the page: which bands the monitor uses."""
        t = self.thresholds
        kind = _("binary cross-entropy") if self.loss == "bce" else _("least squares")
        return _("{kind}: D's loss {d_low}–{d_high} and G's adversarial loss {g_low}–{g_high} in "
                 "healthy runs here (D at chance: {equilibrium:.2f}); D wins when its loss is "
                 "below {failure_d} (above its floor) with D right on {failure_accuracy:.0%} of "
                 "patches while G's loss stays above {failure_g}").format(
            kind=kind, d_low=t.d_loss_band[0], d_high=t.d_loss_band[1], g_low=t.g_loss_band[0],
            g_high=t.g_loss_band[1], equilibrium=self.equilibrium_d_loss,
            failure_d=t.failure_d_loss, failure_accuracy=t.failure_d_accuracy,
            failure_g=t.failure_g_loss)

    @property
    def explanation(self) -> str:
        t = self.thresholds
        if self.paired:
            return _("The tutorial's BCE bands (d_loss 0.5–0.8) do not fit here: G also minimises "
                     "λ·L1. Bands measured on this project's runs — {bands}; mode collapse below "
                     "{collapse}× real images' diversity; the input is ignored when an output is "
                     "more than {ignored}× as far from its own target as from another "
                     "pair's.").format(bands=self.bands_text(), collapse=t.collapse_diversity,
                                       ignored=t.ignored_input)
        return _("The tutorial's BCE bands (d_loss 0.5–0.8) do not fit here: the losses are least "
                 "squares. Bands measured on this project's runs — {bands}; mode collapse below "
                 "{collapse}× real images' diversity; round trips are broken when the cycle error "
                 "passes {broken}× the distance between two different images of a domain; not "
                 "translating when, after {warmup:,} steps, fewer than {accuracy:.0%} of "
                 "translations are classified as the target class.").format(
            bands=self.bands_text(), collapse=t.collapse_diversity, broken=t.cycle_broken,
            warmup=t.class_warmup_steps, accuracy=t.translation_accuracy)

    def numbers(self, w: Window) -> list[str]:
        """D's and G's adversarial losses against their bands, and D's accuracy on patches."""
        t, d_accuracy = self.thresholds, w.recent("d_accuracy/mean")
        numbers = [_("mean D loss {d_loss:.3f} (healthy here {d_low}–{d_high}), mean G "
                     "adversarial loss {g_loss:.3f} (healthy {g_low}–{g_high}) over "
                     "{span}").format(
            d_loss=w.recent("loss/discriminator").mean(), d_low=t.d_loss_band[0],
            d_high=t.d_loss_band[1], g_loss=w.recent("loss/generator").mean(),
            g_low=t.g_loss_band[0], g_high=t.g_loss_band[1], span=w.span)]
        if not d_accuracy.empty:
            numbers.append(_("D right on {accuracy:.0%} of patches").format(
                accuracy=d_accuracy.mean()))
        return numbers

    def convergence_failure(self, w: Window) -> Verdict | None:
        """D wins outright for most of the window (its loss near its floor, right on almost every
        patch) while G's adversarial loss stays high."""
        t = self.thresholds
        smoothing = float(w.config.get("label_smoothing", 0.0))
        floor = d_loss_floor(smoothing) if self.loss == "bce" else 0.0
        shares = w.d_winning(floor)
        if shares is None:
            return None
        winning, certain = shares
        headline = (_("D wins outright: its verdict on every patch is certain, and the "
                      "adversarial term's gradient, from so sharp a D, tells G little about how "
                      "to look real (only L1 still teach it).") if self.paired else
                    _("D wins outright: its verdict on every patch is certain, and the "
                      "adversarial term's gradient, from so sharp a D, tells G little about how "
                      "to look real (only the cycle and identity terms still teach it)."))
        return w.verdict("convergence failure", headline,
                         [_("D loss < {limit:.3g} in {winning:.0%} of records and D right on > "
                            "{accuracy:.0%} of patches in {certain:.0%} ({span})").format(
                             limit=floor + t.failure_d_loss, winning=winning,
                             accuracy=t.failure_d_accuracy, certain=certain, span=w.span),
                          _("G adversarial loss {g_loss:.2f} (above {limit})").format(
                              g_loss=w.recent("loss/generator").mean(), limit=t.failure_g_loss)])

    def mode_collapse(self, w: Window) -> Verdict | None:
        """The output ignores its input (pix2pix: about as far from its own target as from
        another pair's), or all outputs look alike (low diversity)."""
        t, evidence = self.thresholds, []
        match, diversity = w.recent("match/own_vs_other"), w.recent("diversity/ratio")
        if self.paired and not match.empty and match.median() > t.ignored_input:
            evidence.append(_("an output is {ratio:.2f}× as far from its own target as from "
                              "another pair's (median of {checks} checks; the input is ignored "
                              "above {limit})").format(ratio=match.median(), checks=len(match),
                                                      limit=t.ignored_input))
        if not diversity.empty and diversity.median() < t.collapse_diversity:
            evidence.append(_("outputs are {ratio:.2f}× as varied as real images (mean pairwise "
                              "distance; collapse below {limit})").format(
                ratio=diversity.median(), limit=t.collapse_diversity))
        if not evidence:
            return None
        return w.verdict("mode collapse", _("Mode collapse: the generator draws much the same "
                                            "image whatever its input."), evidence)

    def round_trip_broken(self, w: Window) -> Verdict | None:
        """CycleGAN: the cycle error is a large share of the distance between two different
        images of a domain."""
        t, cycle = self.thresholds, w.recent("cycle/ratio")
        if not cycle.empty and cycle.median() > t.cycle_broken:
            errors = [f"{name[-1].upper()} {w.recent(name).iloc[-1]:.3f}"
                      for name in ("cycle/error_a", "cycle/error_b") if not w.recent(name).empty]
            line = _("the cycle error is {ratio:.2f}× the distance between two different images "
                     "of a domain (median of {checks} checks, {span}; broken above "
                     "{limit})").format(ratio=cycle.median(), checks=len(cycle), span=w.span,
                                        limit=t.cycle_broken)
            if errors:
                line += _("; mean |x − F(G(x))|: {errors}").format(errors=", ".join(errors))
            return w.verdict("round trip broken",
                             _("Round trips lose the image: F(G(a)) is not a, so G is free to "
                               "draw any image of the other domain, unrelated to its input."),
                             [line])
        return None

    def not_translating(self, w: Window) -> Verdict | None:
        """CycleGAN, after ``class_warmup_steps``: too few translations are classified (by the
        shipped CNN) as the target domain's class."""
        t = self.thresholds
        if w.end < t.class_warmup_steps:
            return None
        shares = {label: w.recent(name).iloc[-t.class_checks:].mean()
                  for name, label in (("translation/accuracy_ab", "A → B"),
                                      ("translation/accuracy_ba", "B → A"))
                  if not w.recent(name).empty}
        failing = {label: share for label, share in shares.items()
                   if share < t.translation_accuracy}
        if not failing:
            return None
        return w.verdict("not translating",
                         _("Not translating: the translations still look like their own domain "
                           "to the shipped CNN."),
                         [_("{direction}: {share:.0%} of translations classified as the target "
                            "class (mean of the last {checks} checks; below {limit:.0%} "
                            "fails)").format(direction=label, share=share, checks=t.class_checks,
                                             limit=t.translation_accuracy)
                          for label, share in failing.items()])

    def oscillation(self, w: Window) -> Verdict | None:
        """Both losses swing too widely (standard deviation in the window) to settle."""
        t = self.thresholds
        d_loss, g_loss = w.recent("loss/discriminator"), w.recent("loss/generator")
        if g_loss.std() > t.oscillation_g_std and d_loss.std() > t.oscillation_d_std:
            return w.verdict("oscillation", _("Oscillation: the losses swing too widely to settle."),
                             [_("G loss std {g_std:.3f} (> {g_limit}), D loss std {d_std:.3f} "
                                "(> {d_limit}) over {span}").format(
                                 g_std=g_loss.std(), g_limit=t.oscillation_g_std,
                                 d_std=d_loss.std(), d_limit=t.oscillation_d_std, span=w.span)])
        return None

    def healthy(self, w: Window) -> Verdict:
        """No rule found a problem: notes on D's loss and the latest translation measures."""
        low, high = self.thresholds.d_loss_band
        d_loss = w.recent("loss/discriminator").mean()
        notes = []
        if d_loss < low:
            notes.append(_("D's loss is below the healthy band: D is ahead; watch it"))
        elif d_loss > high:
            notes.append(_("D's loss is above the healthy band: D can hardly tell; fine early on"))
        for name, label in (("test/l1", _("test L1 {value:.3f}")),
                            ("match/own_vs_other", _("own/other target distance {value:.2f}")),
                            ("diversity/ratio", _("diversity {value:.2f}× real")),
                            ("cycle/ratio", _("cycle error {value:.2f}× the distance to another "
                                              "image")),
                            ("test/class_accuracy", _("{value:.0%} of outputs in the target's "
                                                      "class"))):
            values = w.recent(name)
            if not values.empty:
                notes.append(label.format(value=values.iloc[-1]))
        headline = (_("Healthy: no sign of D winning, mode collapse or oscillation.") if self.paired
                    else _("Healthy: no sign of D winning, mode collapse, lost round trips or "
                           "oscillation."))
        return w.verdict("healthy", headline, notes, remedies=[])

    # Remedies ------------------------------------------------------------------------------------
    def remedies(self, state: str, config: dict) -> list[Remedy]:
        """Changes to ``config`` that address ``state`` (each resumes from a snapshot: none
        changes a layer's shape)."""
        remedies = []
        lr_d, lr_g = config.get("learning_rate_d", 2e-4), config.get("learning_rate_g", 2e-4)
        slower = Remedy(_("Lower learning rates (÷2)"),
                        {"learning_rate_d": lr_d / 2, "learning_rate_g": lr_g / 2},
                        _("smaller steps for both networks"))
        cycle = config.get("lambda_cycle", 10.0)
        restore_cycle = Remedy(_("Cycle λ = 10"), {"lambda_cycle": 10.0},
                               _("the paper's weight: G_BA(G_AB(a)) must give a back, so G_AB "
                                 "must keep what makes a different from other images"),
                               source=CYCLEGAN)
        replay = Remedy(_("Replay buffer of 50"), {"replay_buffer": 50},
                        _("D also sees generated images from earlier steps, which damps swings"),
                        source=_("{paper}, after Shrivastava et al. 2017").format(paper=CYCLEGAN))
        if state == "convergence failure":
            if not config.get("label_smoothing"):
                remedies.append(Remedy(_("Label smoothing (real = 0.9)"), {"label_smoothing": 0.1},
                                       _("D stops being rewarded for total certainty")))
            remedies.append(Remedy(_("Lower D's learning rate (÷4)"),
                                   {"learning_rate_d": lr_d / 4},
                                   _("slows the discriminator down relative to G")))
            if not self.paired and not config.get("replay_buffer"):
                remedies.append(replay)
        elif state == "mode collapse":
            if self.paired and config.get("lambda_l1", 100.0) < 10:
                remedies.append(Remedy(_("λ = 100 (add the L1 term)"), {"lambda_l1": 100.0},
                                       _("the paper: L1 ties each output to its own target"),
                                       source=PIX2PIX))
            if self.paired and not config.get("adversarial", True):
                remedies.append(Remedy(_("cGAN term on"), {"adversarial": True},
                                       _("L1 alone averages the possible outputs"),
                                       source=PIX2PIX))
            if not self.paired and cycle < 5:
                remedies.append(restore_cycle)
            if not self.paired and not config.get("replay_buffer"):
                remedies.append(replay)
            remedies.append(slower)
        elif state == "round trip broken" and not self.paired:
            remedies.append(restore_cycle if cycle < 10 else
                            Remedy(_("Cycle λ = {weight:g}").format(weight=min(cycle * 2, 50)),
                                   {"lambda_cycle": min(cycle * 2, 50.0)},
                                   _("a stronger pull back to the input"),
                                   source=_("this project; the cycle term is from "
                                            "{paper}").format(paper=CYCLEGAN)))
        elif state == "not translating" and not self.paired:
            identity = config.get("lambda_identity", 5.0)
            if identity > 0:
                remedies.append(Remedy(_("Identity λ = {weight:g}").format(weight=identity / 2),
                                       {"lambda_identity": identity / 2},
                                       _("the identity term rewards G for leaving images as they "
                                         "are; too strong, it keeps them in their own domain"),
                                       source=_("this project; the identity term is from "
                                                "{paper}").format(paper=CYCLEGAN)))
            remedies.append(Remedy(_("Faster D (learning rate ×2)"),
                                   {"learning_rate_d": min(lr_d * 2, 1e-2)},
                                   _("a sharper D tells G sooner what the other domain looks "
                                     "like"),
                                   source=N_("this project")))
        elif state == "oscillation":
            remedies.append(slower)
            if not self.paired and not config.get("replay_buffer"):
                remedies.append(replay)
            if not config.get("label_smoothing"):
                remedies.append(Remedy(_("Label smoothing (real = 0.9)"), {"label_smoothing": 0.1},
                                       _("softer targets for D")))
        return remedies
