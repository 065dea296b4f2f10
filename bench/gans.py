"""GAN benchmarks: engine speed vs the tutorial's loop, shipped-checkpoint quality, the monitor.

    python bench/gans.py speed        # s/iteration: tutorial-style DataLoader loop vs engine (monitor off/on)
    python bench/gans.py quality      # shipped GANs: classes covered, Fréchet distance (real images as the floor)
    python bench/gans.py monitor      # verdict of the health monitor on each preset after a few hundred steps
    python bench/gans.py              # all three (about 10 minutes on 2 cores)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import torch
import torchvision
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from classifiers import torchvision_root  # noqa: E402
from core import checkpoints, gan_eval, training  # noqa: E402
from core.gan_task import evaluate  # noqa: E402
from core.config import from_dict  # noqa: E402
from core.data import fashion_mnist  # noqa: E402
from core.device import configure  # noqa: E402
from core.registry import GANS, MODELS, load_model  # noqa: E402


def reference_loop(spec, config, root: Path, iterations: int) -> float:
    """The tutorial's script: torchvision dataset + Normalize(0.5, 0.5) + DataLoader; D step, G step,
    and the per-step .item() calls it prints. Returns seconds per iteration."""
    size = getattr(config, "image_size", 28)
    transform = torchvision.transforms.Compose([
        torchvision.transforms.Resize(size), torchvision.transforms.ToTensor(),
        torchvision.transforms.Normalize([0.5], [0.5])])
    dataset = torchvision.datasets.FashionMNIST(str(root), train=True, transform=transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.batch_size, shuffle=True)
    torch.manual_seed(0)
    generator, discriminator = spec.build_network(config, (1, size, size))
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=config.learning_rate_g, betas=(config.beta1, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=config.learning_rate_d, betas=(config.beta1, 0.999))
    done, started = 0, None
    while done < iterations + 5:
        for real, _ in loader:
            if done == 5:
                started = time.perf_counter()   # 5 warm-up iterations
            batch = real.size(0)
            ones, zeros = torch.ones(batch), torch.zeros(batch)
            discriminator.zero_grad()
            output = discriminator(real)
            error_real = F.binary_cross_entropy_with_logits(output, ones)
            error_real.backward()
            d_x = torch.sigmoid(output).mean().item()
            fake = generator(torch.randn(batch, config.latent_dim))
            output = discriminator(fake.detach())
            error_fake = F.binary_cross_entropy_with_logits(output, zeros)
            error_fake.backward()
            d_g_z1 = torch.sigmoid(output).mean().item()
            optimizer_d.step()
            generator.zero_grad()
            output = discriminator(fake)
            error_g = F.binary_cross_entropy_with_logits(output, ones)
            error_g.backward()
            d_g_z2 = torch.sigmoid(output).mean().item()
            optimizer_g.step()
            _ = ((error_real + error_fake).item(), error_g.item(), d_x, d_g_z1, d_g_z2)
            done += 1
            if done == iterations + 5:
                break
    return (time.perf_counter() - started) / iterations


def engine(spec, config, data, iterations: int) -> float:
    """Seconds per iteration of the engine, from its first metrics window to its last."""
    config = from_dict(spec.config_cls, {**config.__dict__, "epochs": 1, "log_every_steps": 10,
                                         "train_subset": (iterations + 10) * config.batch_size})
    marks = [(event.step, time.perf_counter()) for event in training.train(spec, config, data)
             if isinstance(event, training.Metrics) and "loss/discriminator" in event.values]
    (first_step, first_time), (last_step, last_time) = marks[0], marks[-1]
    return (last_time - first_time) / (last_step - first_step)


def speed(data, iterations: int) -> None:
    root = torchvision_root(Path(data.source))
    print("| model | reference s/it | engine s/it (monitor off) | ratio | engine s/it (monitor on) | ratio |")
    print("|---|---|---|---|---|---|")
    for name in ("gan", "dcgan"):       # the tutorial's two scripts have a reference loop
        spec = MODELS[name]
        config = spec.config_cls()
        reference = reference_loop(spec, config, root, iterations)
        off = engine(spec, from_dict(spec.config_cls, {"monitor_every_windows": 0}), data, iterations)
        on = engine(spec, spec.config_cls(), data, iterations)
        print(f"| {name} (defaults, batch {config.batch_size}) | {reference:.4f} | {off:.4f} | "
              f"{off / reference:.2f}x | {on:.4f} | {on / reference:.2f}x |", flush=True)


def quality(data) -> None:
    judge = gan_eval.judge_for(data)
    print(f"| shipped checkpoint | classes covered (>= 5% of 10,000) | class entropy | largest class "
          f"share | Fréchet distance to the test images (CNN features, both at "
          f"{gan_eval.FRECHET_SIZE} px) |")
    print("|---|---|---|---|---|")
    # The floor: 10,000 real training images in place of samples.
    real, test = data.train_images[-10_000:], data.test_images[:10_000]
    real_logits, real_28 = judge.logits_and_features(real.float() / 127.5 - 1)
    real_32 = gan_eval.reference_features(judge, real)
    stats = judge.statistics_of(real_logits)
    print(f"| (10,000 real training images) | {stats['classes/covered']:.0f} / 10 | "
          f"{stats['classes/entropy']:.3f} | {stats['classes/top_share']:.3f} | "
          f"{gan_eval.frechet_distance(real_32, gan_eval.reference_features(judge, test)):.2f} |")
    # Why both sides go to 32 px: the round trip a 32 px model's samples make, on real images.
    test_28 = judge.logits_and_features(test.float() / 127.5 - 1)[1]
    print(f"| (the same, read at 28 px against test images at 28 px) | | | | "
          f"{gan_eval.frechet_distance(real_28, test_28):.2f} |")
    print(f"| (the same after 28 -> 32 -> 28, against test images at 28 px: the old protocol's "
          f"cost of the resize alone) | | | | {gan_eval.frechet_distance(real_32, test_28):.2f} |")
    for name in GANS:
        path = ROOT / "checkpoints" / f"{name}.pt"
        if not path.exists():
            print(f"| {name} | (no {path.name}) | | | |")
            continue
        payload = checkpoints.load(path)
        values = evaluate(load_model(payload, configure()), data)
        print(f"| {path.name} | {values['quality/covered']:.0f} / 10 | {values['quality/entropy']:.3f} | "
              f"{values['quality/top_share']:.3f} | {values['quality/frechet_distance']:.2f} |", flush=True)


def monitor(data, steps: dict[str, int]) -> None:
    print("| model | preset | steps | verdict | evidence |")
    print("|---|---|---|---|---|")
    for name in steps:                                 # the GAN and the DCGAN (issue 3's presets)
        spec = MODELS[name]
        for preset, values in spec.presets.items():
            images = steps[name] * 64                  # the presets' batch size is 64
            epochs = -(-images // 60000)
            config = from_dict(spec.config_cls, {**values, "epochs": epochs,
                                                 "train_subset": -(-images // epochs)})
            rows = []
            for event in training.train(spec, config, data):
                if isinstance(event, training.Metrics):
                    rows.extend([event.step, event.epoch, k, v] for k, v in event.values.items())
            frame = pd.DataFrame(rows, columns=["step", "epoch", "name", "value"])
            verdict = spec.health.diagnose(frame, config.__dict__)
            print(f"| {name} | {preset.split(' (')[0]} | {steps[name]} | {verdict.state} | "
                  f"{'; '.join(verdict.evidence[:3])} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", nargs="?", default="all", choices=("all", "speed", "quality", "monitor"))
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--gan-steps", type=int, default=600)
    parser.add_argument("--dcgan-steps", type=int, default=400)
    arguments = parser.parse_args()
    configure()
    data = fashion_mnist.load()
    print(f"device={configure()} threads={torch.get_num_threads()} torch={torch.__version__}\n")
    if arguments.part in ("all", "speed"):
        speed(data, arguments.iterations)
        print()
    if arguments.part in ("all", "quality"):
        quality(data)
        print()
    if arguments.part in ("all", "monitor"):
        monitor(data, {"gan": arguments.gan_steps, "dcgan": arguments.dcgan_steps})


if __name__ == "__main__":
    main()
