"""CycleGAN's page: both G losses, both D losses, the cycle and identity terms while it trains;
then round trips A → B → A and B → A → B of test images with their cycle errors, an image of
domain A of your own (drawn or uploaded), and the λ = 0 model under the shipped one."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from core import checkpoints, gan_eval
from core.data.fashion_mnist import DataUnavailable
from core.models.translation.cyclegan import NO_CYCLE
from core.paths import shipped_checkpoint
from core.wording import with_article
from ui import charts, state
from ui.translation_views import (TranslationPanel, class_caption, drawing_input, from_unit,
                                  show_picture, upload_input)

ROW = 8


class CycleGANPanel(TranslationPanel):

    preview_caption = "fixed test images — rows: A, A → B, back to A; B, B → A, back to B"

    def model_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        loss = "least squares" if config.get("gan_loss") != "bce" else "BCE"
        charts.plot(charts.lines(frame, {"loss/generator_ab": "G_AB (fool D_B)",
                                         "loss/generator_ba": "G_BA (fool D_A)",
                                         "loss/discriminator_a": "D_A",
                                         "loss/discriminator_b": "D_B"},
                                 "Both generators, both discriminators", loss, smooth=True,
                                 subtitle=f"their adversarial losses ({loss})"), f"{key}.both")
        charts.plot(charts.lines(frame, {"loss/cycle_a": "cycle |G_BA(G_AB(a)) − a|",
                                         "loss/cycle_b": "cycle |G_AB(G_BA(b)) − b|",
                                         "loss/identity_a": "identity |G_BA(a) − a|",
                                         "loss/identity_b": "identity |G_AB(b) − b|"},
                                 "Cycle and identity terms", "mean |difference|", smooth=True,
                                 subtitle=f"unweighted; the loss weighs them λ = "
                                 f"{config.get('lambda_cycle', 10):g} and "
                                 f"{config.get('lambda_identity', 5):g}"), f"{key}.cycle")
        figure = charts.lines(frame, {"translation/accuracy_ab": "A → B classified as B",
                                      "translation/accuracy_ba": "B → A classified as A",
                                      "cycle/ratio": "cycle error / distance to another image",
                                      "diversity/ratio": "diversity (translations / real)"},
                              "Test checks", "share or ratio", subtitle="shipped CNN, fixed test "
                              "images; dashed: the round trip is broken above it")
        t = self.spec.health.thresholds
        steps = charts.series(frame, "cycle/ratio")["step"].tolist() if not frame.empty else []
        charts.reference_line(figure, steps, t.cycle_broken, "round trip broken above",
                              "firebrick")
        charts.plot(figure, f"{key}.checks")

    def final_summary(self, final: dict) -> str:
        if "translation/accuracy_ab" in final:
            return (f" — A → B classified as B {final['translation/accuracy_ab']:.0%}, B → A as "
                    f"A {final['translation/accuracy_ba']:.0%}, cycle error "
                    f"{final['cycle/error_a']:.3f} / {final['cycle/error_b']:.3f}")
        return ""

    # The finished model --------------------------------------------------------------------------
    def explorer(self, source) -> None:
        found = self.loaded(source)
        if found is None:
            return
        model, key, payload = found
        judge = gan_eval.shipped_judge()
        name_a, name_b = model.class_names()
        st.subheader(f"Round trips: {name_a} → {name_b} → {name_a}, and back")
        st.caption("No pair was ever shown: G_AB learned what a "
                   f"{name_b} looks like from D_B, and the cycle term makes G_BA(G_AB(a)) give "
                   "a back — the cycle error is the mean |a − G_BA(G_AB(a))| on images in "
                   "[−1, 1].")
        comparison = self.no_cycle_model()
        for domain, (this, other) in (("a", (name_a, name_b)), ("b", (name_b, name_a))):
            count = len(model.test_images(domain))
            start = st.number_input(f"First test image of {this} (0–{count - 1})", 0,
                                    max(count - ROW, 0), 0, step=ROW,
                                    key=self.key("start", domain))
            chosen = torch.arange(int(start), min(int(start) + ROW, count))
            images = model.test_images(domain, chosen)
            # One above the other: a round trip is 8 images of 64 px a row, the view's width.
            for label, shown in (("this model", model), ("λ = 0 model", comparison)):
                if shown is not None:
                    self.round_trip_row(shown, images, domain, this, other, judge, label)
        self.own_image(model, judge, name_a, name_b)
        self.measured(payload, comparison)

    def round_trip_row(self, model, images, domain: str, this: str, other: str, judge,
                       label: str) -> None:
        translated, back, errors = model.round_trip(images, domain)
        names = gan_eval.CLASS_NAMES
        captions = class_caption(judge, translated, names)
        right = sum(caption.startswith(other) for caption in captions)
        show_picture(torch.cat([images, translated, back]),
                     f"{label} — rows: {this}, → {other}, back to {this}; cycle error "
                     f"{float(errors.mean()):.3f} (per image: "
                     + ", ".join(f"{float(e):.2f}" for e in errors) + ")"
                     + (f"; the CNN calls {right} of {len(images)} translations {other}"
                        if judge is not None else ""),
                     self.key("row", domain, label), scale=3, columns=len(images))

    def no_cycle_model(self):
        """The λ = 0 preset's model, when one is shipped (``checkpoints/cyclegan_no_cycle.pt``)."""
        path = shipped_checkpoint(NO_CYCLE)
        if not path.exists():
            return None
        if not st.toggle("Show the λ = 0 model under it (cycle and identity terms off)",
                         value=True, key=self.key("compare")):
            return None
        try:
            found = self.loaded(path)
        except checkpoints.CheckpointError as error:
            st.warning(f"The λ = 0 checkpoint cannot be read: {error}")
            return None
        return found[0] if found else None

    def own_image(self, model, judge, name_a: str, name_b: str) -> None:
        st.subheader(f"Your own {name_a}")
        left, right = st.columns([1.05, 1])    # the 280 px canvas fits the left one
        with left:
            drawn, message = drawing_input(self.key("canvas"), 24,
                                           f"Draw {with_article(name_a)} (white on black, filled in):")
            uploaded, note, error = upload_input(self.key("image_upload"),
                                                 f"…or upload a picture of {with_article(name_a)}")
        with right:
            if error:
                st.error(error)
            chosen, how = (uploaded, note) if uploaded is not None else (drawn, "your drawing")
            if chosen is None:
                st.info(message or f"Draw or upload {with_article(name_a)}: its translation into "
                        f"{with_article(name_b)} and the round trip back appear here.")
                return
            image = from_unit(chosen)
            translated, back, errors = model.round_trip(image, "a")
            captions = class_caption(judge, torch.cat([image, translated]), gan_eval.CLASS_NAMES)
            show_picture(torch.cat([image, translated, back]),
                         f"{how}: yours → {name_b} → back; cycle error {float(errors[0]):.3f}"
                         + (f"; the CNN sees yours as {captions[0]} and the translation as "
                            f"{captions[1]}" if captions[0] else ""),
                         self.key("own"), download=True, max_width=260)

    def measured(self, payload: dict, comparison) -> None:
        figures = (payload.get("evaluation") or {}).get("figures") or {}
        if "translation/accuracy_ab" not in figures:
            return
        rows = [("this model", figures)]
        if comparison is not None:
            try:
                other = state.load_checkpoint_file(shipped_checkpoint(NO_CYCLE))
                rows.append(("λ = 0 model", (other.get("evaluation") or {}).get("figures") or {}))
            except (checkpoints.CheckpointError, DataUnavailable):
                pass
        table = pd.DataFrame([{
            "model": label, "A → B classified as B": f"{f.get('translation/accuracy_ab', 0):.1%}",
            "B → A classified as A": f"{f.get('translation/accuracy_ba', 0):.1%}",
            "cycle error A": round(f.get("cycle/error_a", float("nan")), 3),
            "cycle error B": round(f.get("cycle/error_b", float("nan")), 3)}
            for label, f in rows])
        st.markdown("**Measured when the model finished** (test images of each domain, shipped "
                    "CNN):")
        st.dataframe(table, hide_index=True, width="stretch")
