"""The class board's server time: a board of 40 cards (each with a sample grid), against an empty
board in the same process (the page's fixed cost), median of --rounds page runs each.

    python bench/class_board.py            # 40 cards, 10 rounds
    python bench/class_board.py --cards 40 --rounds 20

Runs the real page script through Streamlit's AppTest in demo mode, in a temporary runs folder.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DLSTUDIO_RUNS_DIR"] = tempfile.mkdtemp(prefix="dlstudio-class-")
os.environ["DLSTUDIO_DEMO"] = "1"

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from core import classes, runs  # noqa: E402
from core.config import from_dict  # noqa: E402
from core.models.gans.dcgan import SPEC as DCGAN  # noqa: E402
from tests.pages import switch_to  # noqa: E402


def gan_run(owner: str, covered: float) -> runs.Run:
    """A finished DCGAN run with a sample grid the size the app saves (8 x 8 of 32 px, 3x)."""
    run = runs.create("dcgan", from_dict(DCGAN.config_cls, {}), owner=owner)
    grid = (np.random.default_rng(len(owner)).random((8 * 34 * 3, 8 * 34 * 3)) * 255).astype(np.uint8)
    (run.folder / "samples").mkdir(exist_ok=True)
    buffer = io.BytesIO()
    Image.fromarray(grid).save(buffer, "PNG")
    (run.folder / "samples" / "step_00001000.png").write_bytes(buffer.getvalue())
    run.set_status(status="finished", step=1000,
                   final={"classes/covered": covered, "quality/frechet_distance": 20 - covered})
    return run


def server_seconds(code: str, rounds: int) -> list[float]:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["code"] = code
    app.run()
    switch_to(app, "class").run()
    assert not app.exception, [e.value for e in app.exception]
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        app.run()
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args()
    empty, _ = classes.start("teacher", "empty")
    full, _ = classes.start("teacher", "full")
    for number in range(options.cards):
        student = f"{number:032x}"
        full.post(gan_run(student, float(number % 10 + 1)), student, DCGAN)
    reference = statistics.median(server_seconds(empty.code, options.rounds))
    board = server_seconds(full.code, options.rounds)
    print(f"empty board: median {reference * 1000:.0f} ms per page run")
    print(f"{options.cards} cards:    median {statistics.median(board) * 1000:.0f} ms, "
          f"max {max(board) * 1000:.0f} ms ({statistics.median(board) / reference:.1f}x the empty "
          f"board; goal < 1 s)")


if __name__ == "__main__":
    main()
