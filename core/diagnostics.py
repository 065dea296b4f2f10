"""The GAN health monitor: pure functions from a run's metrics to a verdict with evidence and remedies.

The rules are the seed tutorial's (its DCGAN section): once training settles, d_loss sits near
0.5-0.8 and g_loss near 0.5-2, and the discriminator is right about 80% of the time. The two common
failures: convergence failure (d_loss -> 0: D wins outright, G only makes noise; often too little
capacity) and mode collapse (a batch of near-identical images; nz = 1 provokes it). Its remedies:
a lower lr, one-sided label smoothing (real = 0.9), TTUR (D 4e-4, G 1e-4), spectral normalisation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Thresholds:
    """Every number the monitor uses, in one place. Bands and the 80% are the tutorial's."""
    warmup_steps: int = 150                   # no verdict before this many steps
    window_steps: int = 200                   # verdicts look at the most recent steps
    d_loss_band: tuple = (0.5, 0.8)           # tutorial: "d_loss settles near 0.5-0.8"
    g_loss_band: tuple = (0.5, 2.0)           # tutorial: "g_loss near 0.5-2"
    d_accuracy_healthy: float = 0.80          # tutorial: "discriminator accuracy near 80%"
    failure_d_loss: float = 0.10              # tutorial: "d_loss going to 0"
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
    began_pinned_share: float = 0.8           # BEGAN: k_t at 0 or 1 in most of the window ...
    began_ratio_gap: float = 0.25             # ... while L(G(z))/L(x) is this far from gamma
    began_m_rise: float = 1.3                 # BEGAN: M_global this many times its best so far


THRESHOLDS = Thresholds()


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
        return self.state in ("convergence failure", "mode collapse", "oscillation")


def _series(frame: pd.DataFrame, name: str) -> pd.Series:
    rows = frame[frame["name"] == name]
    return pd.Series(pd.to_numeric(rows["value"], errors="coerce").values,
                     index=pd.to_numeric(rows["step"], errors="coerce").values).dropna().sort_index()


def remedies_for(state: str, config: dict) -> list[Remedy]:
    """The tutorial's remedies that apply to ``state``, as changes to ``config``."""
    remedies = []
    lr_d, lr_g = config.get("learning_rate_d", 2e-4), config.get("learning_rate_g", 2e-4)
    if "gamma" in config:  # BEGAN: no BCE, so no smoothing / spectral norm / TTUR remedies
        return _began_remedies(state, config, lr_d, lr_g)
    if state == "convergence failure":
        if "generator_width" in config and min(config["generator_width"],
                                               config["discriminator_width"]) < 16:
            remedies.append(Remedy("More capacity (ngf = ndf = 32)",
                                   {"generator_width": 32, "discriminator_width": 32},
                                   "the seed: too little capacity is the usual cause; new layer "
                                   "sizes, so it restarts at step 0", from_scratch=True))
        if config.get("generator_scale", 1.0) < 0.5:
            remedies.append(Remedy("More capacity (G width scale 1)", {"generator_scale": 1.0},
                                   "the seed: too little capacity is the usual cause; new layer "
                                   "sizes, so it restarts at step 0", from_scratch=True))
        if not config.get("label_smoothing"):
            remedies.append(Remedy("Label smoothing (real = 0.9)", {"label_smoothing": True},
                                   "D stops being rewarded for total certainty"))
        if not config.get("spectral_norm"):
            remedies.append(Remedy("Spectral norm on D", {"spectral_norm": True},
                                   "limits how sharp D can get, so G keeps a gradient"))
        remedies.append(Remedy("Lower D's learning rate (÷4)", {"learning_rate_d": lr_d / 4},
                               "slows the discriminator down relative to G"))
    elif state in ("mode collapse", "oscillation"):
        if config.get("latent_dim", 100) < 10:
            remedies.append(Remedy("nz = 100", {"latent_dim": 100},
                                   "a 1-dimensional z gives G almost nothing to vary; G's input "
                                   "layer changes, so it restarts at step 0", from_scratch=True))
        remedies.append(Remedy("Lower learning rates (÷2)",
                               {"learning_rate_d": lr_d / 2, "learning_rate_g": lr_g / 2},
                               "the seed: a too-large lr easily causes this"))
        if (lr_d, lr_g) != (4e-4, 1e-4):
            remedies.append(Remedy("TTUR (D 4e-4, G 1e-4)",
                                   {"learning_rate_d": 4e-4, "learning_rate_g": 1e-4},
                                   "two time-scales: a faster D guides a slower G"))
        if not config.get("spectral_norm"):
            remedies.append(Remedy("Spectral norm on D", {"spectral_norm": True},
                                   "greatly improves GAN stability (Miyato et al. 2018)"))
        if not config.get("label_smoothing"):
            remedies.append(Remedy("Label smoothing (real = 0.9)", {"label_smoothing": True},
                                   "the seed: 0.9 works well"))
    return remedies


