""""Compare with…" on every model page: the current settings become A, the learner changes the
form for B, and both train on the same seeds; or a small sweep of one or two settings.

The plans and the queueing are ``core.compare``'s; this only draws the controls. The comparison
itself is shown on the Compare page (``ui/compare_views.py``).
"""
from __future__ import annotations

import dataclasses

import streamlit as st

from core import compare
from core.config import ConfigError, from_dict
from core.data.fashion_mnist import DataUnavailable
from core.data.text import CorpusError
from core.demo import LimitError
from core.i18n import _, ngettext
from core.jobs import manager
from ui import state

COMPARE_PAGE = "views/compare.py"
OPEN = "compare.open"     # the comparison the Compare page shows next


def open_comparison(comparison_id: str) -> None:
    st.session_state[OPEN] = comparison_id
    st.switch_page(COMPARE_PAGE)


def _launch(panel, arms, config, kind: str, axes=None) -> None:
    try:
        data = panel.load_data(config)
        check = getattr(data, "check", None)
        if check:
            check()
        comparison = compare.launch(manager(), panel.spec, arms, data, owner=state.owner(),
                                    kind=kind, axes=axes)
    except (ConfigError, LimitError, DataUnavailable, CorpusError) as error:
        st.session_state[panel.key("compare", "error")] = str(error)
        st.rerun()
    open_comparison(comparison.id)


def _changes(a: dict, b: dict) -> str:
    fields = compare.differing_fields([a, b])
    return ", ".join(f"{name}: {compare.format_value(a[name])} → {compare.format_value(b[name])}"
                     for name in fields)


def compare_controls(panel, config) -> None:
    """Under Train/Stop: A/B with k seeds, or a small sweep."""
    a = st.session_state.get(panel.key("compare", "a"))
    with st.expander(_("Compare with…"), expanded=a is not None):
        error = st.session_state.pop(panel.key("compare", "error"), None)
        if error:
            st.error(error)
        ab, sweep = st.tabs([_("A / B"), _("Small sweep")])
        with ab:
            ab_controls(panel, config, a)
        with sweep:
            sweep_controls(panel, config)


def ab_controls(panel, config, a: dict | None) -> None:
    if a is None:
        st.caption(_("Take these settings as **A**, then change any setting above for **B**. "
                     "Both train on the same seeds (the same initial weights and batch order), so "
                     "what differs is only what you changed."))
        if st.button(_("Use these settings as A"), key=panel.key("compare", "take"),
                     disabled=config is None, width="stretch"):
            st.session_state[panel.key("compare", "a")] = dataclasses.asdict(config)
            st.rerun()
        return
    b = dataclasses.asdict(config) if config is not None else None
    changes = _changes(a, {**b, "seed": a["seed"]}) if b else ""
    if changes:
        st.markdown(_("**A** is set (seed {seed}). **B** = the settings above: {changes}.").format(
            seed=a["seed"], changes=changes))
    else:
        st.markdown(_("**A** is set (seed {seed}). **B** = the settings above — still the same "
                      "as A: change a setting.").format(seed=a["seed"]))
    seeds = st.slider(_("Seeds per arm"), compare.MIN_SEEDS, compare.MAX_SEEDS, 3,
                      key=panel.key("compare", "seeds"),
                      help=_("each arm trains once per seed (A and B on the same seeds); 2–5 "
                             "seeds show how much a result moves from seed to seed"))
    go, forget = st.columns(2)
    if go.button(ngettext("Train A and B ({n} run)", "Train A and B ({n} runs)",
                          2 * seeds).format(n=2 * seeds), type="primary", width="stretch",
                 key=panel.key("compare", "run"), disabled=not changes):
        try:
            arms = compare.plan_ab(panel.spec, from_dict(panel.spec.config_cls, a), config, seeds)
        except ConfigError as error:
            st.error(str(error))
            return
        st.session_state.pop(panel.key("compare", "a"), None)
        _launch(panel, arms, config, "ab")
    if forget.button(_("Forget A"), key=panel.key("compare", "forget"), width="stretch"):
        st.session_state.pop(panel.key("compare", "a"), None)
        st.rerun()


def sweep_controls(panel, config) -> None:
    st.caption(_("One or two settings over a few values (comma-separated), from the settings "
                 "above; every cell trains on the same seeds. The result is a heatmap of the "
                 "final figure."))
    names = [f.name for f in dataclasses.fields(panel.spec.config_cls)
             if f.name not in compare.NOT_A_DIFFERENCE and not f.metadata.get("hidden")]
    first, second = st.columns(2)
    name_1 = first.selectbox(_("Setting"), names, key=panel.key("sweep", "field1"))
    values_1 = first.text_input(_("Values"), key=panel.key("sweep", "values1"),
                                placeholder=_("e.g. 0.001, 0.003"))
    name_2 = second.selectbox(_("Second setting"), ["(none)"] + names,
                              key=panel.key("sweep", "field2"),
                              format_func=lambda name: _("(none)") if name == "(none)" else name)
    values_2 = second.text_input(_("Values"), key=panel.key("sweep", "values2"),
                                 disabled=name_2 == "(none)")
    seeds = st.slider(_("Seeds per cell"), compare.MIN_SEEDS, compare.MAX_SEEDS, 1,
                      key=panel.key("sweep", "seeds"))
    if st.button(_("Queue the sweep"), key=panel.key("sweep", "run"), width="stretch",
                 disabled=config is None or not values_1.strip()):
        try:
            axes = [(name_1, compare.parse_values(panel.spec, name_1, values_1, config))]
            if name_2 != "(none)":
                axes.append((name_2, compare.parse_values(panel.spec, name_2, values_2, config)))
            arms = compare.plan_sweep(panel.spec, config, axes[0],
                                      axes[1] if len(axes) > 1 else None, seeds)
        except ConfigError as error:
            st.error(str(error))
            return
        _launch(panel, arms, config, "sweep",
                [{"name": name, "values": values} for name, values in axes])
