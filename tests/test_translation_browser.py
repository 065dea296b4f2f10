"""pix2pix in a real browser: open a small trained model, draw on the canvas with the mouse and
see the garment it makes change; an upload that is not an image is refused (the fixtures of
test_browser)."""
import time
from pathlib import Path

import pytest

from core.config import from_dict
from core.data import synthetic
from core.registry import MODELS
from core.training import Finished, train

from tests.test_browser import (CHROMIUM, SHOTS, page, server,  # noqa: F401  (fixtures)
                                wait_rendered)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed (make browser)")]


def draw_stroke(tab, canvas, start: tuple[float, float], end: tuple[float, float]) -> None:
    box = canvas.bounding_box()
    x0, y0 = box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"]
    x1, y1 = box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"]
    tab.mouse.move(x0, y0)
    tab.mouse.down()
    for step in range(1, 21):
        tab.mouse.move(x0 + (x1 - x0) * step / 20, y0 + (y1 - y0) * step / 20)
    tab.mouse.up()


def tiny_checkpoint(folder) -> str:
    spec = MODELS["pix2pix"]
    config = from_dict(spec.config_cls, {"epochs": 1, "batch_size": 16, "generator_width": 4,
                                         "discriminator_width": 4, "depth": 3})
    final = list(train(spec, config, synthetic.make(), checkpoint_dir=folder))[-1]
    assert isinstance(final, Finished)
    return final.path


def test_drawing_on_the_canvas_changes_the_output(server, page, tmp_path):  # noqa: F811
    checkpoint = tiny_checkpoint(tmp_path)
    page.goto(f"{server}/pix2pix")
    wait_rendered(page)
    page.locator("[data-testid='stFileUploader']").filter(
        has_text="Open a checkpoint").locator("input[type='file']").set_input_files(checkpoint)
    try:
        page.get_by_text("Draw it yourself").wait_for(timeout=60_000)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "pix2pix-failed.png"), full_page=True)
        raise
    wait_rendered(page)
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=30_000)
    canvas.scroll_into_view_if_needed()
    draw_stroke(page, canvas, (0.3, 0.2), (0.3, 0.8))
    output = page.locator("[data-testid='stImage']").filter(
        has_text="input the model reads (your drawing)").locator("img")
    output.wait_for(timeout=60_000)
    wait_rendered(page)
    before = output.get_attribute("src")
    draw_stroke(page, canvas, (0.7, 0.2), (0.7, 0.8))
    deadline = time.time() + 60
    while time.time() < deadline and output.get_attribute("src") == before:
        time.sleep(0.3)
    assert output.get_attribute("src") != before
    assert page.locator("[data-testid='stException']").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "pix2pix-drawn.png"), full_page=True)

    junk = tmp_path / "outline.png"
    junk.write_bytes(b"this is not a picture")
    page.locator("[data-testid='stFileUploader']").filter(
        has_text="upload an image").locator("input[type='file']").set_input_files(str(junk))
    page.get_by_text("outline.png is not an image").wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