def _began_remedies(state: str, config: dict, lr_d: float, lr_g: float) -> list[Remedy]:
    remedies = []
    if state == "mode collapse":
        if config.get("latent_dim", 64) < 10:
            remedies.append(Remedy("nz = 64", {"latent_dim": 64},
                                   "a tiny z gives G almost nothing to vary; G's input layer "
                                   "changes, so it restarts at step 0", from_scratch=True))
        if not config.get("pull_away"):
            remedies.append(Remedy("Pull-away term (0.1)", {"pull_away": 0.1},
                                   "EBGAN's remedy for autoencoder discriminators: G is "
                                   "rewarded when D's codes for its images differ"))
        if not config.get("generator_batch_norm"):
            remedies.append(Remedy("Batch norm in G (from scratch)",
                                   {"generator_batch_norm": True},
                                   "G's first samples then differ, so they spread over more "
                                   "kinds of garment; changes G's layers, so it restarts at step 0",
                                   from_scratch=True))
        if not config.get("latent_constraint") and \
                config.get("embedding_dim", 64) == config.get("latent_dim", 64):
            remedies.append(Remedy("Latent constraint (BEGAN-CS, 0.1)", {"latent_constraint": 0.1},
                                   "D's encoder must read z back from G's images, so images of "
                                   "different z stay apart (Chang et al. 2018)"))
        if config["gamma"] < 0.9:
            remedies.append(Remedy(f"Raise γ to {min(config['gamma'] + 0.2, 1.0):.1f}",
                                   {"gamma": round(min(config["gamma"] + 0.2, 1.0), 2)},
                                   "the paper: a higher diversity ratio γ gives more varied images"))
    remedies.append(Remedy("Lower learning rates (÷2)",
                           {"learning_rate_d": lr_d / 2, "learning_rate_g": lr_g / 2},
                           "the paper halves the learning rate when M_global stalls"))
    lambda_k = config.get("lambda_k", 1e-3)
    if state in ("convergence failure", "oscillation") and lambda_k > 1e-4:
        slower = 1e-3 if lambda_k > 1e-3 else 1e-4      # values the λ_k select offers
        remedies.append(Remedy(f"Slower controller (λ_k = {slower:g})", {"lambda_k": slower},
                               "k_t swings less, so D's attention to fakes changes gently"))
    return remedies


