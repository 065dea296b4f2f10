"""Image-to-image benchmarks: the issue's goal table on the shipped checkpoints, the pix2pix
ablation (L1 only / cGAN only / cGAN + L1 on the same test inputs), CycleGAN with and without
the cycle term, and speed.

    python bench/translation.py quality     # shipped pix2pix / CycleGAN (+ λ = 0) checkpoints
    python bench/translation.py ablation --steps 2000   # trains 3 pix2pix variants and writes
                                            # checkpoints/pix2pix_ablation.json (the page shows it)
    python bench/translation.py cycle --steps 1500  # CycleGAN with λ = 10 and λ = 0, same steps
    python bench/translation.py speed              # seconds per step at the defaults
    python bench/translation.py                    # quality + speed
"""
from __future__ import annotations

import argparse
import base64
import dataclasses
import json
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
from core.images import grid, png_bytes  # noqa: E402
from core.models.gans.base import to_uint8  # noqa: E402
from core.models.translation import cyclegan, pix2pix  # noqa: E402
from core.policies import Policy  # noqa: E402
from core.registry import MODELS, load_model  # noqa: E402

CHECKPOINTS = ROOT / "checkpoints"
ABLATION_JSON = CHECKPOINTS / f"{pix2pix.NAME}_ablation.json"
GOALS = {"quality/class_accuracy": 0.90, "translation/accuracy_ab": 0.80,
         "translation/accuracy_ba": 0.80}


class StopAfter(Policy):
    """Finish after ``steps`` steps, the learning-rate schedule following them (as a time
    budget does), so variants compared at the same step count each finish their decay."""

    def __init__(self, steps: int):
        self.steps = steps

    def progress(self, loop, progress: float) -> float:
        return max(progress, loop.step / self.steps)

    def before_step(self, loop) -> None:
        if loop.step >= self.steps:
            loop.finish = True


