"""Show a run's results: curves, test accuracy, confusion matrix, per-class bars, mistakes."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

from ui import charts
from core.data.fashion_mnist import DataUnavailable
from core.i18n import _
from ui import state

GALLERY_SIZE = 24


def smoothing_floor(label_smoothing: float, classes: int = 10) -> float:
    """The lowest cross-entropy a smoothed target allows: its own entropy (0.50 for 0.1 and 10
    classes: the true class gets 1 − s + s/K, every other s/K)."""
    if not label_smoothing:
        return 0.0
    right, other = 1 - label_smoothing + label_smoothing / classes, label_smoothing / classes
    return -(right * math.log(right) + (classes - 1) * other * math.log(other))


def training_loss_note(config: dict) -> str | None:
    """Why the training loss sits above the test loss, when the settings make it so."""
    smoothing, augment = config.get("label_smoothing"), config.get("augment")
    if smoothing and augment:
        text = _("The training loss is measured with label smoothing {smoothing:g} (a smoothed "
                 "target's cross-entropy cannot fall below {floor:.2f}) and on augmented images "
                 "(shifted and flipped, harder than the plain ones), the test loss on plain test "
                 "images with hard labels: so the training loss sits above the test loss here, "
                 "and that is expected, not a sign of trouble.")
    elif smoothing:
        text = _("The training loss is measured with label smoothing {smoothing:g} (a smoothed "
                 "target's cross-entropy cannot fall below {floor:.2f}), the test loss on plain "
                 "test images with hard labels: so the training loss sits above the test loss "
                 "here, and that is expected, not a sign of trouble.")
    elif augment:
        text = _("The training loss is measured with augmented images (shifted and flipped, "
                 "harder than the plain ones), the test loss on plain test images with hard "
                 "labels: so the training loss sits above the test loss here, and that is "
                 "expected, not a sign of trouble.")
    else:
        return None
    return text.format(smoothing=smoothing or 0.0,
                       floor=smoothing_floor(smoothing) if smoothing else 0.0)


def curves(frame: pd.DataFrame, spec, key: str, config: dict | None = None) -> None:
    left, right = st.columns(2)
    left.plotly_chart(charts.loss_figure(frame), key=f"{key}.loss")
    right.plotly_chart(charts.accuracy_figure(frame, spec.references), key=f"{key}.accuracy")
    note = training_loss_note(config or {})
    if note:
        st.caption(note)


def evaluation_panel(evaluation: dict, spec, key: str) -> None:
    """Confusion matrix, per-class accuracy and misclassified test images."""
    confusion = np.asarray(evaluation["confusion"])
    try:
        data = state.images()
    except DataUnavailable:
        data = None
    # Fashion-MNIST's class names in the page's language (the catalog has them; a folder's own
    # class names come out as they are).
    names = [_(name) for name in data.class_names] if data is not None else \
        [str(i) for i in range(len(confusion))]
    if len(names) != len(confusion):
        names = [str(i) for i in range(len(confusion))]
    total = confusion.sum()
    accuracy = np.trace(confusion) / max(total, 1)
    worst = int(np.argmin(np.diag(confusion) / confusion.sum(1).clip(min=1)))
    columns = st.columns(3)
    columns[0].metric(_("Test accuracy"), f"{accuracy:.2%}",
                      help=_("on {count:,} test images").format(count=total))
    if spec.references:  # the first reference is the tutorial's own figure
        reference = spec.references[0]
        # The learner's difference is the figure; the tutorial's own stays in the label.
        columns[1].metric(_("vs {reference}: {value:.1%}").format(reference=_(reference.label),
                                                                  value=reference.value),
                          _("{points:+.1f} points").format(
                              points=(accuracy - reference.value) * 100),
                          help=_("this model's test accuracy minus the reference's (source: "
                                 "{source})").format(source=_(reference.source)))
    columns[2].metric(_("Hardest class"), names[worst],
                      help=_("{share:.1%} of its test images are classified right").format(
                          share=confusion[worst, worst] / max(confusion[worst].sum(), 1)))
    left, right = st.columns([3, 2])
    left.plotly_chart(charts.confusion_figure(confusion, names), key=f"{key}.confusion")
    right.plotly_chart(charts.per_class_figure(confusion, names), key=f"{key}.perclass")
    mistakes_gallery(evaluation, data, names)


def mistakes_gallery(evaluation: dict, data, names: list[str]) -> None:
    st.subheader(_("Misclassified test images"))
    predicted = np.asarray(evaluation.get("predicted", []))
    if data is None or len(predicted) != len(data.test_labels):
        st.caption(_("The test images are not available here, so the gallery is hidden."))
        return
    labels = data.test_labels.numpy()
    wrong = np.flatnonzero(predicted != labels)
    st.caption(_("{wrong:,} of {total:,} test images are misclassified; the first {shown} are "
                 "shown as true → predicted.").format(wrong=len(wrong), total=len(labels),
                                                      shown=min(GALLERY_SIZE, len(wrong))))
    if len(wrong) == 0:
        return
    shown = wrong[:GALLERY_SIZE]
    pictures = [np.kron(data.test_images[i, 0].numpy(), np.ones((3, 3), dtype=np.uint8))
                for i in shown]  # 28 px -> 84 px, nearest neighbour
    captions = [f"{names[labels[i]]} → {names[predicted[i]]}" for i in shown]
    per_row = 8
    for start in range(0, len(shown), per_row):
        columns = st.columns(per_row)
        for column, picture, caption in zip(columns, pictures[start:start + per_row],
                                            captions[start:start + per_row]):
            column.image(picture, caption=caption, clamp=True)