def _diagnose_began(frame: pd.DataFrame, config: dict, t: Thresholds, start: int,
                    end: int) -> Verdict:
    """BEGAN's rules: its losses are reconstruction errors, so the BCE bands do not apply. Judged
    instead: the equilibrium (k_t pinned at a bound while L(G(z))/L(x) stays far from gamma), the
    convergence measure M_global rising again, and the same diversity / class checks."""
    recent = lambda series: series[series.index > start]
    gamma = float(config.get("gamma", 0.5))
    m_all = _series(frame, "began/m_global")
    m_global, k = recent(m_all), recent(_series(frame, "began/k"))
    ratio = recent(_series(frame, "began/ratio"))
    diversity = recent(_series(frame, "diversity/ratio"))
    covered = recent(_series(frame, "classes/covered"))
    entropy = recent(_series(frame, "classes/entropy"))
    span = f"steps {start}–{end}"
    numbers = [f"mean M_global {m_global.mean():.3f} (best so far {m_all.rolling(5, min_periods=1).mean().min():.3f}), "
               f"k_t {k.mean():.3f} (range {k.min():.3f}–{k.max():.3f}), L(G(z))/L(x) "
               f"{ratio.mean():.2f} (target γ = {gamma:g}) over {span}"]

    def verdict(state: str, headline: str, evidence: list[str]) -> Verdict:
        return Verdict(state, headline, evidence + numbers, remedies_for(state, config), (start, end))

    pinned = max((k <= 1e-4).mean(), (k >= 1 - 1e-4).mean()) if not k.empty else 0.0
    if pinned >= t.began_pinned_share and abs(ratio.mean() - gamma) > t.began_ratio_gap:
        bound = 0 if (k <= 1e-4).mean() >= (k >= 1 - 1e-4).mean() else 1
        return verdict("convergence failure",
                       f"Equilibrium lost: k_t is stuck at {bound}, so the controller no longer "
                       "balances D's work on real and generated images.",
                       [f"k_t at {bound} in {pinned:.0%} of records while L(G(z))/L(x) = "
                        f"{ratio.mean():.2f} stays far from γ = {gamma:g} ({span})"])
    smooth = m_all.rolling(5, min_periods=1).mean()
    best = smooth[smooth.index <= start].min() if (smooth.index <= start).any() else None
    if best is not None and m_global.mean() > t.began_m_rise * best:
        return verdict("convergence failure", "M_global is rising: the run is moving away from "
                       "convergence (the paper's measure should fall and settle).",
                       [f"mean M_global {m_global.mean():.3f} over {span} is "
                        f"{m_global.mean() / best:.1f}× its best before step {start} ({best:.3f})"])
    evidence = []
    if not diversity.empty and diversity.median() < t.collapse_diversity:
        evidence.append(f"generated images are {diversity.median():.2f}× as varied as real ones "
                        f"(mean pairwise distance; collapse below {t.collapse_diversity})")
    if end < t.class_warmup_steps:
        covered = entropy = pd.Series(dtype=float)
    classes = covered.iloc[-t.class_checks:].mean() if not covered.empty else None
    class_entropy = entropy.iloc[-t.class_checks:].mean() if not entropy.empty else None
    if classes is not None and classes <= t.collapse_classes:
        evidence.append(f"only {classes:.1f} of 10 classes get ≥ 5% of generated images "
                        "(shipped CNN's labels)")
    if evidence:
        return verdict("mode collapse", "Mode collapse: the generator draws the same few images "
                       "whatever the noise.", evidence)
    if classes is not None and (classes <= t.partial_collapse_classes or (
            class_entropy is not None and class_entropy < t.partial_collapse_entropy)):
        return verdict("mode collapse", "Partial mode collapse: the generator favours a few kinds "
                       "of clothing and ignores others.",
                       [f"{classes:.1f} of 10 classes get ≥ 5% of generated images, class "
                        f"entropy {class_entropy:.2f} of 1 (shipped CNN's labels)"])
    notes = [f"diversity {diversity.median():.2f}× real"] if not diversity.empty else []
    if classes is not None:
        notes.append(f"{classes:.1f} of 10 classes covered")
    return Verdict("healthy", "Healthy: the equilibrium holds (k_t moves freely, M_global is not "
                   "rising) and the images stay varied.", notes + numbers, [], (start, end))


