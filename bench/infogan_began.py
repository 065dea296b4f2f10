"""infoGAN and BEGAN benchmarks: the issue's goal table on the shipped checkpoints.

    python bench/infogan_began.py quality    # infoGAN code purity / classes / correlations; BEGAN coverage
    python bench/infogan_began.py speed      # the explorer's 10x10 traversal grid on the CPU
    python bench/infogan_began.py compare --budget 300   # BEGAN vs DCGAN, same data and time budget
    python bench/infogan_began.py codes a.pt b.pt ...   # what each infoGAN checkpoint's codes learned
    python bench/infogan_began.py            # quality + speed, then the goal table (about 1 minute)
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import checkpoints, gan_eval, training  # noqa: E402
from core.data import load_images  # noqa: E402
from core.models.gans.base import to_gan_range  # noqa: E402
from core.models.gans.infogan import code_meanings, separation  # noqa: E402
from core.models.gans.began import SIDE_BY_SIDE, side_by_side_configs  # noqa: E402
from core.registry import MODELS, load_model  # noqa: E402

CHECKPOINTS = ROOT / "checkpoints"


def load_shipped(name: str, device=torch.device("cpu")):  # noqa: B008 (a constant device)
    return load_model(checkpoints.load(CHECKPOINTS / f"{name}.pt", expected_model=name), device)


def quality(data, sweeps: int) -> dict:
    results = {}
    judge = gan_eval.judge_for(data)
    infogan = load_shipped("infogan")
    started = time.perf_counter()
    meanings = code_meanings(infogan, judge, count=10_000, sweeps=sweeps)
    results["infogan"] = meanings
    print(f"infoGAN codes ({meanings['samples']:,} samples, {sweeps} sweeps per continuous code, "
          f"{time.perf_counter() - started:.0f} s):")
    for row in meanings["categorical"]:
        print(f"  c1 = {row['value']} -> {row['class']:<12} {row['share']:.1%}")
    for row in meanings["continuous"]:
        others = ", ".join(f"{k} {v:+.2f}" for k, v in row["along_sweep"].items())
        print(f"  c{row['code'] + 2}: {row['statistic']} rho {row['correlation']:+.3f} along a sweep "
              f"(pooled {row['pooled']:+.3f}); all: {others}")
    began = load_shipped("began")
    results["began"] = gan_eval.evaluate_generator(began, data)
    print("BEGAN (10,000 samples): " + " ".join(f"{k}={v:.3f}" for k, v in results["began"].items()))
    # BEGAN's ceiling: the classes the CNN still sees in D's reconstructions of the test images.
    real = to_gan_range(data.test_images.float() / 255, 32)
    for label, images in (("test images at 32 px", real), ("D's reconstructions of them",
                                                           began.reconstruct(real))):
        share = judge.class_histogram(images)
        results[f"began_ceiling/{label}"] = share.tolist()
        print(f"BEGAN ceiling, {label}: {int((share >= gan_eval.COVERAGE_SHARE).sum())} classes "
              f">= {gan_eval.COVERAGE_SHARE:.0%}: "
              + ", ".join(f"{name} {value:.1%}" for name, value in zip(data.class_names, share)))
    return results


def speed(data, repeats: int = 50) -> dict:
    """Median time of the explorer's 10 x 10 traversal (one forward pass of G over 100 latents)."""
    trainer = load_shipped("infogan")
    z = torch.randn(1, trainer.config.latent_dim, generator=torch.Generator().manual_seed(0))
    values = torch.linspace(-2, 2, 10)
    codes = [0.0] * trainer.config.continuous_codes
    results = {}
    for threads in sorted({1, torch.get_num_threads()}):
        torch.set_num_threads(threads)
        for _ in range(5):
            trainer.traversal(z, codes, 0, values)
        times = []
        for index in range(repeats):
            codes[0] = float(index % 7) / 7
            started = time.perf_counter()
            images = trainer.traversal(z, codes, 1, values)
            times.append(time.perf_counter() - started)
        assert images.shape[0] == 100
        results[threads] = statistics.median(times) * 1000
        print(f"traversal grid 10x10 on the CPU, {threads} thread(s): median "
              f"{results[threads]:.1f} ms (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})")
    return results


def compare(data, budget_s: float) -> dict:
    """BEGAN and DCGAN of comparable size, the same data and time budget, judged by the monitor."""
    rows = []
    for name, config in zip(SIDE_BY_SIDE, side_by_side_configs(budget_s)):
        spec = MODELS[name]
        history, final, started = [], None, None
        for event in training.train(spec, config, data):
            if isinstance(event, training.Started):
                parameters, started = event.parameters, time.perf_counter()
            elif isinstance(event, training.Metrics):
                history.extend([event.step, event.epoch, k, v] for k, v in event.values.items())
            elif isinstance(event, (training.Finished, training.Failed)):
                final = event
        frame = pd.DataFrame(history, columns=["step", "epoch", "name", "value"])
        verdict = spec.health.diagnose(frame, dataclasses.asdict(config))
        values = getattr(final, "values", {}) or {}
        row = {"model": spec.name, "title": spec.title, "parameters": parameters,
               "steps": int(final.step), "seconds": time.perf_counter() - started,
               "verdict": verdict.state, "headline": verdict.headline,
               "classes_covered": values.get("classes/covered", float("nan")),
               "diversity": values.get("diversity/ratio", float("nan")),
               "evidence": verdict.evidence}
        rows.append(row)
        print(f"{spec.title}: {parameters:,} parameters, {row['steps']} steps in "
              f"{row['seconds']:.0f} s -> {verdict.state}: {verdict.headline} "
              f"(classes covered {row['classes_covered']:.0f}, diversity {row['diversity']:.2f})",
              flush=True)
        for line in verdict.evidence:
            print(f"    {line}")
    result = {"budget_s": budget_s, "runs": rows,
              "command": f"python bench/infogan_began.py compare --budget {budget_s:g}"}
    (CHECKPOINTS / "began_vs_dcgan.json").write_text(json.dumps(result, indent=1))
    return result


