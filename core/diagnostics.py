"""The GAN health monitor: pure functions from a run's metrics to a verdict with evidence and remedies.

The rules are the tutorial's (its DCGAN section): once training settles, d_loss sits near
0.5-0.8 and g_loss near 0.5-2, and the discriminator is right about 80% of the time. The two common
failures: convergence failure (d_loss -> 0: D wins outright, G only makes noise; often too little
capacity) and mode collapse (a batch of near-identical images; nz = 1 provokes it). Its remedies:
a lower lr, one-sided label smoothing (real = 0.9), TTUR (D 4e-4, G 1e-4), spectral normalisation.

A model brings its rules on its spec (``spec.health``): ``GANHealth`` here is the tutorial's for GANs
trained with its BCE losses, an ordered list of rules that each read a ``Window`` of the
metrics; a model whose losses mean something else (BEGAN's reconstruction errors, a hinge loss)
subclasses it beside its own files, with rules of its own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import pandas as pd

from core.i18n import N_, _


@dataclass(frozen=True)
class Thresholds:
    """Every number the monitor uses, in one place. Bands and the 80% are the tutorial's."""
    warmup_steps: int = 150                   # no verdict before this many steps
    window_steps: int = 200                   # verdicts look at the most recent steps
    d_loss_band: tuple = (0.5, 0.8)           # tutorial: "d_loss settles near 0.5-0.8"
    g_loss_band: tuple = (0.5, 2.0)           # tutorial: "g_loss near 0.5-2"
    d_accuracy_healthy: float = 0.80          # tutorial: "discriminator accuracy near 80%"
    failure_d_loss: float = 0.10              # tutorial: "d_loss going to 0" (above its floor)
    failure_d_accuracy: float = 0.97          # D right almost always ...
    failure_share: float = 0.6                # ... in most of the window's records (spikes allowed)
    failure_g_loss: float = 3.0               # while G's loss climbs above this
    collapse_diversity: float = 0.45          # generated/real mean pairwise distance
    collapse_nearest: float = 0.02            # generated/real median nearest-neighbour distance:
    #   near-duplicates. After a few hundred steps nz = 1 gave 0.010-0.012 (GAN and DCGAN), the
    #   tutorial and stabilized presets 0.037-1.2 (`bench/gans.py monitor` prints the values)
    class_warmup_steps: int = 1000            # class checks wait until samples are recognisable
    class_checks: int = 3                     # class statistics: mean of the last few checks
    collapse_classes: int = 3                 # classes with >= 5% of generated images
    partial_collapse_classes: int = 6
    partial_collapse_entropy: float = 0.75    # class entropy / log(10)
    oscillation_g_std: float = 1.0            # g_loss standard deviation in the window
    oscillation_d_std: float = 0.35


THRESHOLDS = Thresholds()
PROBLEMS = (N_("convergence failure"), N_("mode collapse"), N_("oscillation"))
# Every state a verdict can have: codes the code compares, and, through ``_()``, the name a page
# shows (marked here so the catalog has them).
STATES_SHOWN = (N_("warming up"), N_("healthy"), N_("too short")) + PROBLEMS
# D's loss at the theoretical equilibrium (D(x) = ½ for every image): BCE(½, y) = ln 2 per term.
EQUILIBRIUM_D_LOSS = 2 * math.log(2)


TUTORIAL = N_("the tutorial")   # a remedy's source: shown through _()


@dataclass
class Remedy:
    label: str
    changes: dict
    why: str
    from_scratch: bool = False    # the change alters G's layers: no checkpoint can be resumed
    source: str = TUTORIAL        # where the remedy comes from: the tutorial, a paper, this project

    @property
    def help(self) -> str:
        """The button's tooltip: why it helps, and where the remedy comes from."""
        return _("{why} (from {source})").format(why=self.why, source=_(self.source))


