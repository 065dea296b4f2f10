"""Where things live on disk: the repository, the shipped checkpoints, the runs folder."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "checkpoints"


def runs_root() -> Path:
    """The runs folder: ``$DLSTUDIO_RUNS_DIR`` or ``runs/`` in the repository."""
    return Path(os.environ.get("DLSTUDIO_RUNS_DIR", ROOT / "runs"))


def cache_root() -> Path:
    """Results worth keeping between server restarts (n-gram counts of a corpus): under the runs
    folder, so a hosted demo keeps them on its volume."""
    return runs_root() / "_cache"


def shipped_checkpoint(model: str) -> Path:
    return CHECKPOINTS / f"{model}.pt"
