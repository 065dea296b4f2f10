"""Every page drawn in Chinese (a shipped model loaded where the page has one) shows no English
sentence: the rendered markdown, captions, alerts, labels, options, metrics, tables' headers and
the charts' titles, axis titles and legends are read, and any run of three or more English words
that are not kept terms (model names, symbols, units: core/locale/glossary.md) is reported."""
from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from core import i18n, pinyin
from core.paths import shipped_checkpoint
from tests.conftest import ROOT
from tests.pages import switch_to
from ui.navigation import ALL

# Words a Chinese page keeps in English (glossary.md: names, symbols, formulas, units).
KEPT = {w.lower() for w in """
GAN GANs DCGAN infoGAN BEGAN SAGAN BigGAN StyleGAN StyleGAN2 pix2pix CycleGAN ResNet CNN MLP RNN
LSTM GRU U-Net PatchGAN Adam AdamW SGD ReLU LeakyReLU tanh sigmoid softmax FID FD EMA TTUR R1
t-SNE n-gram Fashion-MNIST MNIST CIFAR-10 ImageNet DL Studio PyTorch Streamlit Ray CPU GPU H200
lr nz ngf ndf ch batch norm BN d_loss g_loss D G z x y Loss_D Loss_G mode collapse English
onecycle cosine constant step adam sgd off on ms s MB GB px KB Inception IS PPL Wasserstein
hinge non-saturating dropout epoch epochs Zhang Goodfellow Radford Karras Brock Isola Zhu Chen
Berthelot Miyato Heusel Kingma Ba al et arXiv NeurIPS ICLR ICML CVPR ICCV et al Nesterov
T-shirt top Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag Ankle boot
beta1 beta2 cGAN L1 L2 leaky ln log exp max min argmax Kneser-Ney add-k Grad-CAM SmoothGrad tok
""".split()}
WORDS = re.compile(r"[A-Za-z][A-Za-z'’\-]*(?:[ ]+[A-Za-z][A-Za-z'’\-]*){2,}")


PINYIN = {initial + final for initial in pinyin.INITIALS for final in pinyin.FINALS} - {""}


def english_sentences(text: str) -> list[str]:
    """Runs of three or more English words (outside code, links and formulas) that are not all
    kept terms."""
    text = re.sub(r"`[^`]*`|https?://\S+|\$[^$]*\$|\]\([^)]*\)|:material/[a-z_]+:", " ", text)
    found = []
    for match in WORDS.finditer(text):
        words = match.group().split()
        if all(word.lower() in PINYIN for word in words):
            continue                  # pinyin a learner types (the pinyin page's examples)
        if sum(word.lower().strip("'’-") not in KEPT for word in words) >= 3:
            found.append(match.group())
    return found


def shown_texts(app: AppTest) -> list[str]:
    """What the page shows a reader, as text."""
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success", "text"):
        texts += [element.value for element in getattr(app, kind)]
    for kind in ("button", "checkbox", "toggle", "selectbox", "multiselect", "slider",
                 "select_slider", "number_input", "text_input", "text_area", "radio",
                 "metric", "expander", "tabs"):
        for element in app.get(kind):
            texts.append(str(getattr(element, "label", "") or ""))
            texts.append(str(getattr(element, "help", "") or ""))
            texts += [str(option) for option in getattr(element, "options", []) or []]
    for chart in app.get("plotly_chart"):
        figure = json.loads(chart.proto.spec)
        layout = figure.get("layout", {})
        for key, axis in layout.items():
            if isinstance(axis, dict) and "title" in axis:
                title = axis["title"]
                texts.append(title.get("text", "") if isinstance(title, dict) else str(title))
        texts += [str(annotation.get("text", "")) for annotation in layout.get("annotations", [])]
        texts += [str(trace.get("name", "")) for trace in figure.get("data", [])]
    for table in app.get("dataframe"):
        try:
            texts += [str(column) for column in table.value.columns]
        except Exception:
            pass
    return [text for text in texts if text]


def rerun(app: AppTest) -> AppTest:
    """AppTest formats a select's value with the page's own ``format_func`` (``_``) in this
    thread: this thread speaks Chinese too, so the value is found among the drawn options."""
    i18n.use("zh")
    try:
        return app.run()
    finally:
        i18n.use("en")


def open_in_chinese(url_path: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.query_params["lang"] = "zh"
    app.run()
    if url_path:
        switch_to(app, url_path)
        rerun(app)
    return app


def chinese(message: str) -> str:
    return i18n.catalog("zh").gettext(message)


def english_on(entry) -> list[str]:
    app = open_in_chinese(entry.url_path)
    assert not app.exception, [e.value for e in app.exception]
    if entry.model and shipped_checkpoint(entry.model).exists():
        load = [b for b in app.button if b.label == chinese("Load pretrained")]
        assert load, f"no {chinese('Load pretrained')!r} button on /{entry.url_path}"
        load[0].click()
        rerun(app)
        assert not app.exception, [e.value for e in app.exception]
    return sorted({found for text in shown_texts(app) for found in english_sentences(text)})


def test_the_detector_finds_english_and_lets_names_pass():
    assert english_sentences("The discriminator wins: lower its learning rate")
    assert not english_sentences("鉴别器占了上风：把 DCGAN 的 D 学习率调低（TTUR D 4e-4 / G 1e-4）")
    assert not english_sentences("模式崩溃（mode collapse）：`python -m core.cli train dcgan`")
    assert not english_sentences("输入拼音 chu fang li de shi you yong wan le")
    assert english_sentences("CPU: 2 threads, shared with other work")


QUICK = ["", "dcgan", "cnn"]


@pytest.mark.parametrize("url_path", QUICK, ids=[p or "home" for p in QUICK])
def test_a_page_in_chinese_has_no_english_sentence(url_path):
    entry = next(e for e in ALL if e.url_path == url_path)
    assert english_on(entry) == []


@pytest.mark.slow
@pytest.mark.parametrize("entry", [e for e in ALL if e.url_path not in QUICK],
                         ids=[e.url_path for e in ALL if e.url_path not in QUICK])
def test_every_page_in_chinese_has_no_english_sentence(entry):
    assert english_on(entry) == []