def diagnose(frame: pd.DataFrame, config: dict | None = None,
             thresholds: Thresholds = THRESHOLDS) -> Verdict:
    """Classify a GAN run from its metrics (long form: step, epoch, name, value)."""
    config = config or {}
    t = thresholds
    d_loss = _series(frame, "loss/discriminator")
    if d_loss.empty or d_loss.index.max() < t.warmup_steps:
        step = 0 if d_loss.empty else int(d_loss.index.max())
        return Verdict("warming up", f"Warming up: the monitor judges after {t.warmup_steps} "
                       f"steps (now at step {step}).")
    end = int(d_loss.index.max())
    start = max(end - t.window_steps, 0)
    if not _series(frame, "began/m_global").empty:   # BEGAN's losses are not BCE: its own rules
        return _diagnose_began(frame, config, t, start, end)
    recent = lambda series: series[series.index > start]
    d_loss = recent(d_loss)
    g_loss = recent(_series(frame, "loss/generator"))
    d_accuracy = recent(_series(frame, "d_accuracy/mean"))
    diversity = recent(_series(frame, "diversity/ratio"))
    nearest = recent(_series(frame, "diversity/nearest"))
    covered = recent(_series(frame, "classes/covered"))
    entropy = recent(_series(frame, "classes/entropy"))
    span = f"steps {start}–{end}"
    numbers = [f"mean d_loss {d_loss.mean():.2f} (healthy {t.d_loss_band[0]}–{t.d_loss_band[1]}), "
               f"mean g_loss {g_loss.mean():.2f} (healthy {t.g_loss_band[0]}–{t.g_loss_band[1]}) "
               f"over {span}"]
    if not d_accuracy.empty:
        numbers.append(f"D accuracy {d_accuracy.mean():.0%} (healthy ≈ {t.d_accuracy_healthy:.0%})")

    def verdict(state: str, headline: str, evidence: list[str]) -> Verdict:
        return Verdict(state, headline, evidence + numbers, remedies_for(state, config), (start, end))

    # Convergence failure: D wins outright, for most of the window, while G's loss climbs.
    # With one-sided smoothing (real = 0.9) D's loss cannot go below H(0.9) = 0.325.
    floor = 0.325 if config.get("label_smoothing") else 0.0
    winning = (d_loss < floor + t.failure_d_loss).mean()
    certain = (d_accuracy > t.failure_d_accuracy).mean() if not d_accuracy.empty else 0.0
    if winning >= t.failure_share and certain >= t.failure_share and g_loss.mean() > t.failure_g_loss:
        first, last = g_loss.iloc[: max(len(g_loss) // 4, 1)].mean(), g_loss.iloc[-max(len(g_loss) // 4, 1):].mean()
        return verdict("convergence failure",
                       "Convergence failure: the discriminator wins outright, so the generator "
                       "gets no useful gradient and keeps drawing noise.",
                       [f"d_loss < {floor + t.failure_d_loss:.3g} in {winning:.0%} of records and D accuracy "
                        f"> {t.failure_d_accuracy:.0%} in {certain:.0%} ({span})",
                        f"g_loss {first:.1f} → {last:.1f} (above {t.failure_g_loss})"])

    # Mode collapse: generated images far less varied than real ones, or only a few classes.
    evidence = []
    if not diversity.empty and diversity.median() < t.collapse_diversity:
        evidence.append(f"generated images are {diversity.median():.2f}× as varied as real ones "
                        f"(mean pairwise distance; collapse below {t.collapse_diversity})")
    if not nearest.empty and nearest.median() < t.collapse_nearest:
        evidence.append(f"near-duplicates: a generated image's nearest neighbour is "
                        f"{nearest.median():.3f}× as far as a real image's (median of "
                        f"{len(nearest)} checks, {span}; collapse below {t.collapse_nearest})")
    # Class statistics need recognisable samples: judged after class_warmup_steps, averaged
    # over the last few checks (each labels a few hundred images, so one check is noisy).
    if end < t.class_warmup_steps:
        covered = entropy = pd.Series(dtype=float)
    classes = covered.iloc[-t.class_checks:].mean() if not covered.empty else None
    class_entropy = entropy.iloc[-t.class_checks:].mean() if not entropy.empty else None
    where = (f"shipped CNN's labels, mean of the checks at steps "
             f"{', '.join(str(int(s)) for s in covered.index[-t.class_checks:])}"
             if classes is not None else "")
    if classes is not None and classes <= t.collapse_classes:
        evidence.append(f"only {classes:.1f} of 10 classes get ≥ 5% of generated images ({where})")
    if evidence:
        return verdict("mode collapse", "Mode collapse: the generator draws the same few images "
                       "whatever the noise.", evidence)
    if classes is not None and (classes <= t.partial_collapse_classes or (
            class_entropy is not None and class_entropy < t.partial_collapse_entropy)):
        return verdict("mode collapse", "Partial mode collapse: the generator favours a few kinds "
                       "of clothing and ignores others.",
                       [f"{classes:.1f} of 10 classes get ≥ 5% of generated images, class "
                        f"entropy {class_entropy:.2f} of 1 ({where})"])

    # Oscillation: the losses swing too much to settle.
    if g_loss.std() > t.oscillation_g_std and d_loss.std() > t.oscillation_d_std:
        return verdict("oscillation", "Oscillation: the losses swing too widely to settle.",
                       [f"g_loss std {g_loss.std():.2f} (> {t.oscillation_g_std}), d_loss std "
                        f"{d_loss.std():.2f} (> {t.oscillation_d_std}) over {span}"])

    notes = []
    low, high = t.d_loss_band
    if d_loss.mean() < low:
        notes.append("d_loss is below the tutorial's band: D is a little ahead; watch it")
    elif d_loss.mean() > high:
        notes.append("d_loss is above the tutorial's band: G is fooling D often; fine early on")
    if not diversity.empty:
        notes.append(f"diversity {diversity.median():.2f}× real")
    if not nearest.empty:
        notes.append(f"nearest-neighbour distance {nearest.median():.3f}× real")
    if classes is not None:
        notes.append(f"{classes:.1f} of 10 classes covered")
    return Verdict("healthy", "Healthy: no sign of convergence failure, mode collapse or "
                   "oscillation.", notes + numbers, [], (start, end))
