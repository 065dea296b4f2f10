"""CycleGAN's page: both G losses, both D losses, the cycle and identity terms while it trains;
then round trips A → B → A and B → A → B of test images with their cycle errors, an image of
domain A of your own (drawn or uploaded), and the λ = 0 model under the shipped one."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from core import checkpoints, gan_eval
from core.data.fashion_mnist import DataUnavailable
from core.i18n import N_, _
from core.models.translation.cyclegan import NO_CYCLE
from core.paths import shipped_checkpoint
from core.wording import with_article
from ui import charts, state
from ui.translation_views import (TranslationPanel, class_caption, drawing_input, from_unit,
                                  show_picture, upload_input)

ROW = 8
THIS_MODEL, NO_CYCLE_MODEL = N_("this model"), N_("λ = 0 model")   # rows' labels (and keys)


class CycleGANPanel(TranslationPanel):

    preview_caption = N_("fixed test images — rows: A, A → B, back to A; B, B → A, back to B")

    def model_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        loss = _("least squares") if config.get("gan_loss") != "bce" else "BCE"
        charts.plot(charts.lines(frame, {"loss/generator_ab": _("G_AB (fool D_B)"),
                                         "loss/generator_ba": _("G_BA (fool D_A)"),
                                         "loss/discriminator_a": "D_A",
                                         "loss/discriminator_b": "D_B"},
                                 _("Both generators, both discriminators"), loss, smooth=True,
                                 subtitle=_("their adversarial losses ({loss})").format(
                                     loss=loss)), f"{key}.both")
        charts.plot(charts.lines(frame, {"loss/cycle_a": _("cycle |G_BA(G_AB(a)) − a|"),
                                         "loss/cycle_b": _("cycle |G_AB(G_BA(b)) − b|"),
                                         "loss/identity_a": _("identity |G_BA(a) − a|"),
                                         "loss/identity_b": _("identity |G_AB(b) − b|")},
                                 _("Cycle and identity terms"), _("mean |difference|"),
                                 smooth=True,
                                 subtitle=_("unweighted; the loss weighs them λ = {cycle:g} and "
                                            "{identity:g}").format(
                                     cycle=config.get("lambda_cycle", 10),
                                     identity=config.get("lambda_identity", 5))), f"{key}.cycle")
        figure = charts.lines(frame, {"translation/accuracy_ab": _("A → B classified as B"),
                                      "translation/accuracy_ba": _("B → A classified as A"),
                                      "cycle/ratio": _("cycle error / distance to another image"),
                                      "diversity/ratio": _("diversity (translations / real)")},
                              _("Test checks"), _("share or ratio"),
                              subtitle=_("shipped CNN, fixed test images; dashed: the round trip "
                                         "is broken above it"))
        t = self.spec.health.thresholds
        steps = charts.series(frame, "cycle/ratio")["step"].tolist() if not frame.empty else []
        charts.reference_line(figure, steps, t.cycle_broken, _("round trip broken above"),
                              "firebrick")
        charts.plot(figure, f"{key}.checks")

    def final_summary(self, final: dict) -> str:
        if "translation/accuracy_ab" in final:
            return _(" — A → B classified as B {ab:.0%}, B → A as A {ba:.0%}, cycle error "
                     "{error_a:.3f} / {error_b:.3f}").format(
                         ab=final["translation/accuracy_ab"], ba=final["translation/accuracy_ba"],
                         error_a=final["cycle/error_a"], error_b=final["cycle/error_b"])
        return ""

    # The finished model --------------------------------------------------------------------------
    def explorer(self, source) -> None:
        found = self.loaded(source)
        if found is None:
            return
        model, key, payload = found
        judge = gan_eval.shipped_judge()
        name_a, name_b = model.class_names()
        st.subheader(_("Round trips: {a} → {b} → {a}, and back").format(a=_(name_a),
                                                                          b=_(name_b)))
        st.caption(_("No pair was ever shown: G_AB learned what a {b} looks like from D_B, and "
                     "the cycle term makes G_BA(G_AB(a)) give a back — the cycle error is the "
                     "mean |a − G_BA(G_AB(a))| on images in [−1, 1].").format(b=_(name_b)))
        comparison = self.no_cycle_model()
        for domain, (this, other) in (("a", (name_a, name_b)), ("b", (name_b, name_a))):
            count = len(model.test_images(domain))
            start = st.number_input(_("First test image of {name} (0–{last})").format(
                                        name=_(this), last=count - 1), 0,
                                    max(count - ROW, 0), 0, step=ROW,
                                    key=self.key("start", domain))
            chosen = torch.arange(int(start), min(int(start) + ROW, count))
            images = model.test_images(domain, chosen)
            # One above the other: a round trip is 8 images of 64 px a row, the view's width.
            for label, shown in ((THIS_MODEL, model), (NO_CYCLE_MODEL, comparison)):
                if shown is not None:
                    self.round_trip_row(shown, images, domain, this, other, judge, label)
        self.own_image(model, judge, name_a, name_b)
        self.measured(payload, comparison)

    def round_trip_row(self, model, images, domain: str, this: str, other: str, judge,
                       label: str) -> None:
        translated, back, errors = model.round_trip(images, domain)
        names = gan_eval.CLASS_NAMES
        captions = class_caption(judge, translated, names)     # class names in this language
        right = sum(caption.startswith(_(other)) for caption in captions)
        shown = _("{label} — rows: {this}, → {other}, back to {this}; cycle error {error:.3f} "
                  "(per image: {errors}); the CNN calls {right} of {count} translations "
                  "{other}") if judge is not None else \
            _("{label} — rows: {this}, → {other}, back to {this}; cycle error {error:.3f} "
              "(per image: {errors})")
        show_picture(torch.cat([images, translated, back]),
                     shown.format(label=_(label), this=_(this), other=_(other),
                                  error=float(errors.mean()),
                                  errors=", ".join(f"{float(e):.2f}" for e in errors),
                                  right=right, count=len(images)),
                     self.key("row", domain, label), scale=3, columns=len(images))

    def no_cycle_model(self):
        """The λ = 0 preset's model, when one is shipped (``checkpoints/cyclegan_no_cycle.pt``)."""
        path = shipped_checkpoint(NO_CYCLE)
        if not path.exists():
            return None
        if not st.toggle(_("Show the λ = 0 model under it (cycle and identity terms off)"),
                         value=True, key=self.key("compare")):
            return None
        try:
            found = self.loaded(path)
        except checkpoints.CheckpointError as error:
            st.warning(_("The λ = 0 checkpoint cannot be read: {error}").format(error=error))
            return None
        return found[0] if found else None

    def own_image(self, model, judge, name_a: str, name_b: str) -> None:
        # The class names in this language (with_article adds "a"/"an" in English only).
        shown_a, shown_b = with_article(_(name_a)), with_article(_(name_b))
        st.subheader(_("Your own {name}").format(name=_(name_a)))
        left, right = st.columns([1.05, 1])    # the 280 px canvas fits the left one
        with left:
            drawn, message = drawing_input(self.key("canvas"), 24,
                                           _("Draw {garment} (white on black, filled in):")
                                           .format(garment=shown_a))
            uploaded, note, error = upload_input(self.key("image_upload"),
                                                 _("…or upload a picture of {garment}")
                                                 .format(garment=shown_a))
        with right:
            if error:
                st.error(error)
            chosen, how = (uploaded, note) if uploaded is not None else (drawn,
                                                                          _("your drawing"))
            if chosen is None:
                st.info(message or _("Draw or upload {garment}: its translation into {target} "
                                     "and the round trip back appear here.").format(
                                         garment=shown_a, target=shown_b))
                return
            image = from_unit(chosen)
            translated, back, errors = model.round_trip(image, "a")
            captions = class_caption(judge, torch.cat([image, translated]), gan_eval.CLASS_NAMES)
            shown = _("{how}: yours → {target} → back; cycle error {error:.3f}; the CNN sees "
                      "yours as {yours} and the translation as {translation}") if captions[0] \
                else _("{how}: yours → {target} → back; cycle error {error:.3f}")
            show_picture(torch.cat([image, translated, back]),
                         shown.format(how=how, target=_(name_b), error=float(errors[0]),
                                      yours=captions[0], translation=captions[1]),
                         self.key("own"), download=True, max_width=260)

    def measured(self, payload: dict, comparison) -> None:
        figures = (payload.get("evaluation") or {}).get("figures") or {}
        if "translation/accuracy_ab" not in figures:
            return
        rows = [(THIS_MODEL, figures)]
        if comparison is not None:
            try:
                other = state.load_checkpoint_file(shipped_checkpoint(NO_CYCLE))
                rows.append((NO_CYCLE_MODEL,
                             (other.get("evaluation") or {}).get("figures") or {}))
            except (checkpoints.CheckpointError, DataUnavailable):
                pass
        table = pd.DataFrame([{
            _("model"): _(label),
            _("A → B classified as B"): f"{f.get('translation/accuracy_ab', 0):.1%}",
            _("B → A classified as A"): f"{f.get('translation/accuracy_ba', 0):.1%}",
            _("cycle error A"): round(f.get("cycle/error_a", float("nan")), 3),
            _("cycle error B"): round(f.get("cycle/error_b", float("nan")), 3)}
            for label, f in rows])
        st.markdown(_("**Measured when the model finished** (test images of each domain, "
                      "shipped CNN):"))
        st.dataframe(table, hide_index=True, width="stretch")
