"""StyleGAN benchmarks: the issue's goal table on the shipped checkpoint, speed, and the monitor's
bands checked against the shipped run's own metrics.

    python bench/stylegan.py quality    # classes, Fréchet distance (and the DCGAN's), PPL in W vs Z on
                                        #   10,000 paths, style mixing at every crossover
    python bench/stylegan.py speed      # seconds per step: StyleGAN (fast and grouped modulation) and
                                        #   the shipped DCGAN's settings at the same batch, same run
                                        #   (--steps 64: about 1 minute on 2 free cores)
    python bench/stylegan.py monitor    # the shipped run's d_loss, g_loss, D accuracy, R1 against the bands
    python bench/stylegan.py            # all three, then the goal table (5-10 minutes on 2 free cores)
    python bench/stylegan.py quality --checkpoint runs/<id>/last.pt     # another checkpoint
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

from core import checkpoints, gan_eval  # noqa: E402
from core.config import from_dict  # noqa: E402
from core.data import load_images  # noqa: E402
from core.device import configure  # noqa: E402
from core.gan_task import evaluate, make_trainer  # noqa: E402
from core.models.gans import dcgan, stylegan  # noqa: E402
from core.models.gans.base import to_gan_range  # noqa: E402
from core.registry import load_model  # noqa: E402

CHECKPOINTS = ROOT / "checkpoints"
SHIPPED = CHECKPOINTS / "stylegan.pt"
# The shipped DCGAN's command (README): spectral norm on D, G's lr 1e-3, ngf = ndf = 32.
DCGAN_SHIPPED = {"spectral_norm": True, "learning_rate_g": 1e-3}


def load(path: Path, model: str):
    return load_model(checkpoints.load(path, expected_model=model), configure())


def quality(data, path: Path) -> dict:
    """The figures `python -m core.cli evaluate` prints, plus the DCGAN's Fréchet distance and the
    style-mixing shares at every crossover."""
    started = time.perf_counter()
    model = load(path, stylegan.NAME)
    values = evaluate(model, data)
    print(f"{path.name} (step {checkpoints.load(path)['step']:,}), 10,000 samples / paths / pairs, "
          f"{time.perf_counter() - started:.0f} s:")
    for name, value in values.items():
        print(f"  {name}={value:.4f}")
    dcgan_path = CHECKPOINTS / "dcgan.pt"
    if dcgan_path.exists():
        values["dcgan/frechet_distance"] = evaluate(load(dcgan_path, dcgan.SPEC.name), data)[
            "quality/frechet_distance"]
        print("  shipped DCGAN, same protocol: "
              f"frechet_distance={values['dcgan/frechet_distance']:.2f}")
    judge = gan_eval.judge_for(data, model.device)
    print("\n| crossover (coarse styles from A) | pairs | class follows A (coarse) | follows B (fine) "
          "| follows A where A and B differ |\n|---|---|---|---|---|")
    for resolution in (4, 8, 16):
        if resolution == 8:   # measured on 10,000 pairs by evaluate() above
            mixing = {"crossover": stylegan.crossover_after(model.resolutions, 8),
                      "coarse": values["stylegan/mixing_follows_coarse_8px"],
                      "fine": values["stylegan/mixing_follows_fine_8px"],
                      "coarse_differing": values["stylegan/mixing_follows_coarse_8px_differing"]}
            pairs = 10_000
        else:
            pairs = 2_000
            mixing = stylegan.mixing_follows(model, judge, resolution=resolution, count=pairs)
        print(f"| 4–{resolution} px from A (layers 0–{mixing['crossover'] - 1}) | {pairs:,} | "
              f"{mixing['coarse']:.3f} | {mixing['fine']:.3f} | {mixing['coarse_differing']:.3f} |")
    return values


def speed(data, steps: int) -> dict:
    """Seconds per training step (D step, G step, weight average) of StyleGAN's CPU preset in both
    modulation forms and of the shipped DCGAN's settings at the same batch size, in one process,
    one step of each in turn, so a busy moment of a shared machine hits all of them. The grouped
    form runs a quarter of the steps (it is slow)."""
    config = stylegan.StyleGANConfig()
    batch = config.batch_size
    candidates = {
        "StyleGAN, fast modulation (CPU preset)": (stylegan.SPEC, config),
        "StyleGAN, grouped modulation": (stylegan.SPEC, from_dict(
            stylegan.StyleGANConfig, {"modulation": "grouped"})),
        "DCGAN, the shipped settings": (dcgan.SPEC, from_dict(
            dcgan.DCGANConfig, {**DCGAN_SHIPPED, "batch_size": batch}))}
    device = configure()
    images = to_gan_range(data.train_images[:batch * 64].float() / 255, 32).to(device)
    trainers = {name: make_trainer(spec, model_config, (1, 32, 32), device)
                for name, (spec, model_config) in candidates.items()}
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for step in range(-3, steps):                       # 3 warm-up steps
        real = images[(step % 64) * batch:(step % 64 + 1) * batch]
        for name, trainer in trainers.items():
            if "grouped" in name and step >= max(steps // 4, 4):
                continue
            started = time.perf_counter()
            metrics = trainer.train_step(real)
            trainer.update_average()
            float(metrics["loss/discriminator"])           # wait for the step to finish
            if step >= 0:
                times[name].append(time.perf_counter() - started)
    result = {name: statistics.mean(values) for name, values in times.items()}
    reference = result["DCGAN, the shipped settings"]
    print(f"\n| model (batch {batch}, {torch.get_num_threads()} thread(s)) | s/step (mean) | "
          f"median | fastest | × the DCGAN (mean) |\n|---|---|---|---|---|")
    for name, value in result.items():
        print(f"| {name} ({len(times[name])} steps) | {value:.4f} | "
              f"{statistics.median(times[name]):.4f} | {min(times[name]):.4f} | "
              f"{value / reference:.1f}× |")
    steps_per_hour = 3600 / result["StyleGAN, fast modulation (CPU preset)"]
    print(f"At this speed the CPU preset takes {steps_per_hour:,.0f} steps "
          f"({steps_per_hour * batch / 60_000:.1f} epochs) per hour.")
    return result


def monitor(path: Path) -> dict:
    """The shipped run's own metrics (they travel inside the checkpoint): where d_loss, g_loss,
    D's accuracy and R1 sat over the second half of the run, against the monitor's bands, and the
    verdicts the monitor gave along the way."""
    payload = checkpoints.load(path, expected_model=stylegan.NAME)
    frame = pd.DataFrame(payload.get("metrics", []), columns=["step", "epoch", "name", "value"])
    if frame.empty:
        print("the checkpoint carries no metrics")
        return {}
    t = stylegan.SPEC.health.thresholds
    last = int(frame["step"].max())
    later = frame[frame["step"] > last / 2]
    print(f"\nThe shipped run's metrics, steps {last // 2:,}–{last:,} (5% / 25% / 50% / 75% / 95%):")
    bands = {"loss/discriminator": t.d_loss_band, "loss/generator": t.g_loss_band}
    for name in ("loss/discriminator", "loss/generator", "d_accuracy/mean", "stylegan/r1",
                 "stylegan/w_spread", "stylegan/noise_strength"):
        values = pd.to_numeric(later[later["name"] == name]["value"])
        if values.empty:
            continue
        quantiles = values.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).tolist()
        line = f"  {name}: " + " / ".join(f"{q:.3f}" for q in quantiles)
        if name in bands:
            low, high = bands[name]
            line += (f"; {((values >= low) & (values <= high)).mean():.0%} of windows inside the "
                     f"band {low}–{high}")
        print(line)
    verdicts: dict[str, int] = {}
    config = payload["config"]
    for step in range(1000, last + 1, 1000):
        verdict = stylegan.SPEC.health.diagnose(frame[frame["step"] <= step], config)
        verdicts[verdict.state] = verdicts.get(verdict.state, 0) + 1
    print("Monitor verdicts every 1,000 steps: " + ", ".join(f"{state} {count}" for state, count
                                                            in verdicts.items()))
    final = stylegan.SPEC.health.diagnose(frame, config)
    print(f"At the end: {final.state} — " + "; ".join(final.evidence[:4]))
    return verdicts


def goal_table(values: dict, timing: dict | None) -> None:
    covered, frechet = values["quality/covered"], values["quality/frechet_distance"]
    reference = values.get("dcgan/frechet_distance", 8.0)
    ppl_z, ppl_w = values["stylegan/ppl_z"], values["stylegan/ppl_w"]
    coarse = values["stylegan/mixing_follows_coarse_8px"]
    rows = [("classes covered by 10,000 samples (≥ 5% each)", f"{covered:.0f} / 10", "10 / 10",
             "yes" if covered >= 10 else "no"),
            ("Fréchet distance, the project's protocol", f"{frechet:.1f}",
             f"below the shipped DCGAN's ({reference:.1f})", "yes" if frechet < reference else "no"),
            ("PPL in W vs in Z, same model, ε = 1e-4, 10,000 paths", f"W {ppl_w:.1f} vs Z "
             f"{ppl_z:.1f} (W/Z {ppl_w / max(ppl_z, 1e-12):.2f})", "reported; W < Z is the paper's "
             "claim", "confirmed" if ppl_w < ppl_z else "refuted"),
            ("style mixing: mixed images whose class follows the coarse source, crossover at 8 px",
             f"{coarse:.3f} (fine source {values['stylegan/mixing_follows_fine_8px']:.3f})",
             "≥ 0.8", "yes" if coarse >= 0.8 else "no")]
    if timing:
        fast = timing["StyleGAN, fast modulation (CPU preset)"]
        dc = timing["DCGAN, the shipped settings"]
        grouped = timing["StyleGAN, grouped modulation"]
        rows.append(("seconds per step vs the shipped DCGAN, same batch, same run",
                     f"{fast:.3f} vs {dc:.3f} ({fast / dc:.1f}×); grouped form {grouped:.3f}",
                     "reported", ""))
    print("\n| goal | measured | target | met |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all",
                        choices=("all", "quality", "speed", "monitor"))
    parser.add_argument("--checkpoint", type=Path, default=SHIPPED,
                        help="the StyleGAN checkpoint to measure (default: the shipped one)")
    parser.add_argument("--steps", type=int, default=64, help="steps timed per model (speed)")
    arguments = parser.parse_args()
    device = configure()
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__}")
    data = load_images()
    if arguments.what == "speed":
        speed(data, arguments.steps)
        return 0
    if not arguments.checkpoint.exists():
        print(f"error: no checkpoint at {arguments.checkpoint} (make it with the command in the "
              "README)", file=sys.stderr)
        return 1
    if arguments.what == "monitor":
        monitor(arguments.checkpoint)
        return 0
    values = quality(data, arguments.checkpoint)
    if arguments.what == "quality":
        goal_table(values, None)
    else:
        timing = speed(data, arguments.steps)
        monitor(arguments.checkpoint)
        goal_table(values, timing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
