"""Pictures and charts a learner can read (issue 27): every generated image at least 64 px on
screen, nearest-neighbour and aspect kept; the pix2pix patch map of a drawing; markers on the
Compare page's one-point curves; run cards' ticks and budget; and, in a real browser, every GAN
and image-to-image page after *Load pretrained*."""
from __future__ import annotations

MEASURE_JS = """() => [...document.querySelectorAll("[data-testid='stImage'] img")].map(img => {
    // The picture as the server sent it, read back pixel by pixel (same origin: not tainted).
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const white = (x, y) => { const i = 4 * (y * canvas.width + x);
        return data[i] >= 245 && data[i + 1] >= 245 && data[i + 2] >= 245; };
    // A grid's cells lie between lines of background (white) that cross the whole picture:
    // the typical (median) run between them is one generated image's side.
    const runs = (length, across, isWhite) => { const found = []; let run = 0;
        for (let a = 0; a < length; a++) {
            let line = true;
            for (let b = 0; b < across && line; b++) line = isWhite(a, b);
            if (line) { if (run) found.push(run); run = 0; } else run++;
        }
        if (run) found.push(run);
        found.sort((p, q) => p - q);
        return found; };
    const columns = runs(canvas.width, canvas.height, (x, y) => white(x, y));
    const rows = runs(canvas.height, canvas.width, (y, x) => white(x, y));
    const median = list => list.length ? list[Math.floor(list.length / 2)] : 0;
    const box = img.getBoundingClientRect();
    const figure = img.closest("[data-testid='stImage']");
    const caption = figure && figure.parentElement ? figure.parentElement.innerText : "";
    const cellWidth = median(columns), cellHeight = median(rows);
    return {nw: img.naturalWidth, nh: img.naturalHeight, w: box.width, h: box.height,
            cell: Math.min(cellWidth, cellHeight), cell_w: cellWidth, cell_h: cellHeight,
            cells_across: columns.length, cells_down: rows.length,
            cell_screen: Math.min(cellWidth, cellHeight) * box.width / Math.max(img.naturalWidth, 1),
            caption: caption.slice(0, 200)};
})"""

