"""pix2pix's page: L1 and the test checks while it trains; then draw an outline and see the
garment, any test image as input / output / truth, D's per-patch verdict, and the paper's
ablation (L1 only / cGAN only / both) measured on the same test inputs."""
from __future__ import annotations

import base64
import json

import pandas as pd
import streamlit as st
import torch

from core import gan_eval
from core.data.fashion_mnist import CLASS_NAMES
from core.data.translation import PAIR_TASKS
from core.i18n import N_, _, shown
from core.models.translation.pix2pix import ABLATION, NAME
from core.paths import CHECKPOINTS
from ui import charts
from ui.translation_views import (TranslationPanel, class_caption, drawing_input, from_unit,
                                  patch_map_figure, show_picture, upload_input)

MEASURED = CHECKPOINTS / f"{NAME}_ablation.json"     # written by bench/translation.py ablation
ROW = 8
# What an upload is (the value the code compares stays English; the radio shows it translated).
UPLOAD_KINDS = (N_("a garment picture (the model gets its input by the same filter)"),
                N_("already the input (an outline or thumbnail)"))



def drawing_map_figure(model, inputs: torch.Tensor, output: torch.Tensor):
    """D's per-patch verdict on the model's output for one input of the learner's: ``patch_map``
    gives one map per image (N, rows, columns), and this output's is the first."""
    return patch_map_figure(model.patch_map(inputs, output)[0], model.patch_size(),
                            _("What D sees in this output"), model.config.gan_loss == "bce")


