"""SAGAN's page: the hinge charts with γ over training (how much G and D came to use attention),
the class explorer, and the attention viewer (pick an image and a pixel, see where it looks)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.i18n import _
from core.models.gans.sagan import NAME
from ui import charts
from ui.panels.conditional import ConditionalGANPanel, attention_viewer


def gamma_figure(frame: pd.DataFrame) -> go.Figure:
    """γ of G's and D's attention blocks: 0 at the start (the block is the identity); how far it
    moves is how much each network came to use attention."""
    figure = charts.lines(frame, {f"{NAME}/gamma_g": _("γ in G (16×16)"),
                                  f"{NAME}/gamma_d": _("γ in D (16×16)")},
                          _("Attention strength γ"), "γ",
                          subtitle=_("over training; it starts at 0 (the block adds nothing)"))
    figure.add_hline(y=0, line_dash="dot", line_color="gray")
    return figure


class SAGANPanel(ConditionalGANPanel):

    def model_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        if config.get("self_attention", True):
            charts.plot(gamma_figure(frame), f"{key}.gamma")
        else:
            st.caption(_("No attention in this run (γ fixed at 0)."))

    def explorer_extras(self, model, key: str) -> None:
        attention_viewer(self, model, key)