def remedies_heading(remedies: list[Remedy]) -> str:
    """What the remedy buttons are called on a page, by where they come from: "The tutorial's
    remedies" only when every one is the tutorial's."""
    sources = list(dict.fromkeys(remedy.source for remedy in remedies))
    if not sources or sources == [TUTORIAL]:
        return _("The tutorial's remedies")
    return _("Remedies from {sources}").format(sources="; ".join(_(source) for source in sources))


@dataclass
class Verdict:
    state: str                    # warming up | healthy | convergence failure | mode collapse | oscillation
    headline: str
    evidence: list[str] = field(default_factory=list)
    remedies: list[Remedy] = field(default_factory=list)
    window: tuple[int, int] = (0, 0)

    @property
    def is_problem(self) -> bool:
        return self.state in PROBLEMS


def series(frame: pd.DataFrame, name: str) -> pd.Series:
    """One metric as a Series indexed by step (sorted, non-numbers dropped)."""
    rows = frame[frame["name"] == name]
    return pd.Series(pd.to_numeric(rows["value"], errors="coerce").values,
                     index=pd.to_numeric(rows["step"], errors="coerce").values).dropna().sort_index()


def binary_entropy(p: float) -> float:
    """H(p) in nats: the lowest BCE a discriminator can reach on targets labelled p."""
    return -sum(q * math.log(q) for q in (p, 1 - p) if q > 0)


def d_loss_floor(label_smoothing: float) -> float:
    """The lowest d_loss can go with real images labelled 1 − s: H(1 − s) (0.325 for the
    tutorial's 0.9), so "d_loss near 0" means near this floor."""
    return binary_entropy(1.0 - label_smoothing)


@dataclass
class ClassCheck:
    """The shipped CNN's class statistics of generated images, averaged over the last checks."""
    covered: float | None
    entropy: float | None
    steps: list[int]

    @classmethod
    def read(cls, frame: pd.DataFrame, start: int, end: int, t: Thresholds) -> "ClassCheck":
        """Class statistics need recognisable samples: judged after ``class_warmup_steps``,
        averaged over the last few checks (each labels a few hundred images, so one is noisy)."""
        if end < t.class_warmup_steps:
            return cls(None, None, [])
        covered = series(frame, "classes/covered")
        covered = covered[covered.index > start]
        entropy = series(frame, "classes/entropy")
        entropy = entropy[entropy.index > start]
        return cls(covered.iloc[-t.class_checks:].mean() if not covered.empty else None,
                   entropy.iloc[-t.class_checks:].mean() if not entropy.empty else None,
                   [int(s) for s in covered.index[-t.class_checks:]])

    def is_partial(self, t: Thresholds) -> bool:
        return self.covered is not None and (self.covered <= t.partial_collapse_classes or (
            self.entropy is not None and self.entropy < t.partial_collapse_entropy))