class Pix2PixPanel(TranslationPanel):

    preview_caption = N_("fixed test pairs — rows: input, output, truth")

    def model_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        figure = charts.lines(frame, {"loss/l1": _("L1, training batches"), "test/l1":
                                      _("L1, fixed test pairs")},
                              _("L1 = mean |y − G(x)|"), "L1", smooth=True,
                              subtitle=_("pixels in [−1, 1]"))
        charts.plot(figure, f"{key}.l1")
        checks = charts.lines(frame, {"test/class_accuracy": _("outputs in the truth's class "
                                                               "(shipped CNN)"),
                                      "match/own_vs_other": _("own / other target distance"),
                                      "diversity/ratio": _("diversity (outputs / truths)")},
                              _("Test checks"), _("share or ratio"),
                              subtitle=_("dashed: the own / other distance above which the "
                                         "input is ignored"))
        steps = charts.series(frame, "match/own_vs_other")["step"].tolist() \
            if not frame.empty else []
        charts.reference_line(checks, steps, self.spec.health.thresholds.ignored_input,
                              _("input ignored above"), "firebrick")
        charts.plot(checks, f"{key}.checks")

    def final_summary(self, final: dict) -> str:
        if "quality/class_accuracy" in final:
            return _(" — the shipped CNN puts {accuracy:.0%} of the outputs in their truth's "
                     "class (on real images: {real:.0%})").format(
                         accuracy=final["quality/class_accuracy"],
                         real=final["quality/class_accuracy_real"])
        return _(" — test L1 {l1:.3f}").format(l1=final.get("quality/l1", float("nan")))

    # The finished model --------------------------------------------------------------------------
    def explorer(self, source) -> None:
        found = self.loaded(source)
        if found is None:
            return
        model, key, payload = found
        task = PAIR_TASKS[model.config.task]
        judge = gan_eval.shipped_judge()
        names = CLASS_NAMES
        st.subheader(_("Draw it yourself"))
        st.caption(_("Task: **{title}** — {lesson} D's verdict on each patch of the output is "
                     "under it ({size}×{size} px patches).").format(
                         title=_(task.title), lesson=_(task.lesson), size=model.patch_size()))
        noisy = st.toggle(_("Dropout at test time (the paper's only noise: outputs vary)"),
                          key=self.key("dropout"))
        left, right = st.columns([1.05, 1])    # the 280 px canvas fits the left one
        with left:
            if model.config.task == "edges":
                drawn, message = drawing_input(
                    self.key("canvas"), st.session_state.get(self.key("stroke"), 14),
                    _("Draw a garment's outline with the mouse (white on black):"))
            else:
                drawn, message = drawing_input(
                    self.key("canvas"), st.session_state.get(self.key("stroke"), 40),
                    _("Draw a garment, filled in (white on black); the model sees its 7×7 "
                      "thumbnail:"))
            st.slider(_("Pen width (px on the canvas)"), 4, 60, 14 if model.config.task == "edges"
                      else 40, key=self.key("stroke"))
            uploaded, note, error = upload_input(self.key("image_upload"),
                                                 _("…or upload an image (PNG, JPEG, …)"))
            kind = st.radio(_("The upload is"), list(UPLOAD_KINDS), format_func=_,
                            key=self.key("upload_kind"))
        with right:
            if error:
                st.error(error)
            source_picture, how = None, ""
            if uploaded is not None:
                source_picture = uploaded
                how = note
                made = task.make_input(uploaded) if kind == UPLOAD_KINDS[0] \
                    else task.from_drawing(uploaded)
            elif drawn is not None:
                source_picture, how = drawn, _("your drawing")
                made = task.from_drawing(drawn)
            if source_picture is None:
                st.info(message or _("Draw on the canvas (or upload an image): the garment the "
                                     "model makes from it appears here."))
            else:
                inputs = from_unit(made)
                torch.manual_seed(0)
                output = model.translate(inputs, dropout=noisy)
                caption = class_caption(judge, output, names)[0]
                shown = _("input the model reads ({how}) → its output: the shipped CNN sees "
                          "{caption}") if caption else _("input the model reads ({how}) → its "
                                                         "output")
                show_picture(torch.cat([inputs, output]), shown.format(how=how, caption=caption),
                             self.key("drawn-output"), download=True, max_width=260)
                charts.plot(drawing_map_figure(model, inputs, output), self.key("drawn-map"))
        self.test_pairs(model, judge, names, noisy)
        self.measured(payload)

    def test_pairs(self, model, judge, names, noisy: bool) -> None:
        st.subheader(_("Test images: input / output / truth"))
        count = len(model.pairs.test_inputs)
        index = st.number_input(_("Test pair (0–{last})").format(last=count - 1), 0, count - 1,
                                0, key=self.key("test_index"))
        inputs, targets, labels = model.test_pairs(torch.tensor([int(index)]))
        torch.manual_seed(0)
        output = model.translate(inputs, dropout=noisy).cpu()
        captions = class_caption(judge, torch.cat([output, targets]), names)
        shown = _("input → output → truth ({name}); L1 {l1:.3f}; the CNN sees the output as "
                  "{caption}") if captions[0] else _("input → output → truth ({name}); L1 "
                                                     "{l1:.3f}")
        show_picture(torch.cat([inputs, output, targets]),
                     shown.format(name=_(names[int(labels[0])]),
                                  l1=float((output - targets).abs().mean()), caption=captions[0]),
                     self.key("test-pair"))
        st.markdown(_("**What D looks at** — the same D on the generated pair and on the "
                      "real one; each cell is one patch's verdict."))
        probability = model.config.gan_loss == "bce"
        maps = model.patch_map(torch.cat([inputs, inputs]), torch.cat([output, targets]))
        first, second = st.columns(2)
        charts.plot(patch_map_figure(maps[0], model.patch_size(), _("(input, output)"),
                                     probability), self.key("map-fake"), container=first)
        charts.plot(patch_map_figure(maps[1], model.patch_size(), _("(input, truth)"),
                                     probability), self.key("map-real"), container=second)
        start = (int(index) // ROW) * ROW
        chosen = torch.arange(start, min(start + ROW, count))
        inputs, targets, _labels = model.test_pairs(chosen)
        torch.manual_seed(0)
        show_picture(torch.cat([inputs, model.translate(inputs, dropout=noisy).cpu(), targets]),
                     _("test pairs {first}–{last}: inputs, outputs, truths").format(
                         first=start, last=start + len(chosen) - 1),
                     self.key("test-row"), scale=3, columns=len(chosen), download=True)

    def measured(self, payload: dict) -> None:
        figures = (payload.get("evaluation") or {}).get("figures")
        if figures and "quality/class_accuracy" in figures:
            st.caption(_("Measured when this model finished (up to 2,000 test pairs): the "
                         "shipped CNN puts {accuracy:.1%} of the outputs in their truth's class "
                         "({real:.1%} of the truths themselves); Fréchet distance to the real "
                         "images {frechet:.1f} (the raw inputs: {frechet_inputs:.1f}); L1 "
                         "{l1:.3f}.").format(
                             accuracy=figures["quality/class_accuracy"],
                             real=figures["quality/class_accuracy_real"],
                             frechet=figures["quality/frechet_distance"],
                             frechet_inputs=figures["quality/frechet_distance_inputs"],
                             l1=figures["quality/l1"]))

    def after(self) -> None:
        ablation()


def ablation() -> None:
    """The paper's Table 1, measured here: the same settings trained three ways and judged on the
    same test inputs (``bench/translation.py ablation`` writes it)."""
    st.divider()
    st.subheader(_("The paper's ablation: L1 only, cGAN only, cGAN + L1"))
    st.caption(_("Isola et al. (Table 1, Cityscapes labels → photos) found L1 alone blurry, the "
                 "cGAN alone sharp but with artefacts, and both together best. Here the same "
                 "settings were trained three ways ({variants}) and measured on the same test "
                 "inputs. Train any of them yourself with the presets *L1 only* and *cGAN "
                 "only*.").format(variants=", ".join(f"**{_(title)}**" for title in ABLATION)))
    if not MEASURED.exists():
        st.info(_("Not measured on this machine yet: `python bench/translation.py ablation` "
                  "trains the three and writes the table and the images."))
        return
    result = json.loads(MEASURED.read_text())
    st.image(base64.b64decode(result["image_png"]),
             caption=_("rows: input, {variants}, truth — the same test inputs").format(
                 variants=", ".join(shown(row["variant"]) for row in result["rows"])))
    table = pd.DataFrame([{_("objective"): shown(row["variant"]),
                           _("L1 (lower: closer to the truth)"): round(row["l1"], 4),
                           _("Fréchet distance (lower: more like real images)"):
                           round(row["frechet_distance"], 1),
                           _("outputs in the truth's class"): f"{row['class_accuracy']:.1%}"}
                          for row in result["rows"]])
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(_("Each trained {steps:,} steps with {settings} on {device}, measured on "
                 "{count:,} test pairs (`{command}`). {note}").format(
                     steps=result["steps"], settings=result["settings"],
                     device=result.get("device", _("this machine")), count=result["count"],
                     command=result["command"], note=result.get("note", "")))
