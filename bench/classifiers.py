"""Engine vs the tutorial's own training loop, same machine, same process, same settings.

For softmax, MLP and CNN with the tutorial's hyper-parameters it trains twice: once with a plain
loop written the way the tutorial writes it (torchvision FashionMNIST + ToTensor + DataLoader,
num_workers=0) and once through core.training.train. It prints images/s of each, the ratio and
the test accuracy of each; then the recommended CNN preset trained within the reference CNN's
wall time. Usage:

    python bench/classifiers.py                 # full tutorial epochs (about 8 minutes on 2 cores)
    python bench/classifiers.py --epochs 1      # quicker: one epoch each
"""
from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import training  # noqa: E402
from core.config import from_dict  # noqa: E402
from core.data import fashion_mnist  # noqa: E402
from core.device import configure  # noqa: E402
from core.registry import MODELS  # noqa: E402


def torchvision_root(source: Path) -> Path:
    """A folder in torchvision's layout (FashionMNIST/raw, unpacked idx files) from our copy."""
    root = Path(tempfile.mkdtemp(prefix="fmnist-tv-"))
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in fashion_mnist.FILES.values():
        found = fashion_mnist._find_file(source, stem)
        opener = gzip.open if found.suffix == ".gz" else open
        with opener(found, "rb") as src, open(raw / stem, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return root


def reference_loop(spec, config, root: Path) -> tuple[float, float]:
    """The tutorial's script: DataLoader over a torchvision dataset, loss.item() per step."""
    torch.manual_seed(config.seed)
    transform = torchvision.transforms.ToTensor()
    train_data = torchvision.datasets.FashionMNIST(root=str(root), train=True, transform=transform)
    test_data = torchvision.datasets.FashionMNIST(root=str(root), train=False, transform=transform)
    train_loader = torch.utils.data.DataLoader(train_data, batch_size=config.batch_size, shuffle=True,
                                               num_workers=0)
    test_loader = torch.utils.data.DataLoader(test_data, batch_size=config.batch_size, shuffle=True,
                                              num_workers=0)
    model = spec.build_network(config)
    criterion = torch.nn.CrossEntropyLoss()
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=config.learning_rate)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    started = time.perf_counter()
    for _ in range(config.epochs):
        train_loss, train_acc, n = 0.0, 0.0, 0
        for i, (images, labels) in enumerate(train_loader):
            outputs = model(images)
            loss = criterion(outputs, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if spec.name == "softmax":  # the softmax script accumulates loss and accuracy per step
                y = labels.type(torch.float32)
                train_loss += loss.item()
                train_acc += torch.sum((torch.argmax(outputs, dim=1).type(torch.FloatTensor) == y)
                                       .detach()).float()
                n += list(y.size())[0]
            elif (i + 1) % 100 == 0:  # the MLP and CNN scripts print the loss every 100 steps
                loss.item()
    seconds = time.perf_counter() - started
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in test_loader:
            correct += (model(images).argmax(1) == labels).sum().item()
    return seconds, correct / len(test_data)


def engine(spec, config, data) -> tuple[float, float]:
    started = time.perf_counter()
    final = None
    for event in training.train(spec, config, data):
        if isinstance(event, training.Finished):
            final = event
    return time.perf_counter() - started, final.values["accuracy/test"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=0, help="override the tutorial's epochs")
    parser.add_argument("--models", default="softmax,mlp,cnn")
    arguments = parser.parse_args()
    device = configure()
    data = fashion_mnist.load()
    root = torchvision_root(Path(data.source))
    training.prepare(data, device)  # one-time conversion, as the app does once per process
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__}")
    print("| model (tutorial settings) | reference img/s | engine img/s | ratio | reference acc | engine acc |")
    print("|---|---|---|---|---|---|")
    reference_seconds = {}
    for name in arguments.models.split(","):
        spec = MODELS[name]
        values = {"epochs": arguments.epochs} if arguments.epochs else {}
        config = from_dict(spec.config_cls, values)
        images = 60000 * config.epochs
        ref_seconds, ref_accuracy = reference_loop(spec, config, root)
        eng_seconds, eng_accuracy = engine(spec, config, data)
        reference_seconds[name] = ref_seconds
        print(f"| {name} (batch {config.batch_size}, {config.optimizer}, {config.epochs} ep) "
              f"| {images / ref_seconds:,.0f} | {images / eng_seconds:,.0f} "
              f"| {ref_seconds / eng_seconds:.2f}x | {ref_accuracy:.4f} | {eng_accuracy:.4f} |",
              flush=True)
    if "cnn" in reference_seconds:
        spec = MODELS["cnn"]
        preset = next(v for k, v in spec.presets.items() if k.startswith("Recommended"))
        budget = reference_seconds["cnn"]
        config = from_dict(spec.config_cls, {**preset, "epochs": 200, "time_budget_s": budget})
        seconds, accuracy = engine(spec, config, data)
        print(f"\nrecommended CNN preset within the reference CNN's wall time ({budget:.0f} s): "
              f"test accuracy {accuracy:.4f} (ran {seconds:.0f} s including evaluation)")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
