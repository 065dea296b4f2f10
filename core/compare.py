"""Fair comparisons: A/B runs on the same seeds, small sweeps, and a verdict that respects the
spread across seeds.

A comparison is a list of *arms* (A, B, or the cells of a sweep); each arm is one config trained
on the same ``k`` seeds (a random seed sets a run's initial weights and its batch order, see
``core.training.epoch_order``), so arm A's run on seed 3 and arm B's run on seed 3 start from the
same weights and see the same batches. The runs go through the normal job queue; a comparison
is a small JSON file under ``runs/_comparisons/`` naming them, so it survives a restart and a
comparison can also be made after the fact from runs picked on the Runs page.

Nothing here draws: ``ui/compare_views.py`` does. Nothing here names a model: metrics are
recognised by their names (``accuracy/test``, ``perplexity/val``, ...), which families share.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core import demo, runs
from core.config import ConfigError, coerce, from_dict
from core.i18n import N_, _
from core.paths import runs_root

MIN_SEEDS, MAX_SEEDS = 1, 5
MAX_SWEEP_VALUES = 5
MAX_SWEEP_RUNS = 25
COMPARISON_ID = re.compile(r"^[0-9a-f]{16}$")
# Fields that never tell two arms apart: the seed is what a comparison repeats over, and the
# logging cadence changes nothing the run learns.
NOT_A_DIFFERENCE = ("seed",)


@dataclass(frozen=True)
class Metric:
    name: str
    higher_is_better: bool
    label: str


# The final figures a comparison judges by, the first one a run has being the headline. The
# labels stay English in the data (code compares them); ``_(metric.label)`` where one is shown.
METRICS = (
    Metric("accuracy/test", True, N_("test accuracy")),
    Metric("perplexity/val", False, N_("validation perplexity")),
    Metric("quality/frechet_distance", False, N_("Fréchet distance")),
    Metric("quality/covered", True, N_("classes covered (scored samples)")),
    Metric("classes/covered", True, N_("classes covered")),
    Metric("classes/entropy", True, N_("class entropy")),
    Metric("loss/test", False, N_("test loss")),
    Metric("loss/val", False, N_("validation loss")),
)
KNOWN = {metric.name: metric for metric in METRICS}


def metric_for(name: str) -> Metric:
    return KNOWN.get(name) or Metric(name, True, name)


# Configs -----------------------------------------------------------------------------------------
def config_dict(config) -> dict:
    return config if isinstance(config, dict) else dataclasses.asdict(config)


def differing_fields(configs: list) -> list[str]:
    """Fields whose values are not the same in every config (the random seed does not count)."""
    dicts = [config_dict(c) for c in configs]
    if not dicts:
        return []
    names = [name for name in dicts[0] if name not in NOT_A_DIFFERENCE]
    return [name for name in names if len({json.dumps(d.get(name)) for d in dicts}) > 1]


def format_value(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def arm_label(config, fields: list[str]) -> str:
    """"label_smoothing=0.1, lr=0.001": the differing fields of one arm, for a legend."""
    values = config_dict(config)
    return ", ".join(f"{name}={format_value(values.get(name))}" for name in fields) or _("same")


def seeds_for(base_seed: int, count: int) -> list[int]:
    if not MIN_SEEDS <= count <= MAX_SEEDS:
        raise ConfigError(_("seeds per arm must be {low}–{high}; got {count}").format(
            low=MIN_SEEDS, high=MAX_SEEDS, count=count))
    return [base_seed + index for index in range(count)]


def plan_ab(spec, config_a, config_b, seeds: int = 1) -> list[tuple[str, list]]:
    """[("A", [config per seed]), ("B", [...])]: B keeps A's seeds (a changed seed in B is set
    back: the seeds are what the arms share). ConfigError when B is the same as A."""
    a, b = config_dict(config_a), config_dict(config_b)
    b = {**b, "seed": a["seed"]}
    if not differing_fields([a, b]):
        raise ConfigError(_("B has the same settings as A: change at least one setting for B "
                            "(the random seed does not count: both arms use the same seeds)"))
    chosen = seeds_for(int(a["seed"]), seeds)
    return [(label, [from_dict(spec.config_cls, {**values, "seed": seed}) for seed in chosen])
            for label, values in (("A", a), ("B", b))]


def parse_values(spec, name: str, text: str, base=None) -> list:
    """"0.001, 0.003" -> the field's values, each checked by the config class on ``base`` (the
    defaults when None); ConfigError names the bad value."""
    fields = {f.name: f for f in dataclasses.fields(spec.config_cls)}
    if name not in fields:
        raise ConfigError(_("{model} has no setting {name!r}").format(model=spec.name, name=name))
    if name in NOT_A_DIFFERENCE:
        raise ConfigError(_("sweep the seeds with 'seeds per cell', not as a setting"))
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    if not parts:
        raise ConfigError(_("{name}: give one or more values separated by commas").format(name=name))
    if len(parts) > MAX_SWEEP_VALUES:
        raise ConfigError(_("{name}: at most {most} values in a small sweep; got {count}").format(
            name=name, most=MAX_SWEEP_VALUES, count=len(parts)))
    values = []
    for part in parts:
        value = coerce(fields[name], part)
        from_dict(spec.config_cls, {**(config_dict(base) if base is not None else {}),
                                    name: value})
        if value not in values:
            values.append(value)
    return values


def plan_sweep(spec, base, first: tuple[str, list], second: tuple[str, list] | None = None,
               seeds: int = 1) -> list[tuple[str, list]]:
    """One arm per cell of ``first`` × ``second`` (field, values), each on the same seeds; every
    cell's config is checked by the config class (ConfigError names the bad cell)."""
    base = config_dict(base)
    axes = [first] + ([second] if second else [])
    if second and second[0] == first[0]:
        raise ConfigError(_("sweep two different settings (or one)"))
    cells: list[dict] = [{}]
    for name, values in axes:
        cells = [{**cell, name: value} for cell in cells for value in values]
    chosen = seeds_for(int(base["seed"]), seeds)
    if len(cells) * len(chosen) > MAX_SWEEP_RUNS:
        raise ConfigError(_("{cells} cells × {seeds} seeds = {runs} runs; a small sweep has at "
                            "most {most}").format(cells=len(cells), seeds=len(chosen),
                                                  runs=len(cells) * len(chosen),
                                                  most=MAX_SWEEP_RUNS))
    arms = []
    for cell in cells:
        label = ", ".join(f"{name}={format_value(value)}" for name, value in cell.items())
        try:
            configs = [from_dict(spec.config_cls, {**base, **cell, "seed": seed})
                       for seed in chosen]
        except ConfigError as error:
            raise ConfigError(f"{label}: {error}") from None
        arms.append((label, configs))
    return arms