CHARTS_JS = """() => [...document.querySelectorAll("[data-testid='stPlotlyChart']")].map(chart => {
    const svg = chart.querySelector(".main-svg");
    const frame = svg ? svg.getBoundingClientRect() : chart.getBoundingClientRect();
    const titles = [...chart.querySelectorAll(".gtitle, .gtitle-subtitle")];
    const title = titles.map(t => t.textContent).join(" | ");
    const cut = titles.some(t => { const b = t.getBoundingClientRect();
        return b.width > 0 && (b.left < frame.left - 1 || b.right > frame.right + 1); });
    const main = chart.querySelector(".gtitle");
    const box = main ? main.getBoundingClientRect() : null;
    return {width: frame.width, title: title, cut: cut,
            visible: !!(main && main.textContent.trim() && box.width > 0 && box.height > 0)};
})"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from core import cards
from core.images import READABLE, enlarge, grid, png_bytes
from tests.test_browser import page, server  # noqa: F401  (the browser fixtures)


@pytest.fixture(scope="module")
def ui_importable():
    """The Inside panels import the drawing canvas, a Streamlit component that can only be
    declared inside a running app: import it once in one (then the import is cached)."""
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit_drawable_canvas  # noqa: F401

    AppTest.from_function(script, default_timeout=60).run()


def cells_of(picture: np.ndarray, columns: int, rows: int, padding: int) -> list[np.ndarray]:
    """The pictures of a grid, cut out again (every cell the same size)."""
    height = (picture.shape[0] - padding) // rows - padding
    width = (picture.shape[1] - padding) // columns - padding
    return [picture[padding + r * (height + padding):padding + r * (height + padding) + height,
                    padding + c * (width + padding):padding + c * (width + padding) + width]
            for r in range(rows) for c in range(columns)]


def source_pixel_of(cell: np.ndarray, image: np.ndarray) -> bool:
    """Every pixel of the enlarged ``cell`` is a copy of the image pixel it lies on (nearest
    neighbour: no value that the image does not have there)."""
    rows = (np.arange(cell.shape[0]) * image.shape[0] / cell.shape[0]).astype(int)
    cols = (np.arange(cell.shape[1]) * image.shape[1] / cell.shape[1]).astype(int)
    return bool(np.array_equal(cell, image[rows][:, cols]))


# (a) The picture helpers -------------------------------------------------------------------------

@pytest.mark.parametrize("side", [28, 32, 7, 64])
def test_a_readable_grid_draws_every_image_at_least_64_px_by_copying_pixels(side):
    from ui.pictures import PADDING, VIEW_WIDTH, readable_grid
    images = torch.randint(0, 255, (16, 1, side, side), dtype=torch.uint8)
    picture = readable_grid(images, columns=8)
    assert picture.dtype == np.uint8 and picture.ndim == 2
    assert picture.shape[1] <= VIEW_WIDTH
    for cell, image in zip(cells_of(picture, 8, 2, PADDING), images[:, 0].numpy()):
        assert cell.shape[0] >= READABLE and cell.shape[1] >= READABLE
        assert cell.shape[0] == cell.shape[1]                      # square stays square
        assert source_pixel_of(cell, image)


def test_a_whole_scale_is_used_when_it_fits_and_keeps_the_aspect():
    images = torch.randint(0, 255, (4, 3, 20, 40), dtype=torch.uint8)  # twice as wide as tall
    picture = grid(images, columns=4, padding=2, min_cell=READABLE)
    cells = cells_of(picture, 4, 1, 2)
    assert cells[0].shape[:2] == (80, 160)                           # 4×: 20 → 80, 40 → 160
    for cell, image in zip(cells, images.permute(0, 2, 3, 1).numpy()):
        assert np.array_equal(cell, np.kron(image, np.ones((4, 4, 1), dtype=np.uint8)))


def test_a_grid_too_wide_at_a_whole_scale_fills_the_width_at_64_px_or_more():
    images = torch.randint(0, 255, (8, 1, 28, 28), dtype=torch.uint8)
    picture = grid(images, columns=8, padding=2, min_cell=READABLE, max_width=560)
    assert 540 <= picture.shape[1] <= 560                            # 3× would be 706 px
    for cell, image in zip(cells_of(picture, 8, 1, 2), images[:, 0].numpy()):
        assert cell.shape[0] == cell.shape[1] >= READABLE
        assert source_pixel_of(cell, image)
        assert set(np.unique(cell)) == set(np.unique(image))          # every pixel still shown


def test_enlarge_copies_pixels_of_tensors_and_pictures():
    picture = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    assert np.array_equal(enlarge(picture, 3), np.kron(picture, np.ones((3, 3, 1), np.uint8)))
    bigger = enlarge(picture, 2.5)
    assert bigger.shape == (12, 18, 3) and source_pixel_of(bigger, picture)
    tensor = torch.from_numpy(picture).permute(2, 0, 1)
    assert torch.equal(enlarge(tensor, 2), tensor.repeat_interleave(2, 1).repeat_interleave(2, 2))


@pytest.mark.parametrize("side", [28, 32])
def test_a_runs_saved_grid_is_enlarged_to_64_px_images(side):
    from ui.adversarial_views import saved_grid_picture
    from ui.pictures import VIEW_WIDTH
    images = torch.randint(0, 255, (64, 1, side, side), dtype=torch.uint8)
    saved = grid(images)                            # as core/runs.py saves it: 2 px apart
    shown = saved_grid_picture(png_bytes(saved))
    scale = shown.shape[1] / saved.shape[1]
    assert side * scale >= READABLE - 0.5 and shown.shape[1] <= VIEW_WIDTH
    assert abs(shown.shape[0] / shown.shape[1] - saved.shape[0] / saved.shape[1]) < 0.01
    assert source_pixel_of(shown[..., 0], saved)


def test_the_translation_pictures_fit_their_column_at_64_px_or_more():
    from ui.translation_views import picture
    images = torch.rand(24, 1, 28, 28) * 2 - 1
    for columns, width in ((8, 560), (3, 560), (2, 320), (3, 280)):
        shown = picture(images[:columns * 3], columns=columns, max_width=width)
        assert shown.shape[1] <= width
        assert (shown.shape[1] - 2) / columns - 2 >= READABLE


# (b) pix2pix: D's patch map of the learner's own drawing ---------------------------------------

def test_the_patch_map_of_a_drawing_is_drawn(tiny_data):
    """It was blank: the page passed all of patch_map's (N, rows, columns) to the heatmap."""
    from core.config import from_dict
    from core.registry import MODELS
    from core.translation_task import make_trainer
    from ui.panels.pix2pix import drawing_map_figure
    spec = MODELS["pix2pix"]
    config = from_dict(spec.config_cls, {"generator_width": 4, "discriminator_width": 4,
                                         "depth": 3})
    model = make_trainer(spec, config, torch.device("cpu"))
    drawing = torch.zeros(1, 1, 28, 28)
    drawing[0, 0, 6:22, 8:20] = 1                                     # a filled block
    task_input = drawing * 2 - 1
    output = model.translate(task_input)
    figure = drawing_map_figure(model, task_input, output)
    heatmap = figure.data[0]
    z = np.asarray(heatmap.z, dtype=float)
    assert z.ndim == 2 and z.size > 1 and np.isfinite(z).all()
    assert figure.layout.title.text


