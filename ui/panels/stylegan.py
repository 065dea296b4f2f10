"""StyleGAN's page: R1 and w charts beside the tutorial's, and below the seed explorer the views
the paper made famous — the style-mixing grid with a crossover select, truncation in W (a ψ slider
and a row ψ = 0 … 1), the noise inputs (resample only the noise, switch it off per layer),
interpolation in Z and in W side by side, and the perceptual path length in Z vs W measured on the
loaded model."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from core import gan_eval
from core.i18n import _
from core.models.gans.base import slerp, to_uint8
from core import figures
from core.models.gans.stylegan import (MEASURED_PATHS, crossover_after, image_features,
                                       page_measurements)
from ui import charts, pictures
from ui.adversarial_views import show_grid, source_payload
from ui.gan_views import GANPanel

MIX_ROWS, MIX_COLUMNS = 5, 6          # the style-mixing grid: coarse sources x fine sources
PSI_VALUES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
NOISE_DRAWS = 16                      # noise maps drawn for the per-pixel standard deviation
STEPS = 8                             # frames of an interpolation (64 px each: the view's width)


# Training charts ---------------------------------------------------------------------------------

def r1_figure(frame: pd.DataFrame, gamma: float, every: int) -> go.Figure:
    figure = charts.lines(frame, {"stylegan/r1": _("|∇D(x)|² on real images")},
                          _("R1: D's gradient at real images"), "|∇D(x)|²", smooth=True,
                          subtitle=_("penalty γ/2·|∇D(x)|², γ = {gamma:g}, every {every} "
                                     "steps").format(gamma=gamma, every=every))
    values = charts.series(frame, "stylegan/r1")["value"] if not frame.empty else []
    figure.update_layout(yaxis=dict(type="log", **charts.log_ticks(values)))
    return figure


def w_figure(frame: pd.DataFrame) -> go.Figure:
    figure = charts.lines(frame, {"stylegan/w_spread": _("w spread (mean |w − w̄|)"),
                                  "stylegan/w_average_norm": _("|w̄| (tracked average, for ψ)")},
                          _("The style space W"), _("distance"), smooth=True,
                          subtitle=_("noise strength on the right axis"))
    strength = charts.series(frame, "stylegan/noise_strength")
    figure.add_scatter(x=strength["step"], y=strength["value"], mode="lines", yaxis="y2",
                       name=_("mean |noise strength|"), line=dict(dash="dot"))
    figure.update_layout(yaxis2=dict(title=_("noise strength"), overlaying="y", side="right",
                                     rangemode="tozero"))
    return figure


# Helpers -----------------------------------------------------------------------------------------

def seeded_z(model, seeds) -> torch.Tensor:
    """One z per seed: (len(seeds), z size), the first draw of that random seed from the model's prior."""
    return torch.cat([model.noise(1, torch.Generator().manual_seed(int(seed))) for seed in seeds])


def judge_for_model(model):
    """The shipped CNN for grey models (it reads Fashion-MNIST), else None."""
    return gan_eval.shipped_judge() if model.image_shape[0] == 1 else None


def classes_of(judge, images: torch.Tensor) -> list[int]:
    return judge.logits_and_features(images)[0].argmax(1).tolist()


