"""AppTest on the language-model page: it opens, scores the example pair, writes text, trains."""
import pytest
from streamlit.testing.v1 import AppTest

from core.data import text
from core.jobs import manager
from tests.conftest import ROOT
from tests.pages import switch_to


@pytest.fixture
def app():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.run()
    switch_to(app, "language-model")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def button(app, label):
    return next(b for b in app.button if b.label.startswith(label))


def test_page_shows_the_split_and_the_ngram_curve(app):
    assert app.title[0].value.startswith("Language models")
    page_tabs = ["Corpus and n-grams", "Neural model", "Generate", "Score sentences",
                 "Pinyin (word trigram)"]
    labels = [t.label for t in app.tabs]      # (the Compare controls have tabs of their own)
    start = labels.index(page_tabs[0])
    assert labels[start:start + len(page_tabs)] == page_tabs
    assert any("lowest at **n =" in m.value for m in app.markdown)
    app.slider(key="lm.order").set_value(5).run()
    assert not app.exception


def test_scores_the_example_pair_with_both_models(app):
    # (the test corpus is named "synthetic": the tutorial's pair is its default example)
    first = app.text_input(key="lm.score.a.synthetic.0")
    assert first.value == text.EXAMPLE_PAIRS["zh"][0][0]  # the tutorial's homophone pair
    scored = [d.value for d in app.dataframe if "n-gram ln P" in d.value.columns]
    assert len(scored) == 1, "the Score sentences tab shows one A/B table"
    table = scored[0]
    assert list(table.index) == ["A", "B"]
    assert table["n-gram perplexity"].gt(0).all()
    assert any("prefers" in m.value for m in app.markdown)
    # The test corpus is a tiny grammar with 食油 and never 石油: the n-gram must prefer A.
    assert table.loc["A", "n-gram ln P"] > table.loc["B", "n-gram ln P"]
    first.set_value("油了用厨房里完食").run()  # the same characters in a scrambled order
    table = next(d.value for d in app.dataframe if "n-gram ln P" in d.value.columns)
    assert table.loc["A", "n-gram ln P"] < table.loc["B", "n-gram ln P"]


def test_generates_text_with_the_ngram(app):
    sources = app.radio(key="lm.gen.source")
    sources.set_value("n-gram").run()
    app.slider(key="lm.gen.length").set_value(40).run()
    button(app, "Generate").click().run()
    assert not app.exception
    output = app.code[-1].value
    assert output.startswith(app.text_input(key="lm.gen.prompt.tang-poems").value)
    assert len(output) > 40 and "<unk>" not in output
    # Each press shows its own text (a keyed text area used to keep the first one).
    shown = {output}
    for seed in (1, 2):
        app.number_input(key="lm.gen.seed").set_value(seed).run()
        button(app, "Generate").click().run()
        shown.add(app.code[-1].value)
    assert len(shown) == 3


def test_writes_a_poem_in_the_chosen_form(app):
    """The shipped poems model, decoding held to the form: title, author, 4 lines of 7."""
    app.radio(key="lm.gen.source").set_value("neural").run()
    app.selectbox(key="lm.gen.form").set_value("七言绝句").run()
    button(app, "写一首唐诗 · Write a Tang poem").click().run()
    assert not app.exception
    poem = app.code[-1].value.split("\n")
    assert poem[0].startswith("《") and poem[0].endswith("》") and poem[1].startswith("作者：")
    assert len(poem) == 4  # title, author and two couplets
    for couplet in poem[2:]:
        first, second = couplet.rstrip("。").split("，")
        assert len(first) == len(second) == 7
        assert all("\u4e00" <= ch <= "\u9fff" for ch in first + second)


def test_trains_a_gru_and_shows_its_perplexity(app):
    app.slider(key="lm.field.epochs").set_value(1)
    app.slider(key="lm.field.hidden_size").set_value(32)
    app.slider(key="lm.field.seq_len").set_value(32)
    button(app, "Train").click().run()
    assert not app.exception
    kind, job_id = app.session_state["lm.view"]
    job = manager().wait(manager().get(job_id), timeout=90)
    assert job.state == "finished", job.message
    assert job.config.hidden_size == 32 and job.config.corpus == "tang-poems"
    app.run()
    assert not app.exception
    assert any(m.label == "Validation perplexity" for m in app.metric)
    # The trained run now writes the text.
    app.radio(key="lm.gen.source").set_value("neural").run()
    button(app, "Generate").click().run()
    assert len(app.code[-1].value) > 10


def test_bad_upload_is_refused_with_a_message(app):
    app.selectbox(key="lm.corpus").set_value("Your text (.txt upload)").run()
    assert not app.exception
    assert any("Upload a UTF-8 .txt" in i.value for i in app.info)