# (c) Compare: one evaluation per run is drawn ----------------------------------------------------

def test_compare_curves_with_one_point_per_run_show_markers():
    from ui.compare_views import band_figure
    frame = pd.DataFrame({"arm": ["A", "B"], "step": [900, 900], "mean": [0.41, 0.38],
                          "low": [0.40, 0.36], "high": [0.42, 0.40], "runs": [2, 2]})
    figure = band_figure(frame, "loss/test", {})
    drawn = [trace for trace in figure.data if trace.showlegend is not False]
    assert len(drawn) == 2
    assert all("markers" in trace.mode for trace in drawn)
    assert all(trace.error_y.array is not None for trace in drawn)   # the seeds' spread
    long = pd.DataFrame({"arm": "A", "step": range(0, 5000, 50), "mean": 1.0, "low": 1.0,
                         "high": 1.0, "runs": 1})
    assert band_figure(long, "loss/train", {}).data[-1].mode == "lines"


# (d) Run cards -----------------------------------------------------------------------------------

@pytest.mark.parametrize("low, high", [(0.671, 1.77), (0.0012, 0.0031), (0, 22512), (-1, 1),
                                       (2.3, 2.9)])
def test_run_card_ticks_are_round_numbers(low, high):
    ticks = cards.nice_ticks(low, high)
    assert 3 <= len(ticks) <= 7
    assert all(low - 1e-9 <= tick <= high + 1e-9 for tick in ticks)
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert any(abs(mantissa - m) < 1e-6 for m in (1, 2, 2.5, 5))
    assert all(abs(tick / step - round(tick / step)) < 1e-6 for tick in ticks)
    labels = [cards.tick_label(tick, ticks) for tick in ticks]
    assert len(set(labels)) == len(labels)


def test_the_card_loss_chart_is_drawn_and_a_zero_budget_reads_no_budget():
    steps = list(range(0, 1000, 10))
    png = cards.line_chart_png({"loss/train": (steps, [1.8 - i / 100 for i in range(100)])},
                               "Loss")
    assert Image.open(__import__("io").BytesIO(png)).size == (720, 360)
    assert cards.setting_text("time_budget_s", 0.0) == "no budget"
    assert cards.setting_text("time_budget_s", 240.0) == "240 s"
    assert cards.setting_text("epochs", 30) == "30"
    card = {"title": "CNN", "run": "r", "model": "cnn", "status": "finished", "step": 10,
            "message": "", "seed": 0, "data": "d", "wall_time_s": None, "device": "cpu",
            "created": "now", "preset": "Tutorial", "final": [], "references": [],
            "config_diff": {"time_budget_s": {"preset": 0.0, "run": 60.0}},
            "images": {"loss": None, "samples": None}, "monitor": [], "command": "x"}
    text = cards.markdown(card)
    assert "| time_budget_s | no budget | 60 s |" in text and "0.0" not in text


# The monitor's evidence, charted; the bands' colours; SAGAN's attention in words ---------------

