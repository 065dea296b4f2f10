"""SAGAN and BigGAN benchmarks: speed against the DCGAN, the monitor on their presets, and the
quality table of the shipped checkpoints (intended-class accuracy, classes, Fréchet distance,
BigGAN's truncation curve, the ablations).

    python bench/conditional_gans.py speed      # seconds per D+G step vs the DCGAN, batch 64, one process
    python bench/conditional_gans.py monitor    # the hinge monitor's verdict on each preset, a few hundred steps
    python bench/conditional_gans.py quality    # the shipped checkpoints (and --extra ones), 10,000 samples
    python bench/conditional_gans.py            # speed + quality
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import checkpoints, gan_eval, training  # noqa: E402
from core.config import from_dict  # noqa: E402
from core.data import load_images  # noqa: E402
from core.device import configure  # noqa: E402
from core.gan_task import evaluate, make_trainer  # noqa: E402
from core.models.gans.conditional import truncation_curve  # noqa: E402
from core.registry import MODELS, load_model  # noqa: E402

CHECKPOINTS = ROOT / "checkpoints"
BATCH = 64
# What the speed table compares: the shipped DCGAN's architecture at the tutorial's CPU setting,
# and each conditional model's CPU preset (its defaults) and paper widths.
SPEED = [("dcgan", "DCGAN (32 px, ngf = ndf = 32)", {}),
         ("sagan", "SAGAN, CPU preset (ngf 16, ndf 32)", {}),
         ("sagan", "SAGAN, CPU preset without attention", {"self_attention": False}),
         ("biggan", "BigGAN, CPU preset (ch 16, 2 D steps)", {}),
         ("biggan", "BigGAN, CPU preset, 1 D step", {"discriminator_steps": 1}),
         ("sagan", "SAGAN, paper widths (ngf = ndf = 64)", {"generator_width": 64,
                                                           "discriminator_width": 64}),
         ("biggan", "BigGAN, paper widths (ch 64)", {"generator_width": 64,
                                                      "discriminator_width": 64})]


def speed(rounds: int, steps: int, include_wide: bool) -> list[dict]:
    """Median seconds per training step (all its D steps and its G step) at batch 64, the models
    taking turns round by round in one process, so a busy machine slows them alike."""
    device = torch.device("cpu")
    real = torch.rand(BATCH, 1, 32, 32) * 2 - 1
    labels = torch.arange(BATCH) % 10
    chosen = [row for row in SPEED if include_wide or "paper widths" not in row[1]]
    trainers = []
    for name, label, values in chosen:
        spec = MODELS[name]
        trainer = make_trainer(spec, from_dict(spec.config_cls, values), (1, 32, 32), device)
        for _ in range(3):                                        # warm up
            trainer.train_step(real, labels if trainer.uses_labels else None)
        trainers.append((name, label, trainer, []))
    for _ in range(rounds):
        for name, label, trainer, times in trainers:
            started = time.perf_counter()
            for _ in range(steps):
                trainer.train_step(real, labels if trainer.uses_labels else None)
            times.append((time.perf_counter() - started) / steps)
    base = statistics.median(trainers[0][3])
    results = []
    print(f"threads={torch.get_num_threads()} batch={BATCH} rounds={rounds} x {steps} steps")
    print("| model | parameters | s per step (median) | vs DCGAN |")
    print("|---|---|---|---|")
    for name, label, trainer, times in trainers:
        median = statistics.median(times)
        count = sum(p.numel() for p in trainer.parameters())
        print(f"| {label} | {count:,} | {median:.3f} | {median / base:.1f}x |", flush=True)
        results.append({"model": label, "s_per_step": median, "ratio": median / base})
    return results


def monitor(data, steps: int, names: tuple[str, ...]) -> None:
    """Each preset for ``steps`` steps on the real data; the hinge monitor's verdict."""
    print("| model | preset | steps | verdict | evidence |")
    print("|---|---|---|---|---|")
    for name in names:
        spec = MODELS[name]
        for preset, values in spec.presets.items():
            if "Paper widths" in preset:
                continue                                    # a GPU's preset
            images = steps * BATCH
            config = from_dict(spec.config_cls, {**values, "epochs": 1, "train_subset": images,
                                                 "log_every_steps": 10})
            rows = []
            started = time.perf_counter()
            for event in training.train(spec, config, data):
                if isinstance(event, training.Metrics):
                    rows.extend([event.step, event.epoch, k, v] for k, v in event.values.items())
            frame = pd.DataFrame(rows, columns=["step", "epoch", "name", "value"])
            verdict = spec.health.diagnose(frame, config.__dict__)
            print(f"| {name} | {preset.split(' (')[0]} | {steps} | {verdict.state} | "
                  f"{'; '.join(verdict.evidence)} ({time.perf_counter() - started:.0f} s) |",
                  flush=True)