class Window:
    """What one diagnosis reads, gathered once for its rules: the steps a verdict looks at
    (``start`` < step ≤ ``end``: the last ``window_steps`` up to D's latest record), the run's
    metrics and config, and the lines every verdict ends with (``numbers``)."""

    def __init__(self, health: GANHealth, frame: pd.DataFrame, config: dict):
        self.health, self.frame, self.config = health, frame, config
        self._history: dict[str, pd.Series] = {}
        self._recent: dict[str, pd.Series] = {}
        d_loss = self.history("loss/discriminator")
        self.end = 0 if d_loss.empty else int(d_loss.index.max())
        self.start = max(self.end - health.thresholds.window_steps, 0)
        self.span = _("steps {start}–{end}").format(start=self.start, end=self.end)

    def history(self, name: str) -> pd.Series:
        """One metric over the whole run (``series``)."""
        if name not in self._history:
            self._history[name] = series(self.frame, name)
        return self._history[name]

    def recent(self, name: str) -> pd.Series:
        """One metric in the window."""
        if name not in self._recent:
            values = self.history(name)
            self._recent[name] = values[values.index > self.start]
        return self._recent[name]

    @cached_property
    def classes(self) -> ClassCheck:
        """The shipped CNN's class statistics of the samples (``ClassCheck.read``)."""
        return ClassCheck.read(self.frame, self.start, self.end, self.health.thresholds)

    @cached_property
    def numbers(self) -> list[str]:
        """The health's ``numbers`` for this window."""
        return self.health.numbers(self)

    def verdict(self, state: str, headline: str, evidence: list[str],
                remedies: list[Remedy] | None = None) -> Verdict:
        """A verdict on the window: ``evidence`` then ``numbers``, with the health's remedies for
        ``state`` unless ``remedies`` are given."""
        if remedies is None:
            remedies = self.health.remedies(state, self.config)
        return self.health.verdict_type(state, headline, evidence + self.numbers, remedies,
                                        (self.start, self.end))

    def d_winning(self, floor: float) -> tuple[float, float] | None:
        """(share of records with D's loss below ``floor`` + ``failure_d_loss``, share with D
        right more than ``failure_d_accuracy`` of the time) when both reach ``failure_share``
        while G's mean loss is above ``failure_g_loss``; None otherwise."""
        t = self.health.thresholds
        d_loss, d_accuracy = self.recent("loss/discriminator"), self.recent("d_accuracy/mean")
        winning = (d_loss < floor + t.failure_d_loss).mean()
        certain = (d_accuracy > t.failure_d_accuracy).mean() if not d_accuracy.empty else 0.0
        if winning >= t.failure_share and certain >= t.failure_share and \
                self.recent("loss/generator").mean() > t.failure_g_loss:
            return winning, certain
        return None