def test_the_diversity_chart_shows_the_nearest_neighbour_ratio_the_monitor_reads():
    from core.diagnostics import THRESHOLDS
    from ui.charts import diversity_figure
    rows = [(step, 0, name, value) for step in range(100, 1100, 100)
            for name, value in (("diversity/ratio", 0.8), ("diversity/nearest", 0.006))]
    frame = pd.DataFrame(rows, columns=["step", "epoch", "name", "value"])
    figure = diversity_figure(frame, THRESHOLDS.collapse_diversity, THRESHOLDS.collapse_nearest)
    names = [trace.name for trace in figure.data]
    assert any("nearest neighbour" in name for name in names)
    assert any(str(THRESHOLDS.collapse_nearest) in name for name in names)
    assert figure.layout.yaxis.type == "log"                # 0.006 and 0.8 both readable
    assert figure.layout.title.text


def test_loss_bands_are_named_in_their_lines_colours():
    from core.diagnostics import THRESHOLDS
    from ui.charts import BLUE, ORANGE, gan_loss_figure
    frame = pd.DataFrame([(s, 0, n, 1.0) for s in range(10) for n in ("loss/discriminator",
                                                                       "loss/generator")],
                         columns=["step", "epoch", "name", "value"])
    figure = gan_loss_figure(frame, THRESHOLDS)
    blue_fill = [shape for shape in figure.layout.shapes if shape.fillcolor]
    assert len(blue_fill) == 1 and blue_fill[0].fillcolor.startswith("rgba(31,119,180")
    orange = [shape for shape in figure.layout.shapes if shape.line.color == ORANGE]
    assert len(orange) == 2                                  # G's band: two orange dashes
    names = [trace.name for trace in figure.data]
    assert any(name.startswith("D's healthy band") for name in names)
    assert figure.data[0].name == "Loss_D" and BLUE == "#1f77b4"


def test_attention_maps_are_coloured_against_uniform_and_described(ui_importable):
    from ui.panels.conditional import attention_summary, heatmap_figure
    near_uniform = np.full((8, 8), 1 / 64) + np.linspace(-4e-4, 4e-4, 64).reshape(8, 8)
    one_cell = np.zeros((8, 8))
    one_cell[2, 3] = 1.0
    assert "uniform" in attention_summary(near_uniform)
    assert "one cell" in attention_summary(one_cell)
    image = np.zeros((32, 32), dtype=np.uint8)
    uniform_map = heatmap_figure(image, near_uniform, 3, 4, "D").data[1]
    assert uniform_map.zmid == 0 and np.abs(np.asarray(uniform_map.z)).max() < 0.1
    peaked = heatmap_figure(image, one_cell, 3, 4, "G").data[1]
    assert np.asarray(peaked.z).max() == pytest.approx(6)        # log2(64): 64× uniform
    # One scale for both: near uniform is white (the middle), not the scale's full range.
    assert (uniform_map.zmin, uniform_map.zmax) == (peaked.zmin, peaked.zmax) == (-6, 6)


def test_began_scores_say_generated_images_score_higher_where_the_eye_goes(ui_importable):
    from ui.inside_views.gan import histogram_figure
    edges = np.linspace(-1, 0, 11)
    real = np.r_[np.full(5, 0.2), np.zeros(5)]
    fake = np.r_[np.zeros(5), np.full(5, 0.2)]
    figure = histogram_figure(edges, real, fake, None, "The finished model", autoencoder=True)
    assert "generated images score higher" in figure.layout.title.subtitle.text
    assert figure.layout.annotations and "not" in figure.layout.annotations[0].text
    assert "more real" not in figure.layout.xaxis.title.text.replace('"more real"', "")


def test_chart_titles_sit_below_the_toolbar():
    import plotly.graph_objects as go

    from ui.charts import TOOLBAR, readable, titled
    figure = readable(titled(go.Figure(), "Losses", "detail"))
    assert figure.layout.title.pad.t == TOOLBAR and figure.layout.title.yref == "container"
    assert figure.layout.margin.t >= TOOLBAR + 40


# (e) In a real browser: every GAN and image-to-image page after Load pretrained -----------------

READABLE_PAGES = ("gan", "dcgan", "infogan", "began", "sagan", "biggan", "stylegan", "pix2pix",
                  "cyclegan")
# 8-16 s a page: three pages with every kind of picture (sample grid, attention maps, the
# Z/W walks and mixing grid) in the default suite, every page in `make test-all`
QUICK_READABLE = {"gan", "sagan", "stylegan"}
PAGE_HEIGHT_JS = """() => Math.max(...[...document.querySelectorAll(
    "[data-testid='stMain'] *")].map(element => element.scrollHeight))"""