def trained_model(spec, config, data, steps: int, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    final = None
    for event in training.train(spec, config, data, policies=(StopAfter(steps),),
                                checkpoint_dir=folder, checkpoint_every_s=0):
        if isinstance(event, training.Failed):
            raise RuntimeError(event.message)
        if isinstance(event, training.Finished):
            final = event
    seconds = time.perf_counter() - started
    payload = checkpoints.load(final.path)
    model = load_model(payload, configure())
    model.ensure_prepared(data)
    model.history = payload.get("metrics", [])     # what the monitor read
    return model, final.step, seconds


def print_figures(label: str, values: dict) -> None:
    print(f"{label}: " + " ".join(f"{name}={value:.4f}" for name, value in values.items()))


def quality(data) -> dict:
    """The shipped checkpoints on the whole test split (what ``core.cli evaluate`` prints)."""
    results = {}
    for name in (pix2pix.NAME, cyclegan.NAME, cyclegan.NO_CYCLE):
        path = CHECKPOINTS / f"{name}.pt"
        if not path.exists():
            print(f"{path.name}: not there (see the README for the command that makes it)")
            continue
        payload = checkpoints.load(path)
        model = load_model(payload, configure())
        spec = MODELS[payload["model"]]
        started = time.perf_counter()
        values = spec.evaluate(model, data)
        results[name] = values
        print_figures(f"{path.name} ({time.perf_counter() - started:.0f} s)", values)
    print("\ngoal table (test split):")
    for name, values in results.items():
        for metric, goal in GOALS.items():
            if metric in values:
                print(f"  {name} {metric}: {values[metric]:.3f} (goal >= {goal:.2f}: "
                      f"{'met' if values[metric] >= goal else 'NOT met'})")
        if "quality/frechet_distance" in values:
            print(f"  {name} Fréchet distance: outputs {values['quality/frechet_distance']:.1f} "
                  f"vs raw inputs {values['quality/frechet_distance_inputs']:.1f} (outputs should "
                  "be well below)")
        if "cycle/error_a" in values:
            print(f"  {name} cycle error: A {values['cycle/error_a']:.4f}, B "
                  f"{values['cycle/error_b']:.4f}")
    return results


def ablation(data, steps: int, count: int, values: dict, write: bool) -> dict:
    """The paper's Table 1 here: the same settings trained three ways, judged on the same
    ``count`` test pairs; a row of images of each."""
    judge = gan_eval.judge_for(data, configure())
    spec = MODELS[pix2pix.NAME]
    rows, pictures = [], []
    inputs = targets = labels = None
    reference = None
    for variant, config in pix2pix.ablation_configs(values).items():
        model, done, seconds = trained_model(spec, config, data, steps,
                                             Path("/tmp") / f"dlstudio-ablation-{time.time_ns()}")
        inputs, targets, labels = model.test_pairs(torch.arange(min(count,
                                                                    len(model.pairs.test_inputs))))
        if reference is None and judge is not None:
            reference = gan_eval.reference_features(judge, to_uint8(targets))
        outputs = model.translate(inputs).cpu()
        row = {"variant": variant, "steps": done, "seconds": round(seconds, 1),
               "l1": float((outputs - targets).abs().mean())}
        if judge is not None:
            from core.translation_task import judged
            figures = judged(judge, outputs, labels, targets, inputs, reference)
            row.update(frechet_distance=figures["quality/frechet_distance"],
                       class_accuracy=figures["quality/class_accuracy"],
                       frechet_distance_inputs=figures["quality/frechet_distance_inputs"])
        rows.append(row)
        pictures.append(outputs[:8])
        print(f"{variant:<10} steps={done} seconds={seconds:.0f} " + " ".join(
            f"{k}={v:.4f}" for k, v in row.items() if isinstance(v, float) and k != "seconds"),
              flush=True)
    image = grid(to_uint8(torch.cat([inputs[:8], *pictures, targets[:8]])), columns=8, scale=3)
    result = {"rows": rows, "steps": steps, "count": len(inputs),
              "settings": " ".join(f"--{k} {v}" for k, v in values.items()) or "the defaults",
              "command": f"python bench/translation.py ablation --steps {steps}"
                         + "".join(f" --set {k}={v}" for k, v in values.items()),
              "device": str(configure()),
              "image_png": base64.b64encode(png_bytes(image)).decode("ascii")}
    if write:
        ABLATION_JSON.write_text(json.dumps(result, indent=1))
        print(f"wrote {ABLATION_JSON}")
    return result


def cycle(data, steps: int, values: dict) -> dict:
    """CycleGAN at its settings and with the λ = 0 preset (cycle and identity off), same steps."""
    spec = MODELS[cyclegan.NAME]
    preset = next({k: v for k, v in values.items() if k.startswith("lambda")}
                  for title, values in spec.presets.items() if title.startswith("No cycle"))
    results = {}
    for label, changes in (("cycle λ = 10", {}), ("λ = 0 preset", preset)):
        config = from_dict(spec.config_cls, {**values, **changes})
        model, done, seconds = trained_model(spec, config, data, steps,
                                             Path("/tmp") / f"dlstudio-cycle-{time.time_ns()}")
        figures = spec.evaluate(model, data)
        results[label] = figures
        print_figures(f"{label} ({done} steps, {seconds:.0f} s)", figures)
        frame = pd.DataFrame(model.history, columns=["step", "epoch", "name", "value"])
        verdict = spec.health.judge(frame, dataclasses.asdict(config), ended=True)
        print(f"  monitor: {verdict.state} — " + "; ".join(verdict.evidence[:2]), flush=True)
    return results


def speed(data, repeats: int = 20) -> dict:
    """Seconds per training step at each model's defaults."""
    from core.translation_task import make_trainer
    results = {}
    for name in (pix2pix.NAME, cyclegan.NAME):
        spec = MODELS[name]
        config = spec.config_cls()
        trainer = make_trainer(spec, config, configure())
        trainer.ensure_prepared(data)
        order = torch.randperm(trainer.count)
        size = config.batch_size
        for step in range(3):
            trainer.train_step(*trainer.batch(order[step * size:(step + 1) * size]))
        started = time.perf_counter()
        for step in range(repeats):
            trainer.train_step(*trainer.batch(order[step * size:(step + 1) * size]))
        results[name] = (time.perf_counter() - started) / repeats
        print(f"{name}: {results[name]:.3f} s per step at batch {size} "
              f"({torch.get_num_threads()} threads, {configure()})")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all",
                        choices=("all", "quality", "ablation", "cycle", "speed"))
    parser.add_argument("--steps", type=int, default=2000, help="training steps per variant")
    parser.add_argument("--count", type=int, default=10_000, help="test pairs judged")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="a config field for the trained variants (repeatable)")
    parser.add_argument("--no-write", action="store_true", help="ablation: do not write the JSON")
    arguments = parser.parse_args()
    values = dict(item.split("=", 1) for item in arguments.set)
    data = load_images()
    if arguments.what in ("all", "quality"):
        quality(data)
    if arguments.what == "ablation":
        ablation(data, arguments.steps, arguments.count, values, not arguments.no_write)
    if arguments.what == "cycle":
        cycle(data, arguments.steps, values)
    if arguments.what in ("all", "speed"):
        speed(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