class GANHealth:
    """The tutorial's rules for a GAN trained with its BCE losses.

    ``diagnose`` runs ``rules`` in order, each a method that takes the ``Window`` and returns a
    verdict or None: the first verdict wins, and ``healthy`` gives the verdict when none finds
    anything. A model's health lists its own rules (adding, dropping or reordering them) and
    overrides the ones that read its losses differently.

    ``capacity`` gives a model's own remedy for too little capacity (its width fields), or None;
    ``latent_default`` is the nz that the nz = 1 remedy restores.
    """

    loss_name = N_("BCE loss")                  # the y axis of the losses chart (shown via _())
    equilibrium_d_loss: float | None = EQUILIBRIUM_D_LOSS   # D's loss when D is at chance
    rules: tuple[str, ...] = ("warming_up", "convergence_failure", "mode_collapse",
                              "partial_collapse", "oscillation")
    collapse_signs: tuple[str, ...] = ("low_diversity", "near_duplicates", "few_classes")
    verdict_type: type[Verdict] = Verdict

    def __init__(self, thresholds: Thresholds = THRESHOLDS,
                 capacity: Callable[[dict], Remedy | None] | None = None,
                 latent_default: int = 100):
        self.thresholds = thresholds
        self.capacity = capacity
        self.latent_default = latent_default

    def diagnose(self, frame: pd.DataFrame, config: dict | None = None) -> Verdict:
        """Classify a GAN run from its metrics (long form: step, epoch, name, value)."""
        window = Window(self, frame, config or {})
        for rule in self.rules:
            verdict = getattr(self, rule)(window)
            if verdict is not None:
                return verdict
        return self.healthy(window)

    def numbers(self, w: Window) -> list[str]:
        """The lines every verdict ends with: mean losses against their bands, D's accuracy."""
        t, d_accuracy = self.thresholds, w.recent("d_accuracy/mean")
        numbers = [_("mean d_loss {d_loss:.2f} (healthy {d_low}–{d_high}), mean g_loss "
                     "{g_loss:.2f} (healthy {g_low}–{g_high}) over {span}").format(
            d_loss=w.recent("loss/discriminator").mean(), d_low=t.d_loss_band[0],
            d_high=t.d_loss_band[1], g_loss=w.recent("loss/generator").mean(),
            g_low=t.g_loss_band[0], g_high=t.g_loss_band[1], span=w.span)]
        if not d_accuracy.empty:
            numbers.append(_("D accuracy {accuracy:.0%} (healthy ≈ {healthy:.0%})").format(
                accuracy=d_accuracy.mean(), healthy=t.d_accuracy_healthy))
        return numbers

    # The rules -----------------------------------------------------------------------------------
    def warming_up(self, w: Window) -> Verdict | None:
        """Too early: D's loss has no record at or after ``warmup_steps`` yet."""
        d_loss, steps = w.history("loss/discriminator"), self.thresholds.warmup_steps
        if d_loss.empty or d_loss.index.max() < steps:
            return Verdict("warming up", _("Warming up: the monitor judges after {steps} steps "
                                           "(now at step {step}).").format(steps=steps, step=w.end))
        return None

    def convergence_failure(self, w: Window) -> Verdict | None:
        """D wins outright for most of the window (d_loss near the floor label smoothing sets, D
        almost always right) while G's loss climbs."""
        t = self.thresholds
        floor = d_loss_floor(float(w.config.get("label_smoothing", 0.0)))
        shares = w.d_winning(floor)
        if shares is None:
            return None
        winning, certain = shares
        g_loss = w.recent("loss/generator")
        quarter = max(len(g_loss) // 4, 1)
        first, last = g_loss.iloc[:quarter].mean(), g_loss.iloc[-quarter:].mean()
        return w.verdict("convergence failure",
                         _("Convergence failure: the discriminator wins outright — it is certain "
                           "about every image. G's non-saturating loss still gets a gradient (the "
                           "largest when D is this sure), but from so sharp a D it is "
                           "uninformative and unstable: it says \"fake\" everywhere rather than "
                           "how to look real, so G keeps drawing noise."),
                         [_("d_loss < {limit:.3g} in {winning:.0%} of records and D accuracy > "
                            "{accuracy:.0%} in {certain:.0%} ({span})").format(
                             limit=floor + t.failure_d_loss, winning=winning,
                             accuracy=t.failure_d_accuracy, certain=certain, span=w.span),
                          _("g_loss {first:.1f} → {last:.1f} (above {limit})").format(
                              first=first, last=last, limit=t.failure_g_loss)])

    def mode_collapse(self, w: Window) -> Verdict | None:
        """Any of ``collapse_signs``: the samples vary far less than real images do."""
        evidence = [line for sign in self.collapse_signs if (line := getattr(self, sign)(w))]
        if not evidence:
            return None
        return w.verdict("mode collapse", _("Mode collapse: the generator draws the same few "
                                            "images whatever the noise."), evidence)

    def partial_collapse(self, w: Window) -> Verdict | None:
        """The shipped CNN finds few classes among the samples, or a lopsided share of them."""
        classes = w.classes
        if not classes.is_partial(self.thresholds):
            return None
        return w.verdict("mode collapse", _("Partial mode collapse: the generator favours a few "
                                            "kinds of clothing and ignores others."),
                         [_("{covered:.1f} of 10 classes get ≥ 5% of generated images, class "
                            "entropy {entropy:.2f} of 1 ({source})").format(
                             covered=classes.covered, entropy=classes.entropy,
                             source=self.classes_source(w))])

    def oscillation(self, w: Window) -> Verdict | None:
        """Both losses swing too widely (standard deviation in the window) to settle."""
        t = self.thresholds
        d_loss, g_loss = w.recent("loss/discriminator"), w.recent("loss/generator")
        if g_loss.std() > t.oscillation_g_std and d_loss.std() > t.oscillation_d_std:
            return w.verdict("oscillation", _("Oscillation: the losses swing too widely to settle."),
                             [_("g_loss std {g_std:.2f} (> {g_limit}), d_loss std {d_std:.2f} "
                                "(> {d_limit}) over {span}").format(
                                 g_std=g_loss.std(), g_limit=t.oscillation_g_std,
                                 d_std=d_loss.std(), d_limit=t.oscillation_d_std, span=w.span)])
        return None

    def healthy(self, w: Window) -> Verdict:
        """The verdict when no rule finds a problem, with notes on where the run stands."""
        t, d_loss = self.thresholds, w.recent("loss/discriminator").mean()
        d_accuracy = w.recent("d_accuracy/mean")
        notes = []
        if d_loss < t.d_loss_band[0]:
            notes.append(_("d_loss is below the tutorial's band: D is a little ahead; watch it"))
        elif d_loss > t.d_loss_band[1] and not d_accuracy.empty:
            notes.append(_("d_loss {d_loss:.2f} is above the tutorial's band: D's loss is near its "
                           "value at chance, although D is still right {accuracy:.0%} of the time "
                           "(right, but no longer confident: its outputs sit near ½) — the "
                           "equilibrium GAN theory aims for (D = ½ for every image, d_loss = 2 ln "
                           "2 ≈ {equilibrium:.2f}). The tutorial's band describes a run settling in "
                           "its first epochs; this project's best long runs end here. Not a "
                           "problem while the images stay varied").format(
                d_loss=d_loss, accuracy=d_accuracy.mean(), equilibrium=EQUILIBRIUM_D_LOSS))
        elif d_loss > t.d_loss_band[1]:
            notes.append(_("d_loss {d_loss:.2f} is above the tutorial's band: D's loss is near its "
                           "value at chance — the equilibrium GAN theory aims for (D = ½ for every "
                           "image, d_loss = 2 ln 2 ≈ {equilibrium:.2f}). The tutorial's band "
                           "describes a run settling in its first epochs; this project's best long "
                           "runs end here. Not a problem while the images stay varied").format(
                d_loss=d_loss, equilibrium=EQUILIBRIUM_D_LOSS))
        notes += self.sample_notes(w)
        if w.classes.covered is not None:
            notes.append(classes_note(w.classes))
        return w.verdict("healthy", _("Healthy: no sign of convergence failure, mode collapse or "
                                      "oscillation."), notes, remedies=[])

    # The signs of mode collapse (lines of evidence, or None) -------------------------------------
    def low_diversity(self, w: Window) -> str | None:
        """Generated images far less varied than real ones (mean pairwise distance)."""
        diversity, t = w.recent("diversity/ratio"), self.thresholds
        if not diversity.empty and diversity.median() < t.collapse_diversity:
            return _("generated images are {ratio:.2f}× as varied as real ones (mean pairwise "
                     "distance; collapse below {limit})").format(ratio=diversity.median(),
                                                                limit=t.collapse_diversity)
        return None

    def near_duplicates(self, w: Window) -> str | None:
        """Generated images far nearer each other than real ones are (nearest neighbours)."""
        nearest, t = w.recent("diversity/nearest"), self.thresholds
        if not nearest.empty and nearest.median() < t.collapse_nearest:
            return _("near-duplicates: a generated image's nearest neighbour is {ratio:.3f}× as "
                     "far as a real image's (median of {checks} checks, {span}; collapse below "
                     "{limit})").format(ratio=nearest.median(), checks=len(nearest), span=w.span,
                                        limit=t.collapse_nearest)
        return None

    def few_classes(self, w: Window) -> str | None:
        """Only a few classes get ≥ 5% of the samples (the shipped CNN's labels)."""
        classes = w.classes
        if classes.covered is not None and classes.covered <= self.thresholds.collapse_classes:
            return _("only {covered:.1f} of 10 classes get ≥ 5% of generated images "
                     "({source})").format(covered=classes.covered, source=self.classes_source(w))
        return None

    def classes_source(self, w: Window) -> str:
        """Where the class statistics come from, for the evidence."""
        return _("shipped CNN's labels, mean of the checks at steps {steps}").format(
            steps=", ".join(map(str, w.classes.steps)))

    def sample_notes(self, w: Window) -> list[str]:
        """The healthy verdict's notes on the samples' diversity and nearest neighbours."""
        diversity, nearest = w.recent("diversity/ratio"), w.recent("diversity/nearest")
        return ([_("diversity {ratio:.2f}× real").format(ratio=diversity.median())]
                if not diversity.empty else []) + \
            ([_("nearest-neighbour distance {ratio:.3f}× real").format(ratio=nearest.median())]
             if not nearest.empty else [])

    @property
    def chart_notes(self) -> dict[str, str]:
        """What good looks like on each chart, in a sentence for a beginner (shown beside it):
        keyed by chart ("d_outputs", "grad_norm"; a model adds its own)."""
        return {
            "d_outputs": _("Healthy: D(x) above D(G(z)) with a gap that stays open but does not "
                           "run to 1 and 0. Both near ½ means D cannot tell; D(x) ≈ 1 with "
                           "D(G(z)) ≈ 0 for many steps means D has won (convergence failure)."),
            "grad_norm": _("Healthy: both norms wobble within about one order of magnitude. A "
                           "spike is one large step (a sudden change of the images, often "
                           "followed by a loss jump); G's norm collapsing towards 0 means G gets "
                           "almost no signal; D's growing steadily means D is getting sharper."),
        }

    @property
    def explanation(self) -> str:
        """The sentence a page shows with the verdict: which bands it uses, and why."""
        t = self.thresholds
        return _("The tutorial's rules of thumb: d_loss {d_low:g}–{d_high:g}, g_loss "
                 "{g_low:g}–{g_high:g}, D right about {accuracy:.0%} of the time (shaded on the "
                 "charts). d_loss here is the sum of D's two terms, BCE on real images + BCE on "
                 "generated ones, as the tutorial's DCGAN script prints errD, and the 0.5–0.8 "
                 "band follows that sum; the tutorial's MLP GAN script prints their mean, (real "
                 "+ fake) / 2, half as much. The bands describe a run settling in its first "
                 "epochs; a long run may end with d_loss nearer its value at chance (2 ln 2 = "
                 "{equilibrium:.2f}, the dotted line), the equilibrium GAN theory predicts, and "
                 "is judged then by its diversity and classes. Convergence failure: d_loss below "
                 "{failure_d:g} (above the floor label smoothing sets) with D right > "
                 "{failure_accuracy:.0%} of the time while g_loss climbs past {failure_g:g}; "
                 "mode collapse: near-duplicates, low diversity or few classes.").format(
            d_low=t.d_loss_band[0], d_high=t.d_loss_band[1], g_low=t.g_loss_band[0],
            g_high=t.g_loss_band[1], accuracy=t.d_accuracy_healthy,
            equilibrium=EQUILIBRIUM_D_LOSS, failure_d=t.failure_d_loss,
            failure_accuracy=t.failure_d_accuracy, failure_g=t.failure_g_loss)

    def judge(self, frame: pd.DataFrame, config: dict | None = None,
              ended: bool = False) -> Verdict:
        """``diagnose``, and for a run that has ended before the monitor could judge it, a
        verdict that says so (a time budget too small to tell anything)."""
        verdict = self.diagnose(frame, config)
        if ended and verdict.state == "warming up":
            d_loss = series(frame, "loss/discriminator")
            step = int(d_loss.index.max()) if not d_loss.empty else 0
            return Verdict("too short", _("Too short to judge: the run ended at step {step:,}, "
                                          "before the monitor's first verdict at step "
                                          "{first:,}. Give it a longer time budget or more "
                                          "epochs.").format(step=step,
                                                            first=self.thresholds.warmup_steps))
        return verdict

    # Remedies ------------------------------------------------------------------------------------
    def remedies(self, state: str, config: dict) -> list[Remedy]:
        """The tutorial's remedies that apply to ``state``, as changes to ``config``."""
        remedies = []
        lr_d, lr_g = config.get("learning_rate_d", 2e-4), config.get("learning_rate_g", 2e-4)
        smoothing = Remedy(_("Label smoothing (real = 0.9)"), {"label_smoothing": 0.1},
                           _("D stops being rewarded for total certainty"))
        if state == "convergence failure":
            capacity = self.capacity(config) if self.capacity else None
            if capacity is not None:
                remedies.append(capacity)
            if not config.get("label_smoothing"):
                remedies.append(smoothing)
            if not config.get("spectral_norm"):
                remedies.append(Remedy(_("Spectral norm on D"), {"spectral_norm": True},
                                       _("limits how sharp D can get, so its gradient stays "
                                         "informative for G")))
            remedies.append(Remedy(_("Lower D's learning rate (÷4)"),
                                   {"learning_rate_d": lr_d / 4},
                                   _("slows the discriminator down relative to G")))
        elif state in ("mode collapse", "oscillation"):
            if config.get("latent_dim", self.latent_default) < 10:
                remedies.append(Remedy(f"nz = {self.latent_default}",
                                       {"latent_dim": self.latent_default},
                                       _("a 1-dimensional z gives G almost nothing to vary; G's "
                                         "input layer changes, so it restarts at step 0"),
                                       from_scratch=True))
            remedies.append(Remedy(_("Lower learning rates (÷2)"),
                                   {"learning_rate_d": lr_d / 2, "learning_rate_g": lr_g / 2},
                                   _("the tutorial: a too-large lr easily causes this")))
            if (lr_d, lr_g) != (4e-4, 1e-4):
                remedies.append(Remedy(_("TTUR (D 4e-4, G 1e-4)"),
                                       {"learning_rate_d": 4e-4, "learning_rate_g": 1e-4},
                                       _("two time-scales: a faster D guides a slower G")))
            if not config.get("spectral_norm"):
                remedies.append(Remedy(_("Spectral norm on D"), {"spectral_norm": True},
                                       _("greatly improves GAN stability (Miyato et al. 2018)")))
            if not config.get("label_smoothing"):
                remedies.append(Remedy(smoothing.label, smoothing.changes,
                                       _("the tutorial: 0.9 works well")))
        return remedies


def classes_note(classes: "ClassCheck") -> str:
    """"about 8 of 10 classes covered": each check counts whole classes; the mean of the last few
    is rounded, with the checks it averages."""
    if classes.covered is None:
        return _("classes covered: not measured yet")
    return _("about {rounded:.0f} of 10 classes covered (mean of the checks at steps {steps}: "
             "{covered:.1f})").format(rounded=round(classes.covered),
                                      steps=", ".join(map(str, classes.steps)),
                                      covered=classes.covered)


def width_capacity(minimum: int = 16, restore: int = 32) -> Callable[[dict], Remedy | None]:
    """The capacity remedy of a model with ``generator_width`` / ``discriminator_width`` (ngf, ndf)."""
    def remedy(config: dict) -> Remedy | None:
        widths = (config.get("generator_width", restore), config.get("discriminator_width", restore))
        if min(widths) >= minimum:
            return None
        return Remedy(_("More capacity (ngf = ndf = {width})").format(width=restore),
                      {"generator_width": restore, "discriminator_width": restore},
                      _("the tutorial: too little capacity is the usual cause; new layer sizes, "
                        "so it restarts at step 0"), from_scratch=True)
    return remedy


TUTORIAL_RULES = GANHealth()


def diagnose(frame: pd.DataFrame, config: dict | None = None,
             health: GANHealth = TUTORIAL_RULES) -> Verdict:
    """``health.diagnose``: the tutorial's rules unless a model's own are given."""
    return health.diagnose(frame, config)