def open_everything(tab) -> None:
    """Open the collapsed expanders (the training charts of a shipped model are in one)."""
    from tests.test_browser import wait_settled
    for _ in range(12):          # each opened expander may redraw the page: look again each time
        closed = tab.locator("[data-testid='stExpander'] details:not([open]) > summary")
        if closed.count() == 0:
            break
        closed.first.click()
        wait_settled(tab, 120)


def measured_in_every_tab(window) -> tuple[list[dict], list[dict]]:
    """The pictures and charts drawn on the page, each tab of a tab group opened in turn (a
    picture or chart in a closed tab is not drawn, so it is measured when its tab is open)."""
    from tests.test_browser import wait_settled
    images, charts = [], []

    def take():
        images.extend(image for image in window.evaluate(MEASURE_JS) if image["w"] > 0)
        charts.extend(chart for chart in window.evaluate(CHARTS_JS) if chart["width"] > 0)

    take()
    for tab in window.locator("[data-testid='stTabs'] button[role='tab']").all():
        if tab.get_attribute("aria-selected") == "true":
            continue
        tab.click()
        wait_settled(window, 120)
        take()
    return images, charts


@pytest.mark.browser
@pytest.mark.parametrize("name", [name if name in QUICK_READABLE else pytest.param(
    name, marks=pytest.mark.slow) for name in READABLE_PAGES])
def test_every_picture_and_chart_reads_at_1400_px(server, page, name):  # noqa: F811
    """After Load pretrained, every picture on the page shows each generated image at least
    64 px a side and every chart has a title that fits.

    How a picture is judged. The page makes each picture at the size it is meant to be seen
    (nearest-neighbour enlargement), so (1) the browser must draw it at its natural width —
    neither shrunk to its column (images under 64 px: what the issue measured) nor stretched
    (blurred) — and (2) its images must be 64 px or more: a grid's images lie between lines of
    background (white) that cross the whole picture, and the typical (median) run between two
    such lines, across and down, is one image's side (a lone picture: its own size); that side
    times the drawn / natural width must be at least 64. A grid of 5 or more images a row must
    also be at least 320 px wide."""
    from tests.test_browser import CHROMIUM, SHOTS, wait_rendered, wait_settled
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.goto(f"{server}/{name}")
    wait_rendered(page, 60)
    page.get_by_role("button", name="Load pretrained").click()
    page.get_by_text("shipped checkpoint").first.wait_for(timeout=300_000)
    wait_settled(page, 300)
    open_everything(page)
    images, charts = measured_in_every_tab(page)
    if name == "dcgan":       # the Inside panel's other views: D's push, the nearest images
        for view, drawn in (("What D would change", "10 small steps that way"),
                            ("Nearest training images", "nearest first")):
            page.get_by_text(view, exact=True).first.click()
            page.get_by_text(drawn).first.wait_for(timeout=300_000)
            wait_settled(page, 120)
            images += [image for image in page.evaluate(MEASURE_JS) if image["w"] > 0]
        assert any("nearest first" in image["caption"] for image in images)
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = min(int(page.evaluate(PAGE_HEIGHT_JS)) + 100, 16_000)
    page.set_viewport_size({"width": 1400, "height": max(height, 2400)})
    wait_settled(page, 60)
    page.screenshot(path=str(SHOTS / f"readable-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 2400})

    assert page.locator("[data-testid='stException']").count() == 0
    assert images, "no picture on the page"
    small = [f"{image['caption'][:60]!r}: {image['nw']}×{image['nh']} drawn {image['w']:.0f} px "
             f"wide, images {image['cell_screen']:.0f} px"
             for image in images
             if image["w"] < image["nw"] - 1 or image["cell_screen"] < READABLE - 0.5
             or (image["cells_across"] >= 5 and image["w"] < 320)]
    assert not small, "pictures drawn too small:\n" + "\n".join(small)
    assert charts, "no chart on the page"
    untitled = [chart for chart in charts if not chart["visible"] or chart["cut"]]
    assert not untitled, "charts without a whole visible title:\n" + "\n".join(
        f"{chart['title']!r} ({chart['width']:.0f} px, cut: {chart['cut']})" for chart in untitled)
