"""The classifier pages (softmax regression, MLP, CNN, ResNet): live curves, then the results."""
from __future__ import annotations

import dataclasses

import streamlit as st

from ui import inside_views, results
from ui.shell import POLL_SECONDS, Panel, checkpoint_metrics, config_caption, load_run


class ClassifierPanel(Panel):

    def final_summary(self, final: dict) -> str:
        accuracy = final.get("accuracy/test")
        return f": test accuracy {accuracy:.2%}" if accuracy is not None else ""

    def job_view(self, job) -> None:
        st.subheader(f"Run {job.run.id}")

        @st.fragment(run_every=POLL_SECONDS if job.is_active else None)
        def live():
            self.job_status(job)
            results.curves(job.metrics(), self.spec, self.key("job"),
                           dataclasses.asdict(job.config))
            self.rerun_when_done(job)

        live()
        self.resume_here(job)
        if job.state == "finished" and job.evaluation:
            st.download_button("Download checkpoint", job.run.checkpoint_path.read_bytes(),
                               file_name=f"{job.run.id}.pt", key=self.key("download", "job"))
            results.evaluation_panel(job.evaluation, self.spec, self.key("job"))
            self.inside(job.run.checkpoint_path)

    def run_view(self, run_id: str) -> None:
        run = load_run(run_id)
        if run is None:
            return
        payload = self.run_header(run)
        results.curves(run.metrics(), self.spec, self.key("run"), run.info["config"])
        if payload is not None and payload.get("evaluation"):
            results.evaluation_panel(payload["evaluation"], self.spec, self.key("run"))
        if payload is not None:
            self.inside(run.checkpoint_path)

    def checkpoint_view(self, payload: dict, raw: bytes, label: str) -> None:
        st.subheader(f"Results — {label}")
        st.caption(f"Step {payload['step']:,} · " + config_caption(payload["config"], self.spec))
        st.download_button("Download checkpoint", raw, file_name=f"{self.name}.pt",
                           key=self.key("download", "ckpt"))
        results.curves(checkpoint_metrics(payload), self.spec, self.key("ckpt"), payload["config"])
        if payload.get("evaluation"):
            results.evaluation_panel(payload["evaluation"], self.spec, self.key("ckpt"))
        else:
            st.info("This checkpoint holds no final evaluation (it was saved mid-run).")
        self.inside(payload)

    def inside(self, source) -> None:
        """Below the results: the model's weights, its layers, why it predicts what it does and
        where the classes live (``ui/inside_views/``)."""
        inside_views.classifier_inside(self, source)
