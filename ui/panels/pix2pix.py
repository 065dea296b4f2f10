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
from core.models.translation.pix2pix import ABLATION, NAME
from core.paths import CHECKPOINTS
from ui import charts
from ui.translation_views import (TranslationPanel, class_caption, drawing_input, from_unit,
                                  patch_map_figure, show_picture, upload_input)

MEASURED = CHECKPOINTS / f"{NAME}_ablation.json"     # written by bench/translation.py ablation
ROW = 8


def drawing_map_figure(model, inputs: torch.Tensor, output: torch.Tensor):
    """D's per-patch verdict on the model's output for one input of the learner's: ``patch_map``
    gives one map per image (N, rows, columns), and this output's is the first."""
    return patch_map_figure(model.patch_map(inputs, output)[0], model.patch_size(),
                            "What D sees in this output", model.config.gan_loss == "bce")


class Pix2PixPanel(TranslationPanel):

    preview_caption = "fixed test pairs — rows: input, output, truth"

    def model_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        figure = charts.lines(frame, {"loss/l1": "L1, training batches", "test/l1":
                                      "L1, fixed test pairs"},
                              "L1 = mean |y − G(x)|", "L1", smooth=True,
                              subtitle="pixels in [−1, 1]")
        charts.plot(figure, f"{key}.l1")
        checks = charts.lines(frame, {"test/class_accuracy": "outputs in the truth's class "
                                      "(shipped CNN)",
                                      "match/own_vs_other": "own / other target distance",
                                      "diversity/ratio": "diversity (outputs / truths)"},
                              "Test checks", "share or ratio",
                              subtitle="dashed: the own / other distance above which the "
                              "input is ignored")
        steps = charts.series(frame, "match/own_vs_other")["step"].tolist() \
            if not frame.empty else []
        charts.reference_line(checks, steps, self.spec.health.thresholds.ignored_input,
                              "input ignored above", "firebrick")
        charts.plot(checks, f"{key}.checks")

    def final_summary(self, final: dict) -> str:
        if "quality/class_accuracy" in final:
            return (f" — the shipped CNN puts {final['quality/class_accuracy']:.0%} of the "
                    f"outputs in their truth's class (on real images: "
                    f"{final['quality/class_accuracy_real']:.0%})")
        return f" — test L1 {final.get('quality/l1', float('nan')):.3f}"

    # The finished model --------------------------------------------------------------------------
    def explorer(self, source) -> None:
        found = self.loaded(source)
        if found is None:
            return
        model, key, payload = found
        task = PAIR_TASKS[model.config.task]
        judge = gan_eval.shipped_judge()
        names = CLASS_NAMES
        st.subheader("Draw it yourself")
        st.caption(f"Task: **{task.title}** — {task.lesson} D's verdict on each patch of the "
                   f"output is under it ({model.patch_size()}×{model.patch_size()} px patches).")
        noisy = st.toggle("Dropout at test time (the paper's only noise: outputs vary)",
                          key=self.key("dropout"))
        left, right = st.columns([1.05, 1])    # the 280 px canvas fits the left one
        with left:
            if model.config.task == "edges":
                drawn, message = drawing_input(
                    self.key("canvas"), st.session_state.get(self.key("stroke"), 14),
                    "Draw a garment's outline with the mouse (white on black):")
            else:
                drawn, message = drawing_input(
                    self.key("canvas"), st.session_state.get(self.key("stroke"), 40),
                    "Draw a garment, filled in (white on black); the model sees its 7×7 "
                    "thumbnail:")
            st.slider("Pen width (px on the canvas)", 4, 60, 14 if model.config.task == "edges"
                      else 40, key=self.key("stroke"))
            uploaded, note, error = upload_input(self.key("image_upload"),
                                                 "…or upload an image (PNG, JPEG, …)")
            kind = st.radio("The upload is", ["a garment picture (the model gets its input "
                                              "by the same filter)",
                                              "already the input (an outline or thumbnail)"],
                            key=self.key("upload_kind"))
        with right:
            if error:
                st.error(error)
            source_picture, how = None, ""
            if uploaded is not None:
                source_picture = uploaded
                how = note
                made = task.make_input(uploaded) if kind.startswith("a garment") \
                    else task.from_drawing(uploaded)
            elif drawn is not None:
                source_picture, how = drawn, "your drawing"
                made = task.from_drawing(drawn)
            if source_picture is None:
                st.info(message or "Draw on the canvas (or upload an image): the garment the "
                        "model makes from it appears here.")
            else:
                inputs = from_unit(made)
                torch.manual_seed(0)
                output = model.translate(inputs, dropout=noisy)
                caption = class_caption(judge, output, names)[0]
                show_picture(torch.cat([inputs, output]),
                             f"input the model reads ({how}) → its output"
                             + (f": the shipped CNN sees {caption}" if caption else ""),
                             self.key("drawn-output"), download=True, max_width=260)
                charts.plot(drawing_map_figure(model, inputs, output), self.key("drawn-map"))
        self.test_pairs(model, judge, names, noisy)
        self.measured(payload)

    def test_pairs(self, model, judge, names, noisy: bool) -> None:
        st.subheader("Test images: input / output / truth")
        count = len(model.pairs.test_inputs)
        index = st.number_input(f"Test pair (0–{count - 1})", 0, count - 1, 0,
                                key=self.key("test_index"))
        inputs, targets, labels = model.test_pairs(torch.tensor([int(index)]))
        torch.manual_seed(0)
        output = model.translate(inputs, dropout=noisy).cpu()
        captions = class_caption(judge, torch.cat([output, targets]), names)
        show_picture(torch.cat([inputs, output, targets]),
                     f"input → output → truth ({names[int(labels[0])]}); L1 "
                     f"{float((output - targets).abs().mean()):.3f}"
                     + (f"; the CNN sees the output as {captions[0]}" if captions[0] else ""),
                     self.key("test-pair"))
        st.markdown("**What D looks at** — the same D on the generated pair and on the "
                    "real one; each cell is one patch's verdict.")
        probability = model.config.gan_loss == "bce"
        maps = model.patch_map(torch.cat([inputs, inputs]), torch.cat([output, targets]))
        first, second = st.columns(2)
        charts.plot(patch_map_figure(maps[0], model.patch_size(), "(input, output)",
                                     probability), self.key("map-fake"), container=first)
        charts.plot(patch_map_figure(maps[1], model.patch_size(), "(input, truth)",
                                     probability), self.key("map-real"), container=second)
        start = (int(index) // ROW) * ROW
        chosen = torch.arange(start, min(start + ROW, count))
        inputs, targets, _ = model.test_pairs(chosen)
        torch.manual_seed(0)
        show_picture(torch.cat([inputs, model.translate(inputs, dropout=noisy).cpu(), targets]),
                     f"test pairs {start}–{start + len(chosen) - 1}: inputs, outputs, truths",
                     self.key("test-row"), scale=3, columns=len(chosen), download=True)

    def measured(self, payload: dict) -> None:
        figures = (payload.get("evaluation") or {}).get("figures")
        if figures and "quality/class_accuracy" in figures:
            st.caption(f"Measured when this model finished (up to 2,000 test pairs): the shipped "
                       f"CNN puts {figures['quality/class_accuracy']:.1%} of the outputs in "
                       f"their truth's class ({figures['quality/class_accuracy_real']:.1%} of "
                       f"the truths themselves); Fréchet distance to the real images "
                       f"{figures['quality/frechet_distance']:.1f} (the raw inputs: "
                       f"{figures['quality/frechet_distance_inputs']:.1f}); L1 "
                       f"{figures['quality/l1']:.3f}.")

    def after(self) -> None:
        ablation()


def ablation() -> None:
    """The paper's Table 1, measured here: the same settings trained three ways and judged on the
    same test inputs (``bench/translation.py ablation`` writes it)."""
    st.divider()
    st.subheader("The paper's ablation: L1 only, cGAN only, cGAN + L1")
    st.caption("Isola et al. (Table 1, Cityscapes labels → photos) found L1 alone blurry, the cGAN "
               "alone sharp but with artefacts, and both together best. Here the same settings "
               "were trained three ways ("
               + ", ".join(f"**{title}**" for title in ABLATION)
               + ") and measured on the same test inputs. Train any of them yourself with the "
               "presets *L1 only* and *cGAN only*.")
    if not MEASURED.exists():
        st.info("Not measured on this machine yet: `python bench/translation.py ablation` "
                "trains the three and writes the table and the images.")
        return
    result = json.loads(MEASURED.read_text())
    st.image(base64.b64decode(result["image_png"]),
             caption="rows: input, " + ", ".join(row["variant"] for row in result["rows"])
             + ", truth — the same test inputs")
    table = pd.DataFrame([{"objective": row["variant"], "L1 (lower: closer to the truth)":
                           round(row["l1"], 4),
                           "Fréchet distance (lower: more like real images)":
                           round(row["frechet_distance"], 1),
                           "outputs in the truth's class": f"{row['class_accuracy']:.1%}"}
                          for row in result["rows"]])
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(f"Each trained {result['steps']:,} steps with {result['settings']} on "
               f"{result.get('device', 'this machine')}, measured on "
               f"{result['count']:,} test pairs (`{result['command']}`). {result.get('note', '')}")