# Comparisons on disk -----------------------------------------------------------------------------
def folder() -> Path:
    return runs_root() / "_comparisons"


@dataclass
class Comparison:
    id: str
    model: str
    kind: str                                 # "ab" | "sweep" | "picked"
    arms: list[dict]                          # {"label", "config", "runs": [run ids]}
    seeds: list[int] = field(default_factory=list)
    axes: list[dict] = field(default_factory=list)   # a sweep's [{"name", "values"}]
    owner: str = ""
    created: float = field(default_factory=time.time)

    @property
    def run_ids(self) -> list[str]:
        return [run_id for arm in self.arms for run_id in arm["runs"]]

    @property
    def fields(self) -> list[str]:
        return differing_fields([arm["config"] for arm in self.arms])

    def save(self) -> "Comparison":
        folder().mkdir(parents=True, exist_ok=True)
        path = folder() / f"{self.id}.json"
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(dataclasses.asdict(self), indent=1))
        os.replace(temporary, path)
        return self


def new_id() -> str:
    return secrets.token_hex(8)


def load(comparison_id: str) -> Comparison:
    """KeyError with a message for an id that is malformed or not on disk."""
    if not COMPARISON_ID.match(comparison_id or ""):
        raise KeyError(_("not a comparison id: {id!r}").format(id=comparison_id))
    path = folder() / f"{comparison_id}.json"
    try:
        return Comparison(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        raise KeyError(_("no such comparison: {id}").format(id=comparison_id)) from None


def list_comparisons(owner: str | None = None) -> list[Comparison]:
    if not folder().exists():
        return []
    found = []
    for path in folder().glob("*.json"):
        try:
            comparison = load(path.stem)
        except KeyError:
            continue
        if owner is None or comparison.owner == owner:
            found.append(comparison)
    return sorted(found, key=lambda c: c.created, reverse=True)


def launch(jobs, spec, arms: list[tuple[str, list]], data, *, owner: str = "",
           kind: str = "ab", axes: list[dict] | None = None) -> Comparison:
    """Queue every run of ``arms`` on the job manager ``jobs`` (A's seed-1 run, B's seed-1 run,
    A's seed-2 run, ...: the first pair finishes first) and save the comparison. In demo mode a
    comparison that needs more jobs than a visitor may queue is refused before any is queued."""
    count = sum(len(configs) for _label, configs in arms)
    limits = jobs.limits
    if limits.enabled and count > limits.max_per_visitor:
        raise demo.LimitError(_("this comparison needs {count} training jobs; this shared demo "
                                "allows {most} per visitor at a time. Run DL Studio on your own "
                                "machine to compare (see README)").format(
                                    count=count, most=limits.max_per_visitor))
    comparison = Comparison(id=new_id(), model=spec.name, kind=kind,
                            arms=[{"label": label, "config": config_dict(configs[0]), "runs": []}
                                  for label, configs in arms],
                            seeds=[c.seed for c in arms[0][1]], axes=axes or [], owner=owner)
    submitted = []
    try:
        for index in range(max(len(configs) for _label, configs in arms)):
            for arm, (label, configs) in zip(comparison.arms, arms):
                if index < len(configs):
                    job = jobs.submit(spec, configs[index], data, owner=owner)
                    submitted.append(job)
                    job.run.set_status(message=_("comparison {id}: {label}, seed {seed}").format(
                        id=comparison.id, label=label, seed=configs[index].seed))
                    arm["runs"].append(job.run.id)
    except Exception:      # a run refused half-way (a cap, a check): none of the others trains
        for job in submitted:
            jobs.stop(job.id)
        raise
    return comparison.save()


def from_runs(run_list: list, owner: str = "") -> Comparison:
    """A comparison of runs picked after the fact: one arm per distinct config (the random seed aside).
    ValueError when they are not all of one model, or fewer than two."""
    if len(run_list) < 2:
        raise ValueError(_("pick at least two runs to compare"))
    models = {run.info["model"] for run in run_list}
    if len(models) > 1:
        raise ValueError(_("runs of different models cannot be compared: {models}").format(
            models=", ".join(sorted(models))))
    arms: list[dict] = []
    for run in sorted(run_list, key=lambda r: r.info.get("created", 0)):
        config = run.info["config"]
        key = {k: v for k, v in config.items() if k not in NOT_A_DIFFERENCE}
        arm = next((a for a in arms if {k: v for k, v in a["config"].items()
                                        if k not in NOT_A_DIFFERENCE} == key), None)
        if arm is None:
            arm = {"label": "", "config": config, "runs": []}
            arms.append(arm)
        arm["runs"].append(run.id)
    names = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for index, arm in enumerate(arms):
        arm["label"] = names[index] if index < len(names) else str(index + 1)
    seeds = sorted({run.info["config"].get("seed", 0) for run in run_list})
    return Comparison(id=new_id(), model=models.pop(), kind="picked", arms=arms, seeds=seeds,
                      owner=owner).save()


# Reading the results -----------------------------------------------------------------------------
@dataclass
class RunResult:
    run_id: str
    arm: str
    seed: int
    status: str
    step: int
    final: dict
    metrics: pd.DataFrame


def results(comparison: Comparison, live=None) -> list[RunResult]:
    """Every run's status, final figures and metrics; ``live(run_id)`` may give a running job's
    state (the job manager's view, newer than the folder)."""
    found = []
    for arm in comparison.arms:
        for run_id in arm["runs"]:
            try:
                run = runs.get(run_id)
            except KeyError:
                continue
            status = run.status
            state = live(run_id) if live else None
            found.append(RunResult(run_id, arm["label"], int(run.info["config"].get("seed", 0)),
                                   state or status.get("status", "unknown"),
                                   int(status.get("step", 0)), status.get("final") or {},
                                   run.metrics()))
    return found


def headline_metric(found: list[RunResult]) -> Metric | None:
    """The first of ``METRICS`` every finished run has."""
    finished = [r for r in found if r.final]
    for metric in METRICS:
        if finished and all(metric.name in r.final for r in finished):
            return metric
    return None


def band(found: list[RunResult], name: str) -> pd.DataFrame:
    """Per arm and step: mean, min and max of metric ``name`` over the arm's runs (seeds), and
    how many runs gave a value there. Columns: arm, step, mean, low, high, runs."""
    frames = []
    for result in found:
        frame = result.metrics
        rows = frame[frame["name"] == name]
        if rows.empty:
            continue
        series = rows.groupby("step")["value"].last()
        frames.append(pd.DataFrame({"arm": result.arm, "run": result.run_id,
                                    "step": series.index.astype(int), "value": series.values}))
    if not frames:
        return pd.DataFrame(columns=["arm", "step", "mean", "low", "high", "runs"])
    long = pd.concat(frames, ignore_index=True)
    grouped = long.groupby(["arm", "step"])["value"]
    out = pd.DataFrame({"mean": grouped.mean(), "low": grouped.min(), "high": grouped.max(),
                        "runs": grouped.count()}).reset_index()
    return out


def curve_metrics(found: list[RunResult]) -> list[str]:
    """What the comparison draws over time: the losses every run logs, then the headline
    metric when the runs log it during training (a classifier's test accuracy per epoch)."""
    names = None
    for result in found:
        present = set(result.metrics["name"].unique()) if not result.metrics.empty else set()
        names = present if names is None else names & present
    names = names or set()
    losses = sorted(n for n in names if n.startswith("loss/"))
    extra = [m.name for m in METRICS if m.name in names and not m.name.startswith("loss/")]
    return losses + extra[:1]


@dataclass
class ArmSummary:
    arm: str
    values: dict[int, float]           # seed -> final value
    mean: float
    low: float
    high: float

    @property
    def spread(self) -> float:
        return self.high - self.low


def summarize(found: list[RunResult], name: str) -> list[ArmSummary]:
    arms: dict[str, dict[int, float]] = {}
    for result in found:
        arms.setdefault(result.arm, {})
        value = result.final.get(name)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            arms[result.arm][result.seed] = float(value)
    summaries = []
    for arm, values in arms.items():
        numbers = list(values.values())
        if numbers:
            summaries.append(ArmSummary(arm, values, sum(numbers) / len(numbers), min(numbers),
                                        max(numbers)))
        else:
            summaries.append(ArmSummary(arm, {}, math.nan, math.nan, math.nan))
    return summaries


def table(found: list[RunResult], comparison: Comparison) -> pd.DataFrame:
    """One row per arm: its differing settings, then each final metric as "mean ± half-range"
    (and the seeds' values)."""
    names = [m.name for m in METRICS if any(m.name in r.final for r in found)]
    fields = comparison.fields
    rows = []
    for arm in comparison.arms:
        row = {_("arm"): arm["label"], _("settings"): arm_label(arm["config"], fields),
               _("runs finished"): sum(1 for r in found if r.arm == arm["label"]
                                       and r.status == "finished"),
               _("runs"): len(arm["runs"])}
        for name in names:
            summary = next((s for s in summarize(found, name) if s.arm == arm["label"]), None)
            row[_(metric_for(name).label)] = format_spread(summary, name)
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt(value: float, name: str) -> str:
    if name.startswith("accuracy/"):
        return f"{value:.2%}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.2f}"


def format_spread(summary: ArmSummary | None, name: str) -> str:
    if summary is None or not summary.values:
        return "—"
    if len(summary.values) == 1:
        return _fmt(summary.mean, name)
    half = summary.spread / 2
    if name.startswith("accuracy/"):
        return _("{mean:.2%} ± {half:.2f} pts (n={n})").format(mean=summary.mean, half=half * 100,
                                                               n=len(summary.values))
    return f"{_fmt(summary.mean, name)} ± {_fmt(half, name)} (n={len(summary.values)})"


def judge(a: ArmSummary, b: ArmSummary, metric: Metric) -> tuple[str, bool]:
    """(a plain sentence on arm ``b`` against arm ``a`` that respects the spread over seeds,
    whether it names a clear winner: one arm better on every seed).

    Paired by seed when both arms have the same seeds: "B better on every seed" only when it is;
    otherwise by the ranges: B better only when its worst seed beats A's best."""
    label = _(metric.label)
    if not a.values or not b.values:
        return _("No verdict yet: not every arm has a finished run with its {label}.").format(
            label=label), False
    A, B = a.arm, b.arm
    sign = 1 if metric.higher_is_better else -1
    shared = sorted(set(a.values) & set(b.values))
    if shared and len(shared) == len(a.values) == len(b.values):
        gains = [sign * (b.values[s] - a.values[s]) for s in shared]
        n = len(shared)
        if all(g == 0 for g in gains):
            if n > 1:
                return _("Within seed noise: {A} and {B} gave the same {label} on every seed "
                         "({n} seeds).").format(A=A, B=B, label=label, n=n), False
            return _("Within seed noise: {A} and {B} gave the same {label} on the one seed "
                     "({n} seed).").format(A=A, B=B, label=label, n=n), False
        if n == 1:
            who = B if gains[0] > 0 else A
            return _("{who} better on the one seed run ({label}); one seed cannot tell a "
                     "difference from seed noise: run 2–5 seeds per arm.").format(
                         who=who, label=label), False
        if all(g > 0 for g in gains):
            return _("{B} better on every seed ({n} of {n}, {label}).").format(
                B=B, n=n, label=label), True
        if all(g < 0 for g in gains):
            return _("{A} better on every seed ({n} of {n}, {label}): {B} is worse.").format(
                A=A, B=B, n=n, label=label), True
        wins = sum(1 for g in gains if g > 0)
        return _("Within seed noise: {B} better on {wins} of {n} seeds, not on the others "
                 "({label}).").format(B=B, wins=wins, n=n, label=label), False

    def beats(x: ArmSummary, y: ArmSummary) -> bool:   # x's worst run beats y's best
        return x.low > y.high if metric.higher_is_better else x.high < y.low

    if beats(b, a):
        return _("{B} better than {A} on every seed (its worst run beats {A}'s best, "
                 "{label}).").format(A=A, B=B, label=label), True
    if beats(a, b):
        return _("{A} better than {B} on every seed (its worst run beats {B}'s best, "
                 "{label}).").format(A=A, B=B, label=label), True
    return _("Within seed noise: the ranges of {A} and {B} overlap ({label}).").format(
        A=A, B=B, label=label), False


def verdict(a: ArmSummary, b: ArmSummary, metric: Metric) -> str:
    """``judge``'s sentence alone."""
    return judge(a, b, metric)[0]


def judged(found: list[RunResult], metric: Metric) -> list[tuple[str, bool]]:
    """Each arm against the first (A): (sentence, whether one arm is clearly better)."""
    summaries = summarize(found, metric.name)
    return [judge(summaries[0], other, metric) for other in summaries[1:]]


def verdicts(found: list[RunResult], metric: Metric) -> list[str]:
    """Each arm against the first (A)."""
    return [sentence for sentence, _clear in judged(found, metric)]


def heatmap(comparison: Comparison, found: list[RunResult], name: str) -> pd.DataFrame | None:
    """A sweep's final metric: mean over seeds per cell, rows = the second setting's values
    (or one row), columns = the first's."""
    if comparison.kind != "sweep" or not comparison.axes:
        return None
    means = {s.arm: s.mean for s in summarize(found, name)}
    first = comparison.axes[0]
    second = comparison.axes[1] if len(comparison.axes) > 1 else None
    rows = second["values"] if second else [""]
    grid = []
    for row_value in rows:
        line = []
        for column_value in first["values"]:
            cell = {first["name"]: column_value}
            if second:
                cell[second["name"]] = row_value
            label = ", ".join(f"{n}={format_value(v)}" for n, v in cell.items())
            line.append(means.get(label, math.nan))
        grid.append(line)
    return pd.DataFrame(grid, index=[format_value(v) if second else name for v in rows],
                        columns=[format_value(v) for v in first["values"]])

