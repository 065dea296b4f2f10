import pandas as pd
import streamlit as st

from core import runs
from core.i18n import N_, _
from core.jobs import manager
from core.registry import MODELS
from ui import state
from ui.compare_views import card_view, pick_and_compare, shared_page
from ui.pages import page
from ui.shell import open_view, status_text

st.title(_("Runs"))
demo = state.limits().enabled
shared = st.query_params.get("share")
if shared:   # a read-only link to one finished run (demo mode): its card, nothing else
    state.seen()
    shared_page(shared)
    st.stop()
st.caption(_("Every training run keeps a folder (config, metrics.csv, checkpoint) that survives "
             "a restart.") if demo else
           _("Every training run keeps a folder (config, metrics.csv, checkpoint) that survives "
             "a restart: `{folder}`.").format(folder=runs.runs_root()))

visitor = state.seen()
# On a shared demo a visitor sees only their own runs; on your own machine, every run.
all_runs = runs.list_runs(owner=visitor if demo else None)
if demo:
    st.info(_("This is a shared demo: only the runs started from this browser are listed. "
              "The shipped checkpoints are on every page under **Load pretrained**."))
if not all_runs:
    st.info(_("No runs yet: train a model on any page and it appears here."))
    st.stop()

NOTHING = "—"   # the figure does not apply to this model (st.dataframe writes "None" for NaN)


def figure(value, form: str) -> str:
    """A final figure as the table shows it (``form`` names it ``{value}``), or a dash where the
    run has none."""
    if value is None or value != value:
        return NOTHING
    return form.format(value=value)


rows = []
for run in all_runs:
    info, status = run.info, run.status
    live = manager().active_for_run(run.id)
    final = status.get("final") or {}
    rows.append({"run": run.id, "model": info["model"],
                 "status": (live.state if live else status.get("status")) or NOTHING,
                 "step": live.step if live else status.get("step", 0),
                 "test accuracy": figure(final.get("accuracy/test"), "{value:.1%}"),
                 "classes covered": figure(final.get("classes/covered"),
                                           _("{value:.0f} of 10")),
                 "val perplexity": figure(final.get("perplexity/val"), "{value:.2f}"),
                 "created": pd.Timestamp(info["created"], unit="s").strftime("%Y-%m-%d %H:%M"),
                 "ran on": runs.ran_on(status, with_host=not demo) or NOTHING,
                 "source": _(info.get("note") or N_("app"))})
table = pd.DataFrame(rows)
# The table as shown: its headers and the runs' states in the visitor's language.
COLUMNS = {"run": N_("run"), "model": N_("model"), "status": N_("status"), "step": N_("step"),
           "test accuracy": N_("test accuracy"), "classes covered": N_("classes covered"),
           "val perplexity": N_("val perplexity"), "created": N_("created"),
           "ran on": N_("ran on"), "source": N_("source")}
shown = table.assign(status=table["status"].map(status_text))
st.dataframe(shown.rename(columns={name: _(label) for name, label in COLUMNS.items()}),
             hide_index=True)

pick_and_compare(all_runs, table)

choice = st.selectbox(_("Run"), [row["run"] for row in rows],
                      format_func=lambda r: "{run} ({status})".format(
                          run=r, status=status_text(next(x["status"] for x in rows
                                                         if x["run"] == r))))
chosen = runs.get(choice)
model = chosen.info["model"]
open_column, delete_column = st.columns(2)
if open_column.button(_("Open on its page"), type="primary", disabled=model not in MODELS):
    live = manager().active_for_run(chosen.id)
    open_view(model, *(("job", live.id) if live else ("run", chosen.id)))
    st.switch_page(page(model))
confirm = delete_column.checkbox(_("Yes, delete this run's folder"), key="confirm_delete")
if delete_column.button(_("Delete"), disabled=not confirm or manager().active_for_run(chosen.id) is not None):
    runs.delete(chosen.id)
    st.toast(_("Deleted {run}").format(run=chosen.id))
    st.rerun()
if model in MODELS and st.toggle(_("Show its run card"), key="runs.card.show",
                                 help=_("model, settings, figures, charts and the command that "
                                        "reproduces it; download as Markdown or JSON")):
    card_view(chosen, MODELS[model], "runs.card")
