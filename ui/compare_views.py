"""The Compare page (curves with seed bands, the table, the verdict, a sweep's heatmap) and run
cards (on the Runs page, and read-only behind a demo share link). Numbers come from
``core.compare`` and ``core.cards``; the figures are drawn here."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import cards, compare, runs
from core.i18n import N_, _
from core.jobs import manager
from core.links import url as link_url
from core.registry import MODELS
from ui import charts, links, state
from ui.compare_controls import OPEN
from ui.pages import page
from ui.shell import POLL_SECONDS, open_view

MARKERS_UP_TO = 30      # curves with this many points or fewer show their points
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2", "#7f7f7f", "#bcbd22")


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def band_figure(frame: pd.DataFrame, name: str, legends: dict[str, str]) -> go.Figure:
    """Each arm's mean over seeds as a line, min–max over seeds as a shaded band."""
    figure = go.Figure()
    for index, (arm, rows) in enumerate(frame.groupby("arm", sort=False)):
        colour = PALETTE[index % len(PALETTE)]
        rows = rows.sort_values("step")
        label = legends.get(arm, arm)
        if rows["runs"].max() > 1:
            figure.add_trace(go.Scatter(x=rows["step"], y=rows["high"], mode="lines",
                                        line=dict(width=0), showlegend=False, hoverinfo="skip",
                                        legendgroup=arm))
            figure.add_trace(go.Scatter(x=rows["step"], y=rows["low"], mode="lines",
                                        line=dict(width=0), fill="tonexty",
                                        fillcolor=_rgba(colour, 0.18), showlegend=False,
                                        hoverinfo="skip", legendgroup=arm))
        # Few points (one evaluation per run: "loss/test") show as markers; a line of one point
        # draws nothing.
        few = len(rows) <= MARKERS_UP_TO
        spread = dict(type="data", array=(rows["high"] - rows["mean"]).tolist(),
                      arrayminus=(rows["mean"] - rows["low"]).tolist(), color=colour,
                      thickness=1.5, width=6) if few and rows["runs"].max() > 1 else None
        figure.add_trace(go.Scatter(x=rows["step"], y=rows["mean"],
                                    mode="lines+markers" if few else "lines", error_y=spread,
                                    line=dict(color=colour, width=2), marker=dict(size=8),
                                    name=label, legendgroup=arm))
    figure.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), xaxis_title=_("step"),
                         legend=dict(orientation="h", y=-0.25))
    return charts.titled(figure, name, N_("mean over seeds, band: min–max"))


def heatmap_figure(grid: pd.DataFrame, label: str, x_name: str, y_name: str) -> go.Figure:
    values = grid.to_numpy(dtype=float)
    text = [["—" if np.isnan(v) else f"{v:.4g}" for v in row] for row in values]
    figure = go.Figure(go.Heatmap(z=values, x=list(grid.columns), y=list(grid.index),
                                  text=text, texttemplate="%{text}", colorscale="Viridis",
                                  colorbar=dict(title=label)))
    figure.update_layout(title=_("{label} (mean over seeds)").format(label=label), height=320,
                         margin=dict(l=10, r=10, t=40, b=10), xaxis_title=x_name,
                         yaxis_title=y_name, xaxis_type="category", yaxis_type="category")
    return figure


# The Compare page --------------------------------------------------------------------------------
def live_state(run_id: str) -> str | None:
    job = manager().active_for_run(run_id)
    return job.state if job else None


def comparison_page() -> None:
    st.title(_("Compare"))
    st.caption(_("Runs of one model side by side, on the same seeds: start one with **Compare "
                 "with…** on a model page, or pick runs on the **Runs** page."))
    visitor = state.seen()
    mine = compare.list_comparisons(owner=visitor if state.limits().enabled else None)
    wanted = st.session_state.pop(OPEN, None) or st.query_params.get("comparison")
    chosen = None
    if wanted:
        try:
            chosen = compare.load(wanted)
        except KeyError as error:
            st.warning(_("{error}: the link's comparison is not on this server.").format(
                error=error.args[0]))
    if chosen is None and not mine:
        st.info(_("No comparisons yet. On a model page open **Compare with…**, press **Use "
                  "these settings as A**, change a setting and train A and B."))
        return
    options = [c.id for c in mine]
    if chosen is not None and chosen.id not in options:
        options.insert(0, chosen.id)
    by_id = {c.id: c for c in mine} | ({chosen.id: chosen} if chosen else {})
    key = "compare.choice"
    if chosen is not None:
        st.session_state[key] = chosen.id
    picked = st.selectbox(_("Comparison"), options, key=key, format_func=lambda i: describe(by_id[i]))
    comparison = by_id[picked]
    if st.query_params.get("comparison") != comparison.id:
        st.query_params["comparison"] = comparison.id
    show_comparison(comparison)


