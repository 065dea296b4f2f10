"""A/B on the same seeds: the tutorial's MLP GAN with and without one-sided label smoothing.

    python bench/compare.py                       # 3 seeds x 2 arms, 200 steps each (~6 min on 2 busy cores)
    python bench/compare.py --steps 100 --seeds 2 # quicker

Both arms train through the app's own job queue (``core.compare.launch``) on the real
Fashion-MNIST, on the same seeds (same initial weights, same batch order) and the same fixed step
budget (``train_subset`` = steps x batch, one epoch). Each finished run is then scored on
``--samples`` generated images with the shipped CNN (classes covered, Fréchet distance to the
test images: ``core.gan_eval.evaluate_generator``), and the comparison's table and verdict are
printed as the Compare page shows them — whatever they say.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import checkpoints, compare, gan_eval, runs  # noqa: E402
from core.config import from_dict  # noqa: E402
from core.data import load_images  # noqa: E402
from core.device import configure  # noqa: E402
from core.jobs import JobManager  # noqa: E402
from core.registry import MODELS, load_model  # noqa: E402

MODEL = "gan"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps per run")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per arm (1-5)")
    parser.add_argument("--samples", type=int, default=2000,
                        help="generated images each run is scored on")
    parser.add_argument("--smoothing", type=float, default=0.1, help="B's label smoothing s")
    options = parser.parse_args(argv)
    device = configure()
    data = load_images()
    spec = MODELS[MODEL]
    first = next(iter(spec.presets))
    batch = spec.config_cls().batch_size
    # The monitor's periodic class checks are off: they cost time and change nothing trained.
    a = from_dict(spec.config_cls, {**spec.presets[first], "epochs": 1,
                                    "train_subset": options.steps * batch,
                                    "monitor_every_windows": 0})
    b = dataclasses.replace(a, label_smoothing=options.smoothing)
    arms = compare.plan_ab(spec, a, b, options.seeds)
    print(f"{spec.title}: A = the tutorial's settings, B = label smoothing {options.smoothing:g}; "
          f"{options.seeds} seeds each, {options.steps} steps of batch {batch} "
          f"({data.source} data, device {device})", flush=True)
    jobs = JobManager(max_concurrent=1, backend="thread")
    started = time.perf_counter()
    comparison = compare.launch(jobs, spec, arms, data)
    for job in sorted(jobs._jobs.values(), key=lambda j: j.created):
        jobs.wait(job, timeout=3600)
        print(f"  {job.run.id}: seed {job.config.seed} label_smoothing "
              f"{job.config.label_smoothing:g} {job.state} in "
              f"{(job.ended or 0) - (job.started or 0):.0f} s", flush=True)
    trained = time.perf_counter() - started
    # Score every run on the same number of samples (the shipped CNN as the judge).
    for run_id in comparison.run_ids:
        run = runs.get(run_id)
        status = run.status
        if status.get("status") != "finished":
            continue
        model = load_model(checkpoints.load(run.checkpoint_path), device)
        quality = gan_eval.evaluate_generator(model, data, count=options.samples)
        run.set_status(final={**(status.get("final") or {}), **quality})
    found = compare.results(comparison)
    print()
    print(compare.table(found, comparison).to_string(index=False))
    print()
    for name in ("quality/frechet_distance", "quality/covered", "quality/entropy"):
        if not all(name in r.final for r in found):
            continue
        metric = compare.metric_for(name)
        per_seed = {s.arm: s.values for s in compare.summarize(found, name)}
        print(f"{metric.label}: " + "; ".join(
            f"{arm}: " + ", ".join(f"seed {seed} {value:.4g}" for seed, value in values.items())
            for arm, values in per_seed.items()))
        for sentence in compare.verdicts(found, metric):
            print(f"  verdict: {sentence}")
    print(f"\ncomparison {comparison.id}; training {trained:.0f} s, total "
          f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
