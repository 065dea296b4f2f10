"""The GAN health monitor: pure functions from a run's metrics to a verdict with evidence and remedies.

The rules are the tutorial's (its DCGAN section): once training settles, d_loss sits near
0.5-0.8 and g_loss near 0.5-2, and the discriminator is right about 80% of the time. The two common
failures: convergence failure (d_loss -> 0: D wins outright, G only makes noise; often too little
capacity) and mode collapse (a batch of near-identical images; nz = 1 provokes it). Its remedies:
a lower lr, one-sided label smoothing (real = 0.9), TTUR (D 4e-4, G 1e-4), spectral normalisation.

A model brings its rules on its spec (``spec.health``): ``GANHealth`` here is the tutorial's for GANs
trained with its BCE losses; a model whose losses mean something else (BEGAN's reconstruction
errors, a hinge loss) subclasses it in its own file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd


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
PROBLEMS = ("convergence failure", "mode collapse", "oscillation")
# D's loss at the theoretical equilibrium (D(x) = ½ for every image): BCE(½, y) = ln 2 per term.
EQUILIBRIUM_D_LOSS = 2 * math.log(2)


@dataclass
class Remedy:
    label: str
    changes: dict
    why: str
    from_scratch: bool = False    # the change alters G's layers: no checkpoint can be resumed


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


class GANHealth:
    """The tutorial's rules for a GAN trained with its BCE losses.

    ``capacity`` gives a model's own remedy for too little capacity (its width fields), or None;
    ``latent_default`` is the nz that the nz = 1 remedy restores.
    """

    loss_name = "BCE loss"                      # the y axis of the losses chart
    equilibrium_d_loss: float | None = EQUILIBRIUM_D_LOSS   # D's loss when D is at chance

    def __init__(self, thresholds: Thresholds = THRESHOLDS,
                 capacity: Callable[[dict], Remedy | None] | None = None,
                 latent_default: int = 100):
        self.thresholds = thresholds
        self.capacity = capacity
        self.latent_default = latent_default

    # The window ----------------------------------------------------------------------------------
    def window(self, frame: pd.DataFrame) -> tuple[int, int] | Verdict:
        """(start, end) of the steps a verdict reads, or the warming-up verdict."""
        t = self.thresholds
        d_loss = series(frame, "loss/discriminator")
        if d_loss.empty or d_loss.index.max() < t.warmup_steps:
            step = 0 if d_loss.empty else int(d_loss.index.max())
            return Verdict("warming up", f"Warming up: the monitor judges after {t.warmup_steps} "
                           f"steps (now at step {step}).")
        end = int(d_loss.index.max())
        return max(end - t.window_steps, 0), end

    def diagnose(self, frame: pd.DataFrame, config: dict | None = None) -> Verdict:
        """Classify a GAN run from its metrics (long form: step, epoch, name, value)."""
        config = config or {}
        t = self.thresholds
        window = self.window(frame)
        if isinstance(window, Verdict):
            return window
        start, end = window
        recent = lambda name: (lambda s: s[s.index > start])(series(frame, name))
        d_loss, g_loss = recent("loss/discriminator"), recent("loss/generator")
        d_accuracy = recent("d_accuracy/mean")
        diversity, nearest = recent("diversity/ratio"), recent("diversity/nearest")
        span = f"steps {start}–{end}"
        numbers = [f"mean d_loss {d_loss.mean():.2f} (healthy {t.d_loss_band[0]}–"
                   f"{t.d_loss_band[1]}), mean g_loss {g_loss.mean():.2f} (healthy "
                   f"{t.g_loss_band[0]}–{t.g_loss_band[1]}) over {span}"]
        if not d_accuracy.empty:
            numbers.append(f"D accuracy {d_accuracy.mean():.0%} (healthy ≈ "
                           f"{t.d_accuracy_healthy:.0%})")

        def verdict(state: str, headline: str, evidence: list[str]) -> Verdict:
            return Verdict(state, headline, evidence + numbers, self.remedies(state, config),
                           (start, end))

        # Convergence failure: D wins outright, for most of the window, while G's loss climbs.
        floor = d_loss_floor(float(config.get("label_smoothing", 0.0)))
        winning = (d_loss < floor + t.failure_d_loss).mean()
        certain = (d_accuracy > t.failure_d_accuracy).mean() if not d_accuracy.empty else 0.0
        if winning >= t.failure_share and certain >= t.failure_share and \
                g_loss.mean() > t.failure_g_loss:
            quarter = max(len(g_loss) // 4, 1)
            first, last = g_loss.iloc[:quarter].mean(), g_loss.iloc[-quarter:].mean()
            return verdict("convergence failure",
                           "Convergence failure: the discriminator wins outright, so the generator "
                           "gets no useful gradient and keeps drawing noise.",
                           [f"d_loss < {floor + t.failure_d_loss:.3g} in {winning:.0%} of records "
                            f"and D accuracy > {t.failure_d_accuracy:.0%} in {certain:.0%} ({span})",
                            f"g_loss {first:.1f} → {last:.1f} (above {t.failure_g_loss})"])

        found = self.collapse_or_oscillation(frame, start, end, d_loss, g_loss, verdict)
        if found is not None:
            return found
        classes = ClassCheck.read(frame, start, end, t)

        notes = []
        low, high = t.d_loss_band
        accuracy = f" and D is right {d_accuracy.mean():.0%} of the time" \
            if not d_accuracy.empty else ""
        if d_loss.mean() < low:
            notes.append("d_loss is below the tutorial's band: D is a little ahead; watch it")
        elif d_loss.mean() > high:
            notes.append(f"d_loss {d_loss.mean():.2f} is above the tutorial's band{accuracy}: D "
                         f"is near chance, as at the equilibrium GAN theory aims for (D = ½ for "
                         f"every image, d_loss = 2 ln 2 ≈ {EQUILIBRIUM_D_LOSS:.2f}). The "
                         "tutorial's band describes a run settling in its first epochs; this "
                         "project's best long runs end here. Not a problem while the images stay "
                         "varied")
        if not diversity.empty:
            notes.append(f"diversity {diversity.median():.2f}× real")
        if not nearest.empty:
            notes.append(f"nearest-neighbour distance {nearest.median():.3f}× real")
        if classes.covered is not None:
            notes.append(classes_note(classes))
        return Verdict("healthy", "Healthy: no sign of convergence failure, mode collapse or "
                       "oscillation.", notes + numbers, [], (start, end))

    def collapse_or_oscillation(self, frame: pd.DataFrame, start: int, end: int,
                                d_loss: pd.Series, g_loss: pd.Series,
                                verdict: Callable[[str, str, list[str]], Verdict]
                                ) -> Verdict | None:
        """The checks that read the samples rather than the losses, the same for every GAN:
        mode collapse (diversity, near-duplicates, classes) and oscillation; None when neither."""
        t = self.thresholds
        recent = lambda name: (lambda s: s[s.index > start])(series(frame, name))
        diversity, nearest = recent("diversity/ratio"), recent("diversity/nearest")
        span = f"steps {start}–{end}"
        # Mode collapse: generated images far less varied than real ones, or only a few classes.
        evidence = []
        if not diversity.empty and diversity.median() < t.collapse_diversity:
            evidence.append(f"generated images are {diversity.median():.2f}× as varied as real "
                            f"ones (mean pairwise distance; collapse below {t.collapse_diversity})")
        if not nearest.empty and nearest.median() < t.collapse_nearest:
            evidence.append(f"near-duplicates: a generated image's nearest neighbour is "
                            f"{nearest.median():.3f}× as far as a real image's (median of "
                            f"{len(nearest)} checks, {span}; collapse below {t.collapse_nearest})")
        classes = ClassCheck.read(frame, start, end, t)
        where = (f"shipped CNN's labels, mean of the checks at steps "
                 f"{', '.join(map(str, classes.steps))}" if classes.covered is not None else "")
        if classes.covered is not None and classes.covered <= t.collapse_classes:
            evidence.append(f"only {classes.covered:.1f} of 10 classes get ≥ 5% of generated "
                            f"images ({where})")
        if evidence:
            return verdict("mode collapse", "Mode collapse: the generator draws the same few "
                           "images whatever the noise.", evidence)
        if classes.is_partial(t):
            return verdict("mode collapse", "Partial mode collapse: the generator favours a few "
                           "kinds of clothing and ignores others.",
                           [f"{classes.covered:.1f} of 10 classes get ≥ 5% of generated images, "
                            f"class entropy {classes.entropy:.2f} of 1 ({where})"])

        # Oscillation: the losses swing too much to settle.
        if g_loss.std() > t.oscillation_g_std and d_loss.std() > t.oscillation_d_std:
            return verdict("oscillation", "Oscillation: the losses swing too widely to settle.",
                           [f"g_loss std {g_loss.std():.2f} (> {t.oscillation_g_std}), d_loss std "
                            f"{d_loss.std():.2f} (> {t.oscillation_d_std}) over {span}"])
        return None

    @property
    def explanation(self) -> str:
        """The sentence a page shows with the verdict: which bands it uses, and why."""
        t = self.thresholds
        return (f"The tutorial's rules of thumb: d_loss {t.d_loss_band[0]:g}–{t.d_loss_band[1]:g}, "
                f"g_loss {t.g_loss_band[0]:g}–{t.g_loss_band[1]:g}, D right about "
                f"{t.d_accuracy_healthy:.0%} of the time (shaded on the charts). They describe a "
                "run settling in its first epochs; a long run may end nearer D at chance (d_loss "
                f"≈ 2 ln 2 = {EQUILIBRIUM_D_LOSS:.2f}, the dotted line), the equilibrium GAN "
                "theory predicts, and is judged then by its diversity and classes. Convergence "
                f"failure: d_loss below {t.failure_d_loss:g} (above the floor label smoothing "
                f"sets) with D right > {t.failure_d_accuracy:.0%} of the time while g_loss "
                f"climbs past {t.failure_g_loss:g}; mode collapse: near-duplicates, low "
                f"diversity or few classes.")

    def judge(self, frame: pd.DataFrame, config: dict | None = None,
              ended: bool = False) -> Verdict:
        """``diagnose``, and for a run that has ended before the monitor could judge it, a
        verdict that says so (a time budget too small to tell anything)."""
        verdict = self.diagnose(frame, config)
        if ended and verdict.state == "warming up":
            d_loss = series(frame, "loss/discriminator")
            step = int(d_loss.index.max()) if not d_loss.empty else 0
            return Verdict("too short", f"Too short to judge: the run ended at step {step:,}, "
                           f"before the monitor's first verdict at step "
                           f"{self.thresholds.warmup_steps:,}. Give it a longer time budget or "
                           "more epochs.")
        return verdict

    # Remedies ------------------------------------------------------------------------------------
    def remedies(self, state: str, config: dict) -> list[Remedy]:
        """The tutorial's remedies that apply to ``state``, as changes to ``config``."""
        remedies = []
        lr_d, lr_g = config.get("learning_rate_d", 2e-4), config.get("learning_rate_g", 2e-4)
        smoothing = Remedy("Label smoothing (real = 0.9)", {"label_smoothing": 0.1},
                           "D stops being rewarded for total certainty")
        if state == "convergence failure":
            capacity = self.capacity(config) if self.capacity else None
            if capacity is not None:
                remedies.append(capacity)
            if not config.get("label_smoothing"):
                remedies.append(smoothing)
            if not config.get("spectral_norm"):
                remedies.append(Remedy("Spectral norm on D", {"spectral_norm": True},
                                       "limits how sharp D can get, so G keeps a gradient"))
            remedies.append(Remedy("Lower D's learning rate (÷4)", {"learning_rate_d": lr_d / 4},
                                   "slows the discriminator down relative to G"))
        elif state in ("mode collapse", "oscillation"):
            if config.get("latent_dim", self.latent_default) < 10:
                remedies.append(Remedy(f"nz = {self.latent_default}",
                                       {"latent_dim": self.latent_default},
                                       "a 1-dimensional z gives G almost nothing to vary; G's "
                                       "input layer changes, so it restarts at step 0",
                                       from_scratch=True))
            remedies.append(Remedy("Lower learning rates (÷2)",
                                   {"learning_rate_d": lr_d / 2, "learning_rate_g": lr_g / 2},
                                   "the tutorial: a too-large lr easily causes this"))
            if (lr_d, lr_g) != (4e-4, 1e-4):
                remedies.append(Remedy("TTUR (D 4e-4, G 1e-4)",
                                       {"learning_rate_d": 4e-4, "learning_rate_g": 1e-4},
                                       "two time-scales: a faster D guides a slower G"))
            if not config.get("spectral_norm"):
                remedies.append(Remedy("Spectral norm on D", {"spectral_norm": True},
                                       "greatly improves GAN stability (Miyato et al. 2018)"))
            if not config.get("label_smoothing"):
                remedies.append(Remedy(smoothing.label, smoothing.changes,
                                       "the tutorial: 0.9 works well"))
        return remedies