def score(meanings: dict) -> tuple:
    """How an infoGAN checkpoint ranks against the goals: goals met, then distinct classes, then
    purity (a code that draws one class everywhere is pure and useless)."""
    checked = separation(meanings)
    goals = (meanings["distinct_classes"] >= 9) + (meanings["purity"] >= 0.80) + checked["passes"]
    return goals, meanings["distinct_classes"], meanings["purity"]


def codes(paths: list[str], sweeps: int) -> None:
    """The code goals of each infoGAN checkpoint (10,000 samples, ``sweeps`` sweeps a code), best
    first; a JSON line each for scripts that pick one."""
    judge = gan_eval.shipped_judge()
    rows = []
    for path in paths:
        model = load_model(checkpoints.load(path, expected_model="infogan"), torch.device("cpu"))
        meanings = code_meanings(model, judge, count=10_000, sweeps=sweeps)
        rows.append((score(meanings), path, meanings))
    print("| checkpoint | distinct classes | purity | continuous codes (own / cross) | separated |")
    print("|---|---|---|---|---|")
    for goals, path, meanings in sorted(rows, key=lambda row: row[0], reverse=True):
        checked = separation(meanings)
        continuous = "; ".join(f"c{row['code'] + 2} {row['statistic']} {row['own']:.2f} / "
                               f"{row['cross']:.2f}" for row in checked["codes"])
        print(f"| {path} | {meanings['distinct_classes']} | {meanings['purity']:.3f} | "
              f"{continuous} | {'yes' if checked['passes'] else 'no'} |")
        print("JSON " + json.dumps({"path": path, "goals": goals[0], "purity": meanings["purity"],
                                    "distinct": meanings["distinct_classes"],
                                    "separated": checked["passes"]}), flush=True)


def goal_table(measured: dict, timing: dict) -> None:
    meanings, began = measured["infogan"], measured["began"]
    lines = [("infoGAN categorical code purity (10,000 samples, shipped CNN)",
              f"{meanings['purity']:.3f}", ">= 0.80", meanings["purity"] >= 0.80),
             ("distinct classes of the 10 categorical values",
              f"{meanings['distinct_classes']}", ">= 9", meanings["distinct_classes"] >= 9)]
    checked = separation(meanings)
    for row, own in zip(meanings["continuous"], checked["codes"]):
        lines.append((f"c{row['code'] + 2}: follows {row['statistic']} (rank correlation along a "
                      f"sweep; pooled {row['pooled']:+.2f})", f"{row['correlation']:+.3f}",
                      "|rho| >= 0.6", abs(row["correlation"]) >= 0.6))
        lines.append((f"c{row['code'] + 2}: leaves the other codes' statistics alone (largest "
                      "|rho| with them)", f"{own['cross']:.3f}", "< 0.3", own["cross"] < 0.3))
    lines.append(("the continuous codes follow different statistics",
                  ", ".join(row["statistic"] for row in checked["codes"]), "all different",
                  checked["distinct_statistics"]))
    lines.append(("explorer: 10x10 traversal grid on the CPU (median, one thread as the explorer "
                  "runs it; " + ", ".join(f"{t} thread(s) {ms:.1f} ms" for t, ms in timing.items())
                  + ")", f"{timing[1]:.1f} ms", "< 50 ms", timing[1] < 50))
    covered = began["quality/covered"]
    lines.append(("BEGAN shipped: classes covered (>= 5% of 10,000 samples)", f"{covered:.0f} / 10",
                  "10 / 10", covered >= 10))
    print("\n| goal | measured | target | met |\n|---|---|---|---|")
    for name, value, target, met in lines:
        print(f"| {name} | {value} | {target} | {'yes' if met else 'no'} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all",
                        choices=("all", "quality", "speed", "compare", "codes"))
    parser.add_argument("checkpoints", nargs="*", help="infoGAN checkpoints (codes)")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per model (compare)")
    parser.add_argument("--sweeps", type=int, default=500, help="sweeps per continuous code")
    arguments = parser.parse_args()
    if arguments.what == "codes":
        codes(arguments.checkpoints, arguments.sweeps)
        return 0
    data = load_images()
    if arguments.what == "compare":
        compare(data, arguments.budget)
        return 0
    if arguments.what == "speed":
        speed(data)
        return 0
    measured = quality(data, arguments.sweeps)
    if arguments.what == "all":
        goal_table(measured, speed(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
