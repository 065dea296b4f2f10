"""A real browser on the Inside panel: hovering the class map shows the test image under the
pointer (Vega-Lite's tooltip with the image), as a learner uses it."""
import time
from pathlib import Path

import pytest

from tests.test_browser import CHROMIUM, SHOTS, page, server, wait_rendered  # noqa: F401
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not (ROOT / "checkpoints" / "cnn.pt").exists(),
                                 reason="the shipped CNN checkpoint is made by the CLI"),
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed (make browser)")]


def hover_until_tooltip(page, chart, deadline_s: float = 60.0):  # noqa: F811 (the fixture is passed in)
    """Move the pointer onto the map's points until Vega's tooltip shows a picture; the picture
    element, or None. Points drawn as SVG are hovered one by one; on a canvas (another renderer)
    the pointer sweeps the chart row by row."""
    tooltip = page.locator("#vg-tooltip-element.visible img")
    deadline = time.time() + deadline_s
    points = chart.locator("g.mark-symbol path")
    if points.count():
        for index in range(0, points.count(), max(1, points.count() // 20)):
            points.nth(index).hover(force=True)
            if tooltip.count():
                return tooltip
            if time.time() > deadline:
                return None
        return None
    box = chart.bounding_box()
    for y in range(int(box["y"]) + 30, int(box["y"] + box["height"]) - 10, 5):
        for x in range(int(box["x"]) + 10, int(box["x"] + box["width"]) - 10, 5):
            page.mouse.move(x, y)
            if tooltip.count():
                return tooltip
            if time.time() > deadline:
                return None
    return None


@pytest.mark.slow   # 70 s: a t-SNE map computed in the server
def test_hovering_the_class_map_shows_the_image(server, page):  # noqa: F811
    page.goto(f"{server}/cnn")
    wait_rendered(page)
    page.get_by_role("button", name="Load pretrained", exact=True).click()
    page.get_by_text("Inside the model").wait_for(timeout=60_000)
    page.get_by_text("Where the classes live").click()
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.wait_for(timeout=180_000)
    wait_rendered(page)
    page.get_by_text("nearest neighbours on the map").wait_for(timeout=30_000)
    chart.scroll_into_view_if_needed()
    tooltip = hover_until_tooltip(page, chart)
    SHOTS.mkdir(parents=True, exist_ok=True)
    chart.screenshot(path=str(SHOTS / "cnn-class-map-hover.png"))
    assert tooltip is not None, "no tooltip with a picture appeared over the map"
    assert tooltip.first.get_attribute("src").startswith("data:image/png;base64,")
    text = page.locator("#vg-tooltip-element").inner_text()
    assert "true class" in text and "test image #" in text
    assert page.locator("[data-testid='stException']").count() == 0