def classes_note(classes: "ClassCheck") -> str:
    """"about 8 of 10 classes covered": each check counts whole classes; the mean of the last few
    is rounded, with the checks it averages."""
    return (f"about {round(classes.covered):.0f} of 10 classes covered (mean of the checks at "
            f"steps {', '.join(map(str, classes.steps))}: {classes.covered:.1f})")


def width_capacity(minimum: int = 16, restore: int = 32) -> Callable[[dict], Remedy | None]:
    """The capacity remedy of a model with ``generator_width`` / ``discriminator_width`` (ngf, ndf)."""
    def remedy(config: dict) -> Remedy | None:
        widths = (config.get("generator_width", restore), config.get("discriminator_width", restore))
        if min(widths) >= minimum:
            return None
        return Remedy(f"More capacity (ngf = ndf = {restore})",
                      {"generator_width": restore, "discriminator_width": restore},
                      "the tutorial: too little capacity is the usual cause; new layer sizes, so "
                      "it restarts at step 0", from_scratch=True)
    return remedy


TUTORIAL_RULES = GANHealth()


def diagnose(frame: pd.DataFrame, config: dict | None = None,
             health: GANHealth = TUTORIAL_RULES) -> Verdict:
    """``health.diagnose``: the tutorial's rules unless a model's own are given."""
    return health.diagnose(frame, config)



