"""Looking at a shared network: one look at a time, on one thread, in eval mode; the network of a
classifier and its device; images as a batch it reads."""
from __future__ import annotations

import contextlib
import threading

import torch
from torch import nn

from core.classification import ClassifierTrainer

# A network is shared by every visitor of a page; forward hooks on it must not interleave.
network_lock = threading.RLock()


def network_of(model) -> nn.Module:
    """The network of a classifier (a ``ClassifierTrainer``, as ``registry.load_model`` gives) or
    the module itself."""
    return model.network if isinstance(model, ClassifierTrainer) else model


def device_of(network: nn.Module) -> torch.device:
    parameter = next(network.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@contextlib.contextmanager
def evaluation(network: nn.Module):
    """Eval mode (running batch-norm statistics, no dropout) for a look, then the modes it had."""
    modes = [module.training for module in network.modules()]
    network.eval()
    try:
        yield network
    finally:
        for module, mode in zip(network.modules(), modes):
            module.training = mode


_threads_lock = threading.Lock()
_one_thread = {"depth": 0, "saved": 1}


@contextlib.contextmanager
def one_thread():
    """A look runs on one thread: on the 2-core machine shared with training jobs, waiting for a
    second OpenMP thread made a small backward pass take 25-50 ms instead of 0.3 ms
    (bench/inside.py). ``torch.set_num_threads`` sets the calling thread's count and the default
    new threads start from, so the count before the first of overlapping looks (two visitors)
    is kept and every look puts that back, never another look's 1."""
    with _threads_lock:
        if _one_thread["depth"] == 0:
            _one_thread["saved"] = torch.get_num_threads()
        _one_thread["depth"] += 1
        saved = _one_thread["saved"]
    torch.set_num_threads(1)
    try:
        yield
    finally:
        with _threads_lock:
            _one_thread["depth"] -= 1
        torch.set_num_threads(saved)


@contextlib.contextmanager
def looking(network: nn.Module):
    """One look at a shared network: alone (hooks must not interleave), on one thread, in eval
    mode."""
    with network_lock, one_thread(), evaluation(network):
        yield network


def as_batch(images: torch.Tensor, network: nn.Module) -> torch.Tensor:
    """(C, H, W) or (B, C, H, W), uint8 or float in [0, 1] -> float (B, C, H, W) on its device."""
    if images.dim() == 3:
        images = images[None]
    if images.dtype == torch.uint8:
        images = images.float() / 255
    return images.float().to(device_of(network))