def describe(comparison: compare.Comparison) -> str:
    spec = MODELS.get(comparison.model)
    title = _(spec.title) if spec else comparison.model
    when = pd.Timestamp(comparison.created, unit="s").strftime("%Y-%m-%d %H:%M")
    kinds = {"ab": "A/B", "sweep": N_("sweep"), "picked": N_("picked runs")}
    count = len(comparison.run_ids)
    return _("{title} · {kind} · {fields} · {n} runs · {when}").format(
        title=title, kind=_(kinds.get(comparison.kind, comparison.kind)),
        fields=", ".join(comparison.fields) or _("same settings"), n=count, when=when)


def show_comparison(comparison: compare.Comparison) -> None:
    spec = MODELS.get(comparison.model)
    if spec is None:
        st.error(_("This comparison is of a model this version does not know: {model}").format(
            model=comparison.model))
        return
    found = compare.results(comparison, live_state)
    active = any(r.status in ("queued", "running") for r in found)

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def live():
        now = compare.results(comparison, live_state)
        draw(comparison, spec, now)
        if active and not any(r.status in ("queued", "running") for r in now):
            st.rerun()

    live()
    runs_section(comparison, spec)


def draw(comparison: compare.Comparison, spec, found: list) -> None:
    fields = comparison.fields
    finished = sum(1 for r in found if r.status == "finished")
    total = len(comparison.run_ids)
    arms = ", ".join(f"**{arm['label']}**" + (f" ({compare.arm_label(arm['config'], fields)})"
                                              if comparison.kind == "ab" else "")
                     for arm in comparison.arms)
    st.markdown(_("{model}: {arms} · seeds {seeds} (the same seeds in every arm)").format(
        model=_(spec.title), arms=arms, seeds=", ".join(map(str, comparison.seeds))))
    if finished < total:
        st.progress(finished / max(total, 1), text=_(
            "{finished} of {total} runs finished (they train one after another through the job "
            "queue)").format(finished=finished, total=total))
    failed = [r for r in found if r.status in ("failed", "stopped", "interrupted")]
    if failed:
        st.warning(_("{count} run(s) did not finish: {runs}").format(
            count=len(failed), runs=", ".join(f"{r.run_id} ({_(r.status)})" for r in failed)))
    metric = compare.headline_metric(found)
    if metric is not None and finished == total:
        for sentence, clear in compare.judged(found, metric):
            (st.success if clear else st.info)(
                _("**Verdict:** {sentence}").format(sentence=sentence))
    elif metric is None and finished == total and total:
        st.info(_("The runs have no final figure in common to judge them by."))
    table = compare.table(found, comparison)
    st.dataframe(table, hide_index=True)
    grid = compare.heatmap(comparison, found, metric.name) if metric else None
    if grid is not None:
        axes = comparison.axes
        charts.plot(heatmap_figure(grid, _(metric.label), axes[0]["name"],
                                   axes[1]["name"] if len(axes) > 1 else ""), "compare.heatmap")
    legends = {arm["label"]: arm["label"] + (f": {compare.arm_label(arm['config'], fields)}"
                                             if comparison.kind != "sweep" else "")
               for arm in comparison.arms}
    names = compare.curve_metrics(found)
    columns = st.columns(2)
    for index, name in enumerate(names):
        frame = compare.band(found, name)
        if not frame.empty:
            charts.plot(band_figure(frame, name, legends), f"compare.curve.{index}",
                        container=columns[index % 2])