# Hinge-loss GANs (SAGAN, BigGAN) -----------------------------------------------------------------

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

    def diagnose(self, frame: pd.DataFrame, config: dict | None = None) -> Verdict:
        config = config or {}
        t = self.thresholds
        window = self.window(frame)
        if isinstance(window, Verdict):
            return window
        start, end = window
        recent = lambda name: (lambda s: s[s.index > start])(series(frame, name))
        d_loss, g_loss = recent("loss/discriminator"), recent("loss/generator")
        d_accuracy = recent("d_accuracy/mean")
        diversity, nearest = recent("diversity/ratio"), recent("diversity/nearest")
        intended = recent("classes/intended_accuracy")
        span = f"steps {start}–{end}"
        numbers = [f"mean hinge d_loss {d_loss.mean():.2f} (healthy {t.d_loss_band[0]:g}–"
                   f"{t.d_loss_band[1]:g}), mean g_loss {g_loss.mean():.2f} (healthy "
                   f"{t.g_loss_band[0]:g}–{t.g_loss_band[1]:g}) over {span}"]
        if not d_accuracy.empty:
            numbers.append(f"D accuracy (sign of its score) {d_accuracy.mean():.0%}")
        if not intended.empty:
            numbers.append(f"the shipped CNN sees the intended class in "
                           f"{intended.iloc[-t.class_checks:].mean():.0%} of generated images")

        def verdict(state: str, headline: str, evidence: list[str]) -> Verdict:
            return Verdict(state, headline, evidence + numbers, self.remedies(state, config),
                           (start, end))

        # Convergence failure: D's margin holds on nearly every image while G's score sinks.
        winning = (d_loss < t.failure_d_loss).mean()
        certain = (d_accuracy > t.failure_d_accuracy).mean() if not d_accuracy.empty else 0.0
        if winning >= t.failure_share and certain >= t.failure_share and \
                g_loss.mean() > t.failure_g_loss:
            quarter = max(len(g_loss) // 4, 1)
            first, last = g_loss.iloc[:quarter].mean(), g_loss.iloc[-quarter:].mean()
            return verdict("convergence failure",
                           "Convergence failure: the discriminator wins outright (its hinge loss "
                           "is near 0), so the generator's gradient carries little that helps.",
                           [f"hinge d_loss < {t.failure_d_loss:g} in {winning:.0%} of records and "
                            f"D accuracy > {t.failure_d_accuracy:.0%} in {certain:.0%} ({span})",
                            f"g_loss {first:.1f} → {last:.1f} (above {t.failure_g_loss:g}: D "
                            "scores generated images far below its margin)"])

        # Mode collapse and oscillation: the same checks as every GAN page.
        found = self.collapse_or_oscillation(frame, start, end, d_loss, g_loss, verdict)
        if found is not None:
            return found
        classes = ClassCheck.read(frame, start, end, t)

        notes = []
        low, high = t.d_loss_band
        if d_loss.mean() < low:
            notes.append("the hinge d_loss is below its healthy band: D is ahead; watch it")
        elif d_loss.mean() > high:
            notes.append("the hinge d_loss is near 2: D can hardly tell real from generated; fine "
                         "early on")
        if not diversity.empty:
            notes.append(f"diversity {diversity.median():.2f}× real")
        if not nearest.empty:
            notes.append(f"nearest-neighbour distance {nearest.median():.3f}× real")
        if classes.covered is not None:
            notes.append(f"{classes.covered:.1f} of 10 classes covered")
        return Verdict("healthy", "Healthy: no sign of convergence failure, mode collapse or "
                       "oscillation.", notes + numbers, [], (start, end))

    def remedies(self, state: str, config: dict) -> list[Remedy]:
        """The remedies of the hinge-loss papers, as changes to the fields ``config`` has."""
        remedies = []
        lr_d, lr_g = config.get("learning_rate_d", 4e-4), config.get("learning_rate_g", 1e-4)
        steps = config.get("discriminator_steps")
        ttur = Remedy("TTUR (D 4e-4, G 1e-4)", {"learning_rate_d": 4e-4, "learning_rate_g": 1e-4},
                      "two time-scales: a faster D guides a slower G (SAGAN's setting)")
        if state == "convergence failure":
            remedies.append(Remedy("Lower D's learning rate (÷4)", {"learning_rate_d": lr_d / 4},
                                   "slows the discriminator down relative to G"))
            if steps is not None and steps > 1:
                remedies.append(Remedy("One D step per G step", {"discriminator_steps": 1},
                                       "D gets fewer updates per G update; SAGAN needs only one "
                                       "with TTUR"))
            if (lr_d, lr_g) != (4e-4, 1e-4) and lr_d > 4e-4:
                remedies.append(ttur)
        elif state in ("mode collapse", "oscillation"):
            if config.get("latent_dim", self.latent_default) < 10:
                remedies.append(Remedy(f"nz = {self.latent_default}",
                                       {"latent_dim": self.latent_default},
                                       "a tiny z gives G almost nothing to vary within a class; "
                                       "G's input layer changes, so it restarts at step 0",
                                       from_scratch=True))
            remedies.append(Remedy("Lower learning rates (÷2)",
                                   {"learning_rate_d": lr_d / 2, "learning_rate_g": lr_g / 2},
                                   "BigGAN: collapse follows a too-large step; halving both "
                                   "delays it"))
            if (lr_d, lr_g) != (4e-4, 1e-4):
                remedies.append(ttur)
            if steps is not None and steps < 5:
                remedies.append(Remedy(f"{steps + 1} D steps per G step",
                                       {"discriminator_steps": steps + 1},
                                       "a better-trained D punishes G for repeating itself "
                                       "(BigGAN uses 2)"))
            if config.get("beta1", 0.0) > 0:
                remedies.append(Remedy("Adam β1 = 0", {"beta1": 0.0},
                                       "no momentum in the updates, as SAGAN and BigGAN train"))
        return remedies
