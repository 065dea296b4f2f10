"""Data-parallel training: torchrun with two gloo processes reproduces one process with the same
global batch; a GAN with batch norm (two D passes before one backward) trains on two ranks that
stay in step; Stop on one rank ends every rank."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core import checkpoints, distributed, runs
from core.registry import MODELS, load_model
from tests.conftest import ROOT, tiny_config

TORCHRUN = Path(sys.executable).with_name("torchrun")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli(*arguments: str, workers: int = 1, runs_dir) -> Path:
    """``python -m core.cli train …`` (under torchrun with ``workers`` > 1); the run's folder."""
    env = {**os.environ, "DLSTUDIO_RUNS_DIR": str(runs_dir), "DLSTUDIO_THREADS": "1"}
    before = {run.id for run in runs.list_runs()}
    launcher = [str(TORCHRUN), "--nproc_per_node", str(workers), "--master_addr", "127.0.0.1",
                "--master_port", str(free_port())] if workers > 1 else [sys.executable]
    result = subprocess.run([*launcher, "-m", "core.cli", "train", *arguments], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    (new,) = [run for run in runs.list_runs() if run.id not in before]
    return new.folder


@pytest.mark.slow   # 15 s: two processes; the distributed launcher's own unit tests stay
def test_two_gloo_processes_train_the_same_weights_as_one(runs_dir):
    """20 steps of the MLP on a global batch of 10: two ranks of 5 rows each (gradients averaged
    in backward) end with the weights one process gets from batches of 10, to 1e-5."""
    flags = ("mlp", "--epochs", "1", "--batch_size", "10", "--hidden_size", "16",
             "--log_every_steps", "1", "--seed", "3")
    one = checkpoints.load(cli(*flags, runs_dir=runs_dir) / "last.pt")
    folder = cli(*flags, workers=2, runs_dir=runs_dir)
    two = checkpoints.load(folder / "last.pt")
    assert one["step"] == two["step"] == 20
    for name, weights in one["state_dict"]["network"].items():
        assert torch.allclose(weights, two["state_dict"]["network"][name], atol=1e-5), name
    # Rank 0 wrote a whole run, which the app lists and loads like any other.
    status = runs.Run(folder).status
    assert status["status"] == "finished" and status["backend"] == "torchrun"
    assert "2 workers, gloo" in status["ran_on"]
    losses = [row for row in runs.Run(folder).metrics().itertuples() if row.name == "loss/train"]
    assert len(losses) == 20                            # the global loss of every step
    load_model(two, torch.device("cpu"))


def test_shards_and_the_global_batch():
    group = distributed.Group(rank=1, world=2, backend="gloo")
    assert distributed.shard(torch.arange(10), group).tolist() == [5, 6, 7, 8, 9]
    assert distributed.steps_per_epoch(105, 10, group) == 10   # the partial batch is dropped
    with pytest.raises(ValueError, match="smaller than the 2 workers"):
        distributed.steps_per_epoch(100, 1, group)


def test_every_optimizer_of_a_trainer_is_synchronised():
    """A GAN holds two optimizers: both networks' parameters get averaged gradients."""
    from core.data import synthetic
    spec = MODELS["dcgan"]
    task = spec.make_task(spec, tiny_config(spec, generator_width=4, discriminator_width=4),
                          synthetic.make(40, 20), torch.device("cpu"))
    found = {id(p) for p in distributed.trained_parameters(task.trainer)}
    assert found == {id(p) for p in task.trainer.generator.parameters()} | \
        {id(p) for p in task.trainer.discriminator.parameters()}


def _rank(rank: int, world: int, port: int, folder: str, stop_at: int) -> None:
    """One rank of a DCGAN run (spawned by the test below), each writing its own checkpoints
    (in the app only rank 0 does) so the test can compare the ranks' weights."""
    import torch.distributed as dist
    from core import training
    from core.data import synthetic
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)
    spec = MODELS["dcgan"]
    config = tiny_config(spec, generator_width=8, discriminator_width=8, batch_size=8, epochs=2,
                         log_every_steps=2, monitor_every_windows=0, sample_every_steps=5)
    windows = []
    # Only rank 0 is asked to stop; every rank must end at the same step.
    should_stop = (lambda: len(windows) >= stop_at) if rank == 0 else (lambda: False)
    for event in training.train(spec, config, synthetic.make(64, 16),
                                parallel=distributed.current(), should_stop=should_stop,
                                checkpoint_dir=Path(folder) / f"rank{rank}"):
        if isinstance(event, training.Metrics):
            windows.append(event.step)
    dist.destroy_process_group()


@pytest.mark.slow
def test_a_batch_norm_gan_trains_on_two_ranks_in_step_and_stops_together(tmp_path):
    """D sees real and generated images in two calls before one backward, with batch norm: the
    pitfall of DDP's buffer broadcast. Buffers stay per rank here (broadcast_buffers=False): the
    run goes through, both ranks hold the same weights after every step, each its own batch
    statistics; rank 0's Stop ends both ranks at the same step."""
    import torch.multiprocessing as mp
    mp.spawn(_rank, args=(2, free_port(), str(tmp_path), 3), nprocs=2, join=True)
    first, second = (checkpoints.load(tmp_path / f"rank{rank}" / "last.pt",
                                      expected_model="dcgan") for rank in (0, 1))
    assert first["step"] == second["step"] > 0
    statistics = 0
    for network in ("generator", "discriminator"):
        for name, weights in first["state_dict"][network].items():
            other = second["state_dict"][network][name]
            if "running_" in name:
                statistics += not torch.equal(weights, other)   # each rank's own batches
            elif weights.is_floating_point():
                assert torch.allclose(weights, other, atol=1e-6), f"{network}.{name}"
    assert statistics > 0
    assert load_model(first, torch.device("cpu")) is not None
