"""The GAN pages: the dataset picker, the GAN's training charts, the latent explorer and the
Inside views (the monitor, the remedies and the sample scrubber are ``ui/adversarial_views.py``'s).

``GANPanel`` is the GAN family's page; a model with its own widgets subclasses it in
``ui/panels/`` and overrides a hook (``training_charts``, ``explorer``, ``after``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core.i18n import N_, _
from core.models.gans.base import slerp, to_uint8
from ui import charts, datasets, inside_views
from ui.adversarial_views import AdversarialPanel, model_for, show_grid, source_payload

PATHS = (N_("spherical"), N_("linear"))   # the interpolation's path: values the code compares


class GANPanel(AdversarialPanel):

    # Data ----------------------------------------------------------------------------------------
    def data_controls(self) -> None:
        datasets.picker(self.spec)

    def load_data(self, config):
        return datasets.load(self.spec)

    # Charts --------------------------------------------------------------------------------------
    def training_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """The tutorial's diagnostics: losses with its bands, D's outputs and accuracy, diversity
        and classes covered, gradient norms."""
        health = self.spec.health
        t = health.thresholds
        # One a row: at 1400 px the view column is ≈ 570 px, too narrow for two with titles.
        charts.plot(charts.gan_loss_figure(frame, t, health.equilibrium_d_loss,
                                           _(health.loss_name)), f"{key}.loss")
        charts.plot(charts.d_outputs_figure(frame), f"{key}.dout")
        st.caption(self.spec.health.chart_notes["d_outputs"])
        charts.plot(charts.d_accuracy_figure(frame, t.d_accuracy_healthy), f"{key}.dacc")
        charts.plot(charts.diversity_figure(frame, t.collapse_diversity, t.collapse_nearest),
                    f"{key}.div")
        charts.plot(charts.grad_norm_figure(frame), f"{key}.grad")
        st.caption(self.spec.health.chart_notes["grad_norm"])

    # The finished model --------------------------------------------------------------------------
    def explorer(self, source) -> None:
        """Latent exploration: a grid from a seed; interpolation between two seeds; PNGs."""
        loaded = source_payload(source)
        if loaded is None:
            return
        payload, key = loaded
        model = model_for(key, payload)
        st.subheader(_("Explore the latent space"))
        # One above the other: 8 images a row at 64 px or more take the view column's width.
        left, _right = st.columns([1, 2])
        seed = left.number_input(_("Seed of the noise z"), 0, 2**31 - 1, 0, key=self.key("seed"))
        z = model.noise(64, torch.Generator().manual_seed(int(seed)))  # the model's own prior
        show_grid(to_uint8(model.generate(z)), _("64 samples, seed {seed}").format(seed=seed),
                  f"{self.name}-seed{seed}")
        with st.container():
            first, second, method = st.columns([1, 1, 1.3])
            seed_a = first.number_input(_("From seed"), 0, 2**31 - 1, 1, key=self.key("seed_a"))
            seed_b = second.number_input(_("To seed"), 0, 2**31 - 1, 2, key=self.key("seed_b"))
            kind = method.radio(_("Path"), list(PATHS), key=self.key("path"),
                                horizontal=True, format_func=lambda path: _(path))
            rows = 4
            start = model.noise(rows, torch.Generator().manual_seed(int(seed_a)))
            end = model.noise(rows, torch.Generator().manual_seed(int(seed_b)))
            steps = np.linspace(0, 1, 8)
            path = [slerp(start, end, float(t)) if kind == "spherical" else (1 - t) * start + t * end
                    for t in steps]
            z = torch.stack(path, dim=1).reshape(rows * len(steps), -1)  # row r: a -> b
            show_grid(to_uint8(model.generate(z)), _("{rows} interpolations, seed {seed_a} → "
                                                     "{seed_b} ({path})").format(
                rows=rows, seed_a=seed_a, seed_b=seed_b, path=_(kind)),
                f"{self.name}-interp{seed_a}-{seed_b}")
        self.explorer_extras(model, key)

    def explorer_extras(self, model, key: str) -> None:
        """More views of a finished model, below the explorer (BEGAN: what its D keeps)."""

    def inside(self, source) -> None:
        """Below the explorer: D's scores over training and now, what D's gradient asks of a
        generated image, its nearest training images (``ui/inside_views.py``)."""
        inside_views.gan_inside(self, source, model_for)