def blank_like(images: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(images[:1])                                   # a white cell


@st.cache_resource(show_spinner=False, max_entries=8)
def _measured(key: str, _model) -> dict | None:
    return page_measurements(_model, judge_for_model(_model))


def measurements(payload: dict, key: str, model) -> dict | None:
    """Stored with the checkpoint (at export, or when its run finished), or measured now, once."""
    stored = figures.stored(payload, "measurements")
    if stored:
        return stored
    evaluation = payload.get("evaluation") or {}
    if evaluation.get("ppl") and evaluation.get("mixing"):
        return evaluation
    # The spinner in the page's language (a cache decorator's text is fixed at import).
    with st.spinner(_("Measuring path lengths in Z and in W and style mixing on {paths:,} paths "
                      "...").format(paths=MEASURED_PATHS)):
        return _measured(key, model)


class StyleGANPanel(GANPanel):

    def training_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """The tutorial's diagnostics (with this model's bands), then R1 and the style space."""
        super().training_charts(frame, key, config)
        charts.plot(r1_figure(frame, float(config.get("r1_gamma", 0)),
                              int(config.get("r1_every", 16))), f"{key}.r1")
        st.caption(self.spec.health.chart_notes["r1"])
        charts.plot(w_figure(frame), f"{key}.w")

    def explorer(self, source) -> None:
        loaded = source_payload(source)
        if loaded is None:
            return
        self.payload = loaded[0]
        super().explorer(source)

    def explorer_extras(self, model, key: str) -> None:
        judge = judge_for_model(model)
        style_mixing(self, model, judge)
        truncation(self, model)
        noise_inputs(self, model)
        interpolation(self, model, judge)
        path_length_section(model, measurements(getattr(self, "payload", {}), key, model))

    def after(self) -> None:
        about(self.spec)


# The style-mixing grid ---------------------------------------------------------------------------

def crossover_label(model, crossover: int) -> str:
    resolutions = model.resolutions
    return _("layer {crossover}: rows give layers 0–{last_coarse} ({coarse_low}–{coarse_high} "
             "px), columns layers {crossover}–{last} ({fine_low}–{fine_high} px)").format(
                 crossover=crossover, last_coarse=crossover - 1, last=len(resolutions) - 1,
                 coarse_low=resolutions[0], coarse_high=resolutions[crossover - 1],
                 fine_low=resolutions[crossover], fine_high=resolutions[-1])


def style_mixing(panel, model, judge) -> None:
    st.subheader(_("Style mixing"))
    st.caption(_("The paper's figure: every cell takes its **coarse** styles (the layers below "
                 "the crossover) from its row's seed and its **fine** styles from its column's "
                 "seed. Coarse layers (4–8 px) decide the silhouette and the kind of garment, the "
                 "middle (16 px) the details of the shape, the fine ones (32 px) texture and "
                 "shading."))
    first, second, third = st.columns([1, 1, 2.4])
    row_seed = first.number_input(_("Row seeds (coarse) from"), 0, 2**31 - 1, 10,
                                  key=panel.key("mix", "rows"))
    column_seed = second.number_input(_("Column seeds (fine) from"), 0, 2**31 - 1, 100,
                                      key=panel.key("mix", "columns"))
    options = list(range(1, model.layer_count))
    crossover = third.selectbox(_("Crossover layer"), options,
                                index=options.index(crossover_after(model.resolutions, 8)),
                                format_func=lambda value: crossover_label(model, value),
                                key=panel.key("crossover"))
    w_rows = model.styles(seeded_z(model, range(row_seed, row_seed + MIX_ROWS)))
    w_columns = model.styles(seeded_z(model, range(column_seed, column_seed + MIX_COLUMNS)))
    rows_images, column_images = model.synthesize(w_rows), model.synthesize(w_columns)
    mixed = model.mixed(w_rows.repeat_interleave(MIX_COLUMNS, 0), w_columns.repeat(MIX_ROWS, 1),
                        crossover)                                        # row by row
    cells = [blank_like(column_images), column_images]
    for row in range(MIX_ROWS):
        cells += [rows_images[row:row + 1], mixed[row * MIX_COLUMNS:(row + 1) * MIX_COLUMNS]]
    picture = pictures.readable_grid(to_uint8(torch.cat(cells)), columns=MIX_COLUMNS + 1)
    pictures.show(picture, _("top row: the column seeds {column_first}–{column_last} (fine "
                             "styles); left column: the row seeds {row_first}–{row_last} (coarse "
                             "styles); crossover at {crossover}").format(
                                 column_first=column_seed,
                                 column_last=column_seed + MIX_COLUMNS - 1, row_first=row_seed,
                                 row_last=row_seed + MIX_ROWS - 1,
                                 crossover=crossover_label(model, crossover)),
                  download="stylegan-mixing")
    if judge is None:
        return
    row_classes, column_classes = classes_of(judge, rows_images), classes_of(judge, column_images)
    mixed_classes = classes_of(judge, mixed)
    follows_row = sum(mixed_classes[i] == row_classes[i // MIX_COLUMNS]
                      for i in range(len(mixed_classes)))
    follows_column = sum(mixed_classes[i] == column_classes[i % MIX_COLUMNS]
                         for i in range(len(mixed_classes)))
    st.markdown(_("In this grid the shipped CNN gives **{follows_row} of {cells}** cells their "
                  "row's class (coarse source) and {follows_column} their column's (fine source). "
                  "Move the crossover up and the rows decide more; down, the columns.").format(
                      follows_row=follows_row, cells=len(mixed_classes),
                      follows_column=follows_column))


# Truncation in W ---------------------------------------------------------------------------------

def truncation(panel, model) -> None:
    st.subheader(_("Truncation in W"))
    st.caption(_("w' = w̄ + ψ (w − w̄): ψ pulls every style toward the tracked average w̄. ψ = 0 "
                 "draws the *average garment* for every seed, ψ < 1 trades variety for typical, "
                 "clean images, ψ > 1 exaggerates what makes each sample different."))
    left, right = st.columns([2, 1])
    psi = left.slider(_("ψ (truncation)"), 0.0, 2.0, 0.7, 0.05, key=panel.key("psi"),
                      help=_("a weight towards the average style: w' = w̄ + ψ(w − w̄); 0 = the "
                             "average w for every seed, 1 = no truncation, > 1 exaggerates "
                             "(BigGAN's ψ is a threshold on z instead, where small = strong "
                             "truncation)"))
    seed = right.number_input(_("Seeds from"), 0, 2**31 - 1, 0, key=panel.key("psi", "seed"))
    z = seeded_z(model, range(seed, seed + 8))
    show_grid(to_uint8(model.synthesize(model.styles(z, psi=psi))),
              _("8 seeds from {seed} at ψ = {psi:.2f}").format(seed=seed, psi=psi),
              f"stylegan-psi{psi:.2f}", columns=8)
    w = model.styles(z[:4])
    rows = [model.synthesize(model.w_average().lerp(w, value)) for value in PSI_VALUES]
    images = torch.stack(rows, dim=1).flatten(0, 1)                        # (4 * psis, C, H, W)
    show_grid(to_uint8(images), _("rows: 4 seeds; columns: ψ = {values} (the first column is the "
                                  "average garment, the same for every seed)").format(
                                      values=", ".join(f"{value:g}" for value in PSI_VALUES)),
              "stylegan-psi-row", columns=len(PSI_VALUES))


# Noise inputs ------------------------------------------------------------------------------------

def noise_inputs(panel, model) -> None:
    st.subheader(_("Noise inputs"))
    if not model.config.use_noise:
        st.info(_("This model was trained without noise inputs (the *Noise off* preset): every "
                  "detail comes from w."))
        return
    strengths = model.noise_strengths()
    labels = [_("{layer} (strength {value:+.3f})").format(layer=label, value=value)
              for label, value in zip(model.layer_labels(), strengths)]
    st.caption(_("Every conv layer adds a fresh noise map times a learned strength. Same w, new "
                 "noise: what changes is what the noise decides (folds, texture, a stray pixel); "
                 "the garment stays. Learned strengths: {strengths}.").format(
                     strengths=", ".join(f"{resolution} px {value:+.3f}" for resolution, value
                                         in zip(model.resolutions, strengths))))
    left, right = st.columns([1, 2.4])
    seed = left.number_input(_("Seeds from"), 0, 2**31 - 1, 20, key=panel.key("noise", "seed"))
    enabled = right.multiselect(_("Noise on in these layers"), list(range(model.layer_count)),
                                default=list(range(model.layer_count)),
                                format_func=lambda index: labels[index],
                                key=panel.key("noise", "layers"))
    columns = 6
    w = model.styles(seeded_z(model, range(seed, seed + columns)))
    rows = [model.synthesize(w)] + [model.synthesize(w, noise="random", noise_seed=draw)
                                    for draw in (1, 2, 3)]
    switched = [index in enabled for index in range(model.layer_count)]
    rows.append(model.synthesize(w, noise_enabled=switched))
    draws = torch.stack([model.synthesize(w, noise="random", noise_seed=100 + draw)
                         for draw in range(NOISE_DRAWS)])                   # (D, N, C, H, W)
    spread = draws.std(0)
    rows.append(spread / spread.amax((1, 2, 3), keepdim=True).clamp(min=1e-6) * 2 - 1)
    off = [layer for layer in range(model.layer_count) if not switched[layer]]
    if off:
        caption = _("rows: the stored noise; three new noise draws (same w); noise off in layers "
                    "{layers}; the per-pixel standard deviation over {draws} noise draws (white = "
                    "where the noise changes the image most)").format(
                        layers=", ".join(map(str, off)), draws=NOISE_DRAWS)
    else:
        caption = _("rows: the stored noise; three new noise draws (same w); noise on in every "
                    "layer (switch layers off above); the per-pixel standard deviation over "
                    "{draws} noise draws (white = where the noise changes the image most)").format(
                        draws=NOISE_DRAWS)
    show_grid(to_uint8(torch.cat(rows)), caption, "stylegan-noise", columns=columns)


# Interpolation in Z and in W ---------------------------------------------------------------------

def step_distances(judge, frames: torch.Tensor, rows: int) -> np.ndarray:
    """(steps − 1,) mean distance between consecutive frames in the CNN's unit features."""
    features = image_features(judge, frames).view(rows, STEPS, -1)
    return (features[:, 1:] - features[:, :-1]).norm(dim=2).mean(0).numpy()


def interpolation(panel, model, judge) -> None:
    st.subheader(_("Interpolation in Z and in W"))
    st.caption(_("The same two seeds, walked in Z (spherical, as the other GAN pages) and in W "
                 "(straight lines between the two w). The paper's claim: W is less entangled than "
                 "Z, so the walk in W changes the image evenly, while Z, forced to follow the "
                 "data's distribution, crosses it with sudden jumps."))
    first, second = st.columns(2)
    seed_a = first.number_input(_("From seed"), 0, 2**31 - 1, 3, key=panel.key("walk", "from"))
    seed_b = second.number_input(_("To seed"), 0, 2**31 - 1, 4, key=panel.key("walk", "to"))
    rows = 3
    start = seeded_z(model, range(seed_a, seed_a + rows * 1000, 1000))
    end = seeded_z(model, range(seed_b, seed_b + rows * 1000, 1000))
    t = torch.linspace(0, 1, STEPS)
    z_path = torch.stack([slerp(start, end, float(value)) for value in t], dim=1).flatten(0, 1)
    w_start, w_end = model.styles(start), model.styles(end)
    w_path = torch.stack([w_start.lerp(w_end, float(value)) for value in t], dim=1).flatten(0, 1)
    z_frames, w_frames = model.generate(z_path), model.synthesize(w_path)
    # One above the other, so each walk's images are 64 px and Z's row lies over W's.
    show_grid(to_uint8(z_frames), _("in Z: {rows} walks from seed {first} to {second} (and two "
                                    "more pairs of seeds)").format(rows=rows, first=seed_a,
                                                                   second=seed_b),
              "stylegan-walk-z", columns=STEPS)
    show_grid(to_uint8(w_frames), _("in W: the same endpoints"), "stylegan-walk-w",
              columns=STEPS)
    if judge is None:
        return
    figure = go.Figure()
    for name, frames in ((_("in Z"), z_frames), (_("in W"), w_frames)):
        figure.add_scatter(x=list(range(1, STEPS)), y=step_distances(judge, frames, rows),
                           mode="lines+markers", name=name)
    figure.update_layout(xaxis_title=_("step"), yaxis_title=_("feature distance"),
                         **{**charts.LAYOUT, "height": 340})
    charts.titled(figure, _("How far each step moves the image"),
                  _("in the shipped CNN's features; even steps = a smooth walk"))
    charts.plot(figure, panel.key("walk", "steps"))


# Perceptual path length --------------------------------------------------------------------------

def path_length_figure(ppl: dict) -> go.Figure:
    figure = go.Figure()
    for space, label in (("z", _("in Z")), ("w", _("in W"))):
        values = np.asarray(ppl[space]["lengths"], dtype=float)
        figure.add_histogram(x=np.log10(np.clip(values, 1e-3, None)), name=label, opacity=0.6,
                             nbinsx=60)
    figure.update_layout(barmode="overlay", xaxis_title=_("log10 path length"),
                         yaxis_title=_("paths"), **{**charts.LAYOUT, "height": 360})
    return charts.titled(figure, _("Path lengths of single paths"), _("log scale"))


def path_length_section(model, measured: dict | None) -> None:
    st.subheader(_("Perceptual path length: Z vs W"))
    if not measured:
        st.info(_("Needs the shipped Fashion-MNIST CNN (checkpoints/cnn.pt) and grey images."))
        return
    ppl = measured["ppl"]
    z, w = ppl["z"]["mean"], ppl["w"]["mean"]
    st.caption(_("Karras et al. 2019: walk a tiny step ε = {epsilon:g} along a random path and "
                 "measure how much the image changes, divided by ε². Short paths mean a smooth "
                 "space. The paper measures images with VGG features (LPIPS); no weights can be "
                 "downloaded here, so this uses the shipped CNN's features (unit length), "
                 "{paths:,} paths per space, the mean between the 1st and 99th percentiles as "
                 "StyleGAN2's metric. The numbers compare Z with W on this model; they are not "
                 "the paper's units.").format(epsilon=ppl["epsilon"], paths=ppl["paths"]))
    first, second, third = st.columns(3)
    first.metric(_("PPL in Z"), f"{z:,.1f}",
                 help=_("median {median:,.1f}").format(median=ppl["z"]["median"]))
    second.metric(_("PPL in W"), f"{w:,.1f}",
                  help=_("median {median:,.1f}").format(median=ppl["w"]["median"]))
    third.metric("W / Z", f"{w / max(z, 1e-12):.2f}")
    if w < z:
        st.markdown(_("On this model the paths are **shorter in W, as the paper claims**."))
    else:
        st.markdown(_("On this model the paths are **not shorter in W: this model does not "
                      "confirm the paper's claim**."))
    if ppl["z"].get("lengths"):
        charts.plot(path_length_figure(ppl), "stylegan-ppl-histogram")
    mixing = measured.get("mixing")
    if mixing:
        st.caption(_("Style mixing measured on {pairs:,} pairs, crossing over above "
                     "{resolution} px: {coarse:.0%} of mixed images have the class of their "
                     "coarse source, {fine:.0%} that of the fine one ({coarse_differing:.0%} "
                     "follow the coarse source where the two sources differ in class).").format(
                         pairs=mixing["pairs"], resolution=mixing["resolution"],
                         coarse=mixing["coarse"], fine=mixing["fine"],
                         coarse_differing=mixing["coarse_differing"]))


# What StyleGAN changed -------------------------------------------------------------------------

def about(spec) -> None:
    t = spec.health.thresholds
    st.divider()
    st.subheader(_("What StyleGAN changed, and why"))
    st.markdown(_(
        "- **A mapping network** (a few fully connected layers, learning at 1/100 of the rate) "
        "turns z into w. z must follow a fixed Gaussian, so the generator has to warp it to fit "
        "the data; w has no such constraint, which lets its directions line up with what varies "
        "in the images (the paper's *disentanglement*, the tutorial's 特性重叠 solved).\n"
        "- **Styles per layer, from a learned constant.** The network no longer reads z at its "
        "input: it starts from a learned 4×4 tensor, and w sets every layer's style. StyleGAN "
        "did it with AdaIN; StyleGAN2 scales the convolution's weights by the style and "
        "*demodulates* them back to unit output variance, which removed AdaIN's blob artefacts. "
        "Here the same maths runs in its fast form: scale the activations, convolve, scale the "
        "output.\n"
        "- **Noise inputs** with learned strengths give the stochastic detail, so w need not.\n"
        "- **Style mixing regularisation** (90% of batches from two w) stops neighbouring layers "
        "from relying on each other's styles — what makes the mixing grid work.\n"
        "- **Truncation in W** toward the average w trades variety for typical images.\n"
        "- **Training:** the non-saturating logistic loss, an R1 penalty on D's gradient at real "
        "images (lazily, every 16 steps), Adam with β = (0, 0.99), and G's weight average for the "
        "finished images.\n\n"
        "The paper's own figures, as context only (1024 px faces, Inception features): FFHQ FID "
        "**4.40** for StyleGAN, **2.84** for StyleGAN2. This page's model draws 32 px garments "
        "and is judged with the shipped CNN, so its numbers are not comparable with those."))
    st.caption(_("Health monitor: the non-saturating logistic loss is the tutorial's BCE, so its "
                 "rules for convergence failure, mode collapse and oscillation apply unchanged. "
                 "The healthy bands differ: R1 keeps D from becoming certain, so d_loss settles "
                 "higher than the tutorial's 0.5–0.8 and D is right less often than 80%. This "
                 "page shades d_loss {d_low}–{d_high}, g_loss {g_low}–{g_high} and draws D's "
                 "accuracy line at {d_accuracy:.0%}: in a healthy run of the CPU preset d_loss "
                 "rose from 0.7 to 1.0 over its first 1,000 steps as G caught up, while D's "
                 "accuracy fell from 85% to 77% and g_loss from 2.0 to 1.5. Its garments take "
                 "shape more slowly per step than the DCGAN's (5–6 classes at step 1,050), so the "
                 "class checks wait until step {warmup:,}. R1 and the spread of w are listed as "
                 "evidence, and the remedies are StyleGAN's (a stronger R1, lower learning rates, "
                 "the weight average).").format(
                     d_low=t.d_loss_band[0], d_high=t.d_loss_band[1], g_low=t.g_loss_band[0],
                     g_high=t.g_loss_band[1], d_accuracy=t.d_accuracy_healthy,
                     warmup=t.class_warmup_steps))