def quality(data, extra: list[str], count: int) -> None:
    """The goal table on the shipped checkpoints (and any --extra ones, e.g. the ablations)."""
    paths = [CHECKPOINTS / "dcgan.pt", CHECKPOINTS / "sagan.pt", CHECKPOINTS / "biggan.pt",
             *map(Path, extra)]
    print("| checkpoint | intended-class accuracy | classes covered | Fréchet distance | "
          "class diversity (× real) | seconds |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        if not path.exists():
            print(f"| {path.name} | (missing: train it with the command in the README) | | | | |")
            continue
        started = time.perf_counter()
        model = load_model(checkpoints.load(path), torch.device("cpu"))
        values = evaluate(model, data, count=count)
        print(f"| {path.name} | {values.get('conditional/intended_accuracy', float('nan')):.3f} "
              f"| {values['quality/covered']:.0f} | {values['quality/frechet_distance']:.1f} | "
              f"{values.get('conditional/class_diversity', float('nan')):.2f} | "
              f"{time.perf_counter() - started:.0f} |", flush=True)
        if getattr(model, "class_count", 0) and "truncation/psi_1_intended_accuracy" in values:
            print(f"  truncation curve of {path.name} ({count // 10:,} per class and ψ):")
            for psi in sorted({float(k.split('_')[1]) for k in values if
                               k.startswith("truncation/")}):
                key = f"truncation/psi_{psi:g}"
                print(f"    ψ = {psi:<4g} intended-class accuracy "
                      f"{values[key + '_intended_accuracy']:.3f}  diversity within a class "
                      f"{values[key + '_class_diversity']:.3f}  Fréchet distance "
                      f"{values[key + '_frechet_distance']:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", nargs="?", default="all",
                        choices=("all", "speed", "quality", "monitor", "curve"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4, help="steps per model per round")
    parser.add_argument("--wide", action="store_true", help="also time the paper widths")
    parser.add_argument("--monitor-steps", type=int, default=400)
    parser.add_argument("--models", default="sagan,biggan")
    parser.add_argument("--count", type=int, default=10_000, help="samples per evaluation")
    parser.add_argument("--extra", nargs="*", default=[], help="more checkpoints to score")
    arguments = parser.parse_args()
    configure()                       # DLSTUDIO_THREADS sets the CPU threads
    if arguments.part in ("all", "speed"):
        speed(arguments.rounds, arguments.steps, arguments.wide)
    if arguments.part == "monitor":
        monitor(load_images(), arguments.monitor_steps, tuple(arguments.models.split(",")))
    if arguments.part in ("all", "quality"):
        quality(load_images(), arguments.extra, arguments.count)
    if arguments.part == "curve":     # a quick truncation curve of each --extra checkpoint
        data = load_images()
        judge = gan_eval.judge_for(data)
        for path in arguments.extra:
            model = load_model(checkpoints.load(path), torch.device("cpu"))
            for row in truncation_curve(model, judge, data, per_class=arguments.count // 10):
                print(path, {k: round(v, 3) for k, v in row.items()}, flush=True)


if __name__ == "__main__":
    main()
