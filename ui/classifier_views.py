"""The classifier pages (softmax regression, MLP, CNN, ResNet): live curves, then the results."""
from __future__ import annotations

import dataclasses

import streamlit as st

from core.i18n import _
from ui import inside_views, results
from ui.shell import Panel, checkpoint_metrics


class ClassifierPanel(Panel):

    def final_summary(self, final: dict) -> str:
        accuracy = final.get("accuracy/test")
        return _(": test accuracy {accuracy:.2%}").format(accuracy=accuracy) \
            if accuracy is not None else ""

    def live_view(self, job) -> None:
        results.curves(job.metrics(), self.spec, self.key("job"), dataclasses.asdict(job.config))

    def job_done(self, job) -> None:
        if job.state == "finished" and job.evaluation:
            st.download_button(_("Download checkpoint"), job.run.checkpoint_path.read_bytes(),
                               file_name=f"{job.run.id}.pt", key=self.key("download", "job"))
            results.evaluation_panel(job.evaluation, self.spec, self.key("job"))
            self.inside(job.run.checkpoint_path)

    def run_body(self, run, payload: dict | None) -> None:
        results.curves(run.metrics(), self.spec, self.key("run"), run.info["config"])
        if payload is not None and payload.get("evaluation"):
            results.evaluation_panel(payload["evaluation"], self.spec, self.key("run"))
        if payload is not None:
            self.inside(run.checkpoint_path)

    def checkpoint_title(self, label: str) -> str:
        return _("Results — {label}").format(label=label)

    def checkpoint_body(self, payload: dict) -> None:
        results.curves(checkpoint_metrics(payload), self.spec, self.key("ckpt"), payload["config"])
        if payload.get("evaluation"):
            results.evaluation_panel(payload["evaluation"], self.spec, self.key("ckpt"))
        else:
            st.info(_("This checkpoint holds no final evaluation (it was saved mid-run)."))
        self.inside(payload)

    def inside(self, source) -> None:
        """Below the results: the model's weights, its layers, why it predicts what it does and
        where the classes live (``ui/inside_views/``)."""
        inside_views.classifier_inside(self, source)
