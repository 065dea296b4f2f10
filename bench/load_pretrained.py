"""Seconds from *Load pretrained* to a settled page, per model page, on the server (AppTest runs
the real page script; the browser's own drawing is not counted).

    python bench/load_pretrained.py                 # every page with a shipped checkpoint
    python bench/load_pretrained.py biggan stylegan

Each page is opened in a fresh AppTest (the first load in a fresh process pays for imports and
for anything not stored with the checkpoint); the second figure is a rerun of the loaded page.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DLSTUDIO_OFFLINE", "1")

from streamlit.testing.v1 import AppTest  # noqa: E402

from core.paths import shipped_checkpoint  # noqa: E402
from core.registry import MODELS  # noqa: E402
from tests.pages import switch_to  # noqa: E402


def measure(name: str) -> tuple[float, float]:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    app.run()
    switch_to(app, name).run()
    next(b for b in app.button if b.label == "Load pretrained").click()
    started = time.perf_counter()
    app.run()
    first = time.perf_counter() - started
    assert not app.exception, [e.value for e in app.exception]
    started = time.perf_counter()
    app.run()
    return first, time.perf_counter() - started


def main() -> None:
    names = sys.argv[1:] or [name for name in MODELS if shipped_checkpoint(name).exists()]
    for name in names:
        first, again = measure(name)
        print(f"{name:10s} Load pretrained {first:6.1f} s   rerun {again:5.2f} s   (goal <= 5 s)",
              flush=True)


if __name__ == "__main__":
    main()