def runs_section(comparison: compare.Comparison, spec) -> None:
    """Each run of the comparison: open it on its page, or see its card."""
    st.subheader(_("The runs"))
    labels = {}
    for arm in comparison.arms:
        for run_id in arm["runs"]:
            labels[run_id] = f"{arm['label']} · {run_id}"
    if not labels:
        return
    if comparison.kind == "sweep":
        st.caption(_("Each cell of the heatmap is one setting's runs: pick one to open it."))
    choice = st.selectbox(_("Run"), list(labels), format_func=labels.get, key="compare.run")
    # On a shared demo a comparison link shows another visitor's runs read-only: their cards,
    # never the controls of their jobs.
    foreign = state.limits().enabled and comparison.owner and comparison.owner != state.owner()
    left, right = st.columns(2)
    if foreign:
        left.caption(_("Another visitor's comparison: its runs' cards only."))
    elif left.button(_("Open on its page"), key="compare.open_run", width="stretch"):
        live = manager().active_for_run(choice)
        open_view(comparison.model, *(("job", live.id) if live else ("run", choice)))
        st.switch_page(page(comparison.model))
    if right.toggle(_("Show its card"), key="compare.card"):
        try:
            card_view(runs.get(choice), spec, "compare.card", read_only=bool(foreign))
        except KeyError as error:
            st.warning(str(error))


# Run cards ---------------------------------------------------------------------------------------
def card_view(run, spec, key: str, *, read_only: bool = False) -> None:
    """A run's card: the same as ``python -m core.cli card RUN``, with MD and JSON downloads."""
    card = cards.build(run, spec)
    text = cards.markdown(card, images="none").split(_(cards.TRAINING))[0]
    # Inside a page the card's headings sit below the page's own (# -> ###).
    st.markdown("\n".join("##" + line if line.startswith("#") else line
                          for line in text.splitlines()))
    images = card["images"]
    left, right = st.columns([3, 2])
    if images.get("loss"):
        left.image(images["loss"], caption=_("loss"))
    if images.get("samples"):
        right.image(images["samples"], caption=_("samples at step {step:,}").format(
            step=card["samples_step"]))
    if card["monitor"]:
        st.markdown(_("**Health monitor over time**"))
        st.dataframe(pd.DataFrame(card["monitor"]).rename(columns={
            "step": _("step"), "state": _("state"), "headline": _("verdict")}), hide_index=True)
    st.markdown(_("**Reproduce it**"))
    st.code(card["command"], language="bash")
    md, js = st.columns(2)
    md.download_button(_("Download card (Markdown)"), cards.markdown(card), width="stretch",
                       file_name=f"{run.id}.md", mime="text/markdown", key=f"{key}.md")
    js.download_button(_("Download card (JSON)"), cards.to_json(card), width="stretch",
                       file_name=f"{run.id}.json", mime="application/json", key=f"{key}.json")
    if state.limits().enabled and not read_only and card["status"] == "finished":
        share_controls(run, key)


def share_controls(run, key: str) -> None:
    """Demo mode: a read-only link to this run's card (an unguessable id)."""
    token = run.status.get("share")
    if token is None and st.button(_("Share a read-only link"), key=f"{key}.share"):
        token = cards.share(run)
    if token:
        st.caption(_("Anyone with this link sees the card and the samples, not your other "
                     "runs and not the run's controls:"))
        st.code(link_url(links.app_url("runs"), {"share": token}), language=None,
                wrap_lines=True)


def shared_page(token: str) -> None:
    """What a share link shows: the card and samples, read-only."""
    run = cards.find_shared(token)
    if run is None or run.info.get("model") not in MODELS:
        st.warning(_("This share link does not open a run on this server (it may have been "
                     "deleted)."))
        return
    st.caption(_("A run shared read-only."))
    card_view(run, MODELS[run.info["model"]], "shared", read_only=True)


def pick_and_compare(all_runs: list, table: pd.DataFrame) -> None:
    """On the Runs page: choose runs of one model and compare them after the fact."""
    with st.expander(_("Compare runs")):
        labels = {run.id: f"{run.id} ({run.info['model']})" for run in all_runs}
        picked = st.multiselect(_("Runs of one model"), list(labels), format_func=labels.get,
                                key="runs.compare.pick")
        if st.button(_("Compare them"), key="runs.compare.go", disabled=len(picked) < 2):
            try:
                comparison = compare.from_runs([runs.get(i) for i in picked], owner=state.owner())
            except (ValueError, KeyError) as error:
                st.error(str(error))
                return
            st.session_state[OPEN] = comparison.id
            st.switch_page("views/compare.py")
