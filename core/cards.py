"""Run cards: one finished run on one page, to keep or pass on (Markdown or JSON).

A card holds the model, the config as a diff from the first preset (the tutorial's, where the
model has one), the seed, the data, wall time and device, the final figures with the shipped
model's and the references the code already has beside them, the loss chart (drawn here with
PIL, so the CLI needs no browser), a GAN's last sample grid, the health monitor's verdicts over
time when the model has a monitor, and the CLI command that reproduces the run. The page
(``ui/compare_views.py``) and ``python -m core.cli card RUN`` show the same card.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import io
import json
import math
import os
import re
import secrets
import shlex
from collections.abc import Callable
from typing import Any
import time
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from core import checkpoints, runs
from core.compare import METRICS, metric_for
from core.i18n import N_, _, current
from core.paths import shipped_checkpoint

CARD_VERSION = 1
VERDICT_POINTS = 6
COLOURS = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14),
           (23, 190, 207))
# A run's status as a card says it (the status codes stay English in status.json).
STATUSES = (N_("queued"), N_("running"), N_("finished"), N_("stopped"), N_("failed"),
            N_("interrupted"), N_("unknown"))
# The heading the page cuts a card's Markdown at (``ui/compare_views.card_view``).
TRAINING = N_("## Training")
# Fonts for the loss chart's words: DejaVu draws English; Chinese needs a CJK font (without one
# the chart keeps its English words rather than draw empty boxes).
LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_LANGUAGES = ("zh",)


# The run ------------------------------------------------------------------------------------------
def resolve(reference: str) -> runs.Run:
    """A run by id (``20260101-120000-cnn-abc123``) or by folder; KeyError with a message."""
    reference = str(reference or "").strip()
    path = Path(reference)
    if reference and (path / "config.json").is_file():
        return runs.Run(path.resolve())
    return runs.get(path.name if reference.endswith("/") else reference)


def data_label(source, config: dict | None = None) -> str:
    """What a run trained on, in words (a ``DataSource``'s kind and name)."""
    kind, name = getattr(source, "kind", ""), getattr(source, "name", "")
    if kind == "images":
        synthetic = os.environ.get("DLSTUDIO_DATASET", "").strip().lower() == "synthetic"
        return _("synthetic test images (DLSTUDIO_DATASET=synthetic)") if synthetic \
            else _("Fashion-MNIST (60,000 training, 10,000 test images)")
    if kind == "torchvision":
        return _("torchvision {name}").format(name=name)
    if kind == "zip":
        return _("uploaded images ({name})").format(name=name)
    if kind == "folder":
        return _("image folder {name}").format(name=Path(getattr(source, "path", "")).name)
    if kind == "model":
        corpus = (config or {}).get("corpus")
        return _("corpus {corpus}").format(corpus=corpus) if corpus else \
            _("the model's own data")
    images = getattr(source, "train_images", None)
    if images is not None:   # the data itself (the CLI, the benches, the tests)
        return _("{train:,} training and {test:,} test images ({source})").format(
            train=len(images), test=len(source.test_images), source=getattr(source, "source", ""))
    return _("not recorded")


def config_diff(spec, config: dict) -> tuple[str | None, dict]:
    """(the first preset's title, {field: {"preset": value, "run": value}}) for what differs."""
    preset = next(iter(spec.presets), None)
    base = {**dataclasses.asdict(spec.config_cls()), **(spec.presets.get(preset, {}) if preset
                                                         else {})}
    changed = {name: {"preset": base.get(name), "run": value}
               for name, value in config.items() if base.get(name) != value}
    return preset, changed


def cli_command(spec, config: dict) -> str:
    """The command line that trains the same run (flags for what differs from the defaults)."""
    defaults = dataclasses.asdict(spec.config_cls())
    flags = []
    for name, value in config.items():
        if defaults.get(name) == value:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else \
            (repr(value) if isinstance(value, float) else str(value))
        flags.append(f"--{name} {shlex.quote(text)}")
    return " ".join(["python -m core.cli train", spec.name, *flags])


@functools.lru_cache(maxsize=32)
def _shipped(path: str, mtime: float) -> dict:
    payload = checkpoints.load(path)
    figures = {}
    for step, epoch, name, value in payload.get("metrics", []):
        if name in {m.name for m in METRICS}:
            figures[name] = float(value)
    return {"figures": figures, "step": int(payload.get("step", 0))}


def shipped_figures(spec) -> dict:
    """The shipped checkpoint's last recorded final figures (from its metrics), if it has one."""
    path = shipped_checkpoint(spec.name)
    if not path.exists():
        return {}
    try:
        return _shipped(str(path), path.stat().st_mtime)["figures"]
    except (checkpoints.CheckpointError, OSError, ValueError, KeyError, TypeError):
        return {}


def verdicts_over_time(spec, frame: pd.DataFrame, config: dict,
                       points: int = VERDICT_POINTS) -> list[dict]:
    """The health monitor's verdict at a few steps of the run (models with a monitor only)."""
    health = getattr(spec, "health", None)
    if health is None or frame.empty:
        return []
    steps = sorted(int(s) for s in frame["step"].unique())
    if not steps:
        return []
    chosen = sorted({steps[min(len(steps) - 1, round(i * (len(steps) - 1) / max(points - 1, 1)))]
                     for i in range(points)})
    found = []
    for step in chosen:
        try:
            verdict = health.judge(frame[frame["step"] <= step], config, ended=step == steps[-1])
        except Exception as error:   # a monitor that cannot read these metrics: say so
            found.append({"step": step, "state": "unknown", "headline": str(error)[:200]})
            continue
        found.append({"step": step, "state": verdict.state, "headline": verdict.headline})
    return found


# Pictures ----------------------------------------------------------------------------------------
def _font_path(cjk: bool) -> str | None:
    """The first font file here that draws English (``cjk`` False) or Chinese, or None."""
    return next((path for path in (CJK_FONTS if cjk else LATIN_FONTS) if Path(path).exists()),
                None)


def _font(size: int, path: str | None = None):
    path = path or _font_path(False)
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values inside [low, high]: multiples of a step of 1, 2, 2.5 or 5 times a power
    of ten, the step giving the number of ticks nearest ``count`` (0.8, 1.0, 1.2, 1.4, 1.6, 1.8
    — not 0.671, 1.04, 1.4, 1.77)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [low]
    power = 10 ** math.floor(math.log10((high - low) / count))

    def ticks(step: float) -> list[float]:
        first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
        return [0.0 if index == 0 else round(index * step, 12) for index in range(first, last + 1)]

    steps = [m * p for p in (power / 10, power, power * 10) for m in (1, 2, 2.5, 5)]
    best = min(steps, key=lambda step: (abs(len(ticks(step)) - count), -step))
    return ticks(best)


def tick_label(value: float, ticks: list[float]) -> str:
    """A tick's label with as many decimals as its step needs ("1.25", "2,000")."""
    step = min((abs(b - a) for a, b in zip(ticks, ticks[1:])), default=abs(value) or 1)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if step < 1 and round(step * 10 ** decimals) % 10 != 0 and \
            abs(step * 10 ** decimals - round(step * 10 ** decimals)) > 1e-9:
        decimals += 1
    return f"{value:,.{decimals}f}"


def line_chart_png(series: dict[str, tuple[list, list]], title: str, width: int = 720,
                   height: int = 360) -> bytes | None:
    """A plain line chart (label -> (steps, values)) as PNG bytes; None without any points."""
    series = {label: (xs, ys) for label, (xs, ys) in series.items()
              if len(xs) and all(math.isfinite(y) for y in ys)}
    if not series:
        return None
    # The chart's words in the current language when a font here can draw it, else in English.
    path = _font_path(False)
    say: Callable[[Any], Any] = _
    if current() in CJK_LANGUAGES:
        path = _font_path(True)
        if path is None:
            path, say = _font_path(False), (lambda text: text)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font, small = _font(15, path), _font(12, path)
    left, right, top, bottom = 64, width - 16, 34, height - 40
    xs = [x for xs, _ys in series.values() for x in xs]
    ys = [y for _xs, ys in series.values() for y in ys]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad

    def at(x, y):
        return (left + (x - x0) / (x1 - x0) * (right - left),
                bottom - (y - y0) / (y1 - y0) * (bottom - top))

    draw.text((left, 8), say(title), fill="black", font=font)
    draw.rectangle((left, top, right, bottom), outline=(180, 180, 180))
    y_ticks = nice_ticks(y0, y1)
    for value in y_ticks:
        _x, y = at(x0, value)
        draw.line((left, y, right, y), fill=(235, 235, 235))
        draw.text((4, y - 7), tick_label(value, y_ticks), fill=(80, 80, 80), font=small)
    x_ticks = nice_ticks(x0, x1)
    for value in x_ticks:
        x, _y = at(value, y0)
        draw.text((x - 12, bottom + 4), tick_label(value, x_ticks), fill=(80, 80, 80),
                  font=small)
    draw.text(((left + right) // 2 - 14, height - 18), say(N_("step")), fill=(80, 80, 80),
              font=small)
    for index, (label, (steps, values)) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        points = [at(x, y) for x, y in zip(steps, values)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        else:
            x, y = points[0]
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=colour)
        draw.text((right - 200, top + 6 + 16 * index), f"— {label}", fill=colour, font=small)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def loss_chart(frame: pd.DataFrame) -> bytes | None:
    names = sorted(n for n in frame["name"].unique() if str(n).startswith("loss/")) \
        if not frame.empty else []
    series = {}
    for name in names:
        rows = frame[frame["name"] == name].groupby("step")["value"].last()
        series[name] = (rows.index.astype(float).tolist(), rows.astype(float).tolist())
    return line_chart_png(series, N_("Loss"))


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# The card ----------------------------------------------------------------------------------------
def build(run: runs.Run, spec) -> dict:
    """The card of ``run`` (of model ``spec``) as plain data: text and PNG bytes."""
    info, status = run.info, run.status
    config = info["config"]
    frame = run.metrics()
    preset, diff = config_diff(spec, config)
    final = status.get("final") or {}
    shipped = shipped_figures(spec)
    started, ended = status.get("started"), status.get("ended") or status.get("updated")
    wall = (ended - started) if started and ended and status.get("status") != "running" else None
    figures = []
    for name, value in final.items():
        metric = metric_for(name)
        figures.append({"name": name, "label": metric.label, "run": float(value),
                        "shipped": shipped.get(name)})
    known = [m.name for m in METRICS]
    figures.sort(key=lambda f: known.index(f["name"]) if f["name"] in known else len(known))
    samples = run.sample_files()
    return {
        "card_version": CARD_VERSION,
        "run": run.id, "model": spec.name, "title": spec.title, "family": spec.family,
        "status": status.get("status", "unknown"), "step": int(status.get("step", 0)),
        "message": status.get("message", ""),
        "created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(info.get("created", 0))),
        "preset": preset, "config_diff": diff, "config": config,
        "seed": config.get("seed"),
        "data": status.get("data") or data_label(None, config),
        "wall_time_s": round(wall, 1) if wall is not None else None,
        "device": status.get("device", "unknown"),
        "parameters": status.get("parameters"),
        "final": figures,
        "references": [{"label": r.label, "value": r.value, "source": r.source}
                       for r in spec.references],
        "monitor": verdicts_over_time(spec, frame, config),
        "command": cli_command(spec, config),
        "images": {"loss": loss_chart(frame),
                   "samples": samples[-1].read_bytes() if samples else None},
        "samples_step": int(samples[-1].stem.split("_")[1]) if samples else None,
    }


def _value(name: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and name.startswith("accuracy/"):
        return f"{value:.2%}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def setting_text(name: str, value) -> str:
    """A setting's value as a card shows it: a time budget of 0 is "no budget"."""
    if name == "time_budget_s":
        return _("no budget") if not value else f"{float(value):g} s"
    if value is None:
        return "—"
    return str(value)


def markdown(card: dict, images: str = "embed") -> str:
    """The card as Markdown; ``images``: "embed" (data URLs), "beside" (loss.png and
    samples.png next to the .md file, as ``write`` saves them) or "none" (a page draws them)."""
    def picture(key: str, alt: str) -> str:
        png = card["images"].get(key)
        if not png or images == "none":
            return ""
        return f"![{alt}]({data_url(png) if images == 'embed' else key + '.png'})\n\n"

    # Stored in English (the model's title, the status code, the preset's name, ...): translated
    # here, where the card is written out.
    title, status, message, data, preset = (card.get(key) for key in (
        "title", "status", "message", "data", "preset"))
    title, status = _(title), _(status)
    if card["message"]:
        status_line = _("- **status:** {status} at step {step:,} ({message})").format(
            status=status, step=card["step"], message=_(message))
    else:
        status_line = _("- **status:** {status} at step {step:,}").format(status=status,
                                                                         step=card["step"])
    wall = f"{card['wall_time_s']:.0f} s" if card["wall_time_s"] is not None else "—"
    if card.get("parameters"):
        wall_line = _("- **wall time:** {wall} · **device:** {device} · {parameters:,} "
                      "parameters").format(wall=wall, device=card["device"],
                                           parameters=card["parameters"])
    else:
        wall_line = _("- **wall time:** {wall} · **device:** {device}").format(
            wall=wall, device=card["device"])
    lines = [_("# Run card: {title} — {run}").format(title=title, run=card["run"]), "",
             _("- **model:** {title} (`{model}`)").format(title=title, model=card["model"]),
             status_line,
             _("- **seed:** {seed}").format(seed=card["seed"]),
             _("- **data:** {data}").format(data=_(data)),
             wall_line,
             _("- **created:** {created}").format(created=card["created"]), ""]
    lines.append(_("## Settings: the difference from *{preset}*").format(preset=_(preset))
                 if card["preset"] else _("## Settings: the difference from the defaults"))
    lines.append("")
    if card["config_diff"]:
        lines += [_("| setting | preset | this run |"), "|---|---|---|"]
        lines += [f"| {name} | {setting_text(name, change['preset'])} | "
                  f"{setting_text(name, change['run'])} |"
                  for name, change in card["config_diff"].items()]
    else:
        lines.append(_("The preset's settings, unchanged."))
    lines += ["", _("## Final figures"), ""]
    if card["final"]:
        lines += [_("| figure | this run | shipped model |"), "|---|---|---|"]
        for figure in card["final"]:
            label = figure["label"]          # stored in English (the metric's label)
            lines.append(f"| {_(label)} | {_value(figure['name'], figure['run'])} | "
                         f"{_value(figure['name'], figure['shipped'])} |")
    else:
        lines.append(_("No final figures: the run did not finish."))
    if card["references"]:
        lines += ["", _("Reference figures the code keeps for this model:"), ""]
        for reference in card["references"]:
            label, source = reference["label"], reference["source"]
            lines.append(_("- {label}: {value:g} ({source})").format(
                label=_(label), value=reference["value"], source=_(source)))
    lines += ["", _(TRAINING), "", picture("loss", _("loss chart"))]
    if card["images"].get("samples"):
        lines.append(_("Fixed-noise samples at step {step:,}:").format(step=card["samples_step"])
                     + "\n")
        lines.append(picture("samples", _("last sample grid")))
    if card["monitor"]:
        lines += [_("## Health monitor over time"), "", _("| step | verdict | |"),
                  "|---|---|---|"]
        lines += [f"| {v['step']:,} | {v['state']} | {v['headline']} |" for v in card["monitor"]]
        lines.append("")
    lines += [_("## Reproduce it"), "", "```bash", card["command"], "```", ""]
    return "\n".join(lines)


def to_json(card: dict) -> str:
    """The card as JSON; the pictures as data URLs."""
    plain = {key: value for key, value in card.items() if key != "images"}
    plain["images"] = {key: data_url(png) if png else None
                       for key, png in card["images"].items()}
    return json.dumps(plain, indent=1, default=str)


def write(card: dict, folder: str | Path) -> list[Path]:
    """card.md (pictures beside it), card.json, loss.png and samples.png into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for key, png in card["images"].items():
        if png:
            (folder / f"{key}.png").write_bytes(png)
            written.append(folder / f"{key}.png")
    (folder / "card.md").write_text(markdown(card, images="beside"))
    (folder / "card.json").write_text(to_json(card))
    return written + [folder / "card.md", folder / "card.json"]


# Read-only share links (demo mode) ---------------------------------------------------------------
SHARE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def share(run: runs.Run) -> str:
    """The run's share token (made once, 128 random bits): a link with it shows the card."""
    token = run.status.get("share")
    if not token:
        token = secrets.token_urlsafe(16)
        run.set_status(share=token)
    return token


def find_shared(token: str) -> runs.Run | None:
    """The finished run shared under ``token``, or None (a malformed token is never looked up)."""
    if not SHARE_TOKEN.match(token or ""):
        return None
    for run in runs.list_runs():
        status = run.status
        if status.get("share") == token and status.get("status") == "finished":
            return run
    return None
