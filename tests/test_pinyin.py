"""The open-gram word trigram (core.pinyin) and the pinyin tab (ui.pinyin_view).

The model tests need Debian's sunpinyin-data and skip, saying so, when it is not installed. The
reference numbers are what sunpinyin's own library (libsunpinyin 3.0.0~rc2, ``CThreadSlm::transfer``
and ``CIMIContext``) computes on sunpinyin-data 0.1.22+20170109, the version Debian 12 ships.
"""
import math
import struct

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import pinyin


@pytest.fixture(scope="module")
def model():
    if not pinyin.is_available():
        pytest.skip(f"sunpinyin-data is not installed (install it with: {pinyin.INSTALL_COMMAND})")
    return pinyin.load_model()


# ----------------------------------------------------------------------------- missing or bad data


def test_a_missing_package_says_how_to_install_it(tmp_path, monkeypatch):
    with pytest.raises(pinyin.PinyinUnavailable, match="apt-get install sunpinyin-data"):
        pinyin.load_model(tmp_path)
    monkeypatch.setenv("DLSTUDIO_SUNPINYIN_DIR", str(tmp_path))
    assert not pinyin.is_available()
    with pytest.raises(pinyin.PinyinUnavailable, match=str(tmp_path)):
        pinyin.load_model()


def test_a_file_that_is_not_a_threaded_trigram_is_refused(tmp_path):
    (tmp_path / "pydict_sc.bin").write_bytes(b"\0" * 4096)
    (tmp_path / "lm_sc.t3g").write_bytes(b"\0" * 4096)            # order 0
    with pytest.raises(pinyin.PinyinUnavailable, match="not a sunpinyin trigram"):
        pinyin.load_model(tmp_path)
    header = struct.pack("<6I", 3, 0, 2, 10, 10, 10)               # the right header, cut short
    (tmp_path / "lm_sc.t3g").write_bytes(header + b"\0" * 1000)
    with pytest.raises(pinyin.PinyinUnavailable, match="header says"):
        pinyin.load_model(tmp_path)
    (tmp_path / "lm_sc.t3g").write_bytes(struct.pack(">6I", 3, 0, 2, 10, 10, 10) + b"\0" * 99)
    with pytest.raises(pinyin.PinyinUnavailable, match="big-endian"):
        pinyin.load_model(tmp_path)


# ----------------------------------------------------------------------------- the reader


def test_the_reader_gives_sunpinyins_numbers(model):
    trigram = model.trigram
    assert model.sizes == {"words in the lexicon": 84064, "unigrams": 71759,
                           "bigrams": 2_500_000, "trigrams": 1_000_000}
    # Unigrams and the root's unknown-word probability, as `tslminfo -v -p lm_sc.t3g` prints them.
    log_p, *_ = trigram.next_word(0, 0, [0, pinyin.ENDING_WORD])
    assert np.allclose(np.exp(log_p), [0.124542720616, 0.068003788590], rtol=1e-6)
    assert math.isclose(trigram.unknown_log_probability(),
                        math.log(0.000005000001 * 0.000000119583), rel_tol=1e-6)
    # P(的) and P(了 | 的) from libsunpinyin's CThreadSlm::transfer.
    the, le = model.word_id("的"), model.word_id("了")
    assert math.isclose(trigram.next_word(0, 0, [the])[0][0], -3.282219252, abs_tol=1e-6)
    level, index = trigram.state_after([the])
    assert math.isclose(trigram.next_word(level, index, [le])[0][0], -6.386291735, abs_tol=1e-6)


@pytest.mark.parametrize("history", [[], ["厨房"], ["厨房", "里"], ["我们", "今天"], ["的"]])
def test_next_word_probabilities_are_proper(model, history):
    words, log_p = model.next_word_log_probabilities(history)
    total = float(np.exp(log_p).sum())
    # Katz back-off spreads all the mass over the vocabulary; the stored values are quantised.
    assert 0.99 < total <= 1 + 1e-3, total
    assert len(words) == 71759 and np.all(log_p < 0)


def test_the_tutorial_pair_and_why(model):
    """The honest result: this model prefers 石油 (petroleum), by about 113×: 食油 is not a word
    of its lexicon, and the kitchen never reaches either word (both back off to unigrams)."""
    cooking, petroleum = (model.score(s) for s in pinyin.TUTORIAL_PAIR)
    assert math.isclose(cooking.log_probability, -45.011555, abs_tol=1e-5)     # libsunpinyin
    assert math.isclose(petroleum.log_probability, -40.285074, abs_tol=1e-5)
    assert 100 < math.exp(petroleum.log_probability - cooking.log_probability) < 130
    assert cooking.segmented == "厨房里 / 食 / 油 / 用完 / 了"
    assert petroleum.segmented == "厨房里 / 石油 / 用完 / 了"
    assert model.word_id("食油") is None and model.word_id("石油") is not None
    assert [w.context for w in petroleum.words][:2] == ["unigram", "unigram"]
    # Each sentence's ln P is the sum of its words' and the clause end's.
    for sentence in (cooking, petroleum):
        parts = [w.log_probability for w in sentence.words] + [sentence.end.log_probability]
        assert math.isclose(sum(parts), sentence.log_probability)


def test_context_decides_where_the_model_has_seen_it(model):
    right, wrong = model.score("我的电脑坏了"), model.score("我的电脑怀了")
    assert right.log_probability - wrong.log_probability > math.log(1000)
    assert [w.context for w in right.words][-2:] == ["bigram", "trigram"]   # 电脑 坏, 电脑 坏 了
    right, wrong = model.score("我们今天去学校上课"), model.score("我们今天去学校尚可")
    assert 3 < math.exp(right.log_probability - wrong.log_probability) < 6
    # The oil in another context: the same ratio, as the context never reaches either word.
    oil, petroleum = model.score("中东的食油价格上涨"), model.score("中东的石油价格上涨")
    assert math.isclose(petroleum.log_probability - oil.log_probability,
                        math.log(112.9), abs_tol=0.01)
    # Text outside the lexicon is one "other" token; a sentence ending in "。" gets no extra end.
    scored = model.score("我有3个苹果。")
    assert [w.word for w in scored.words] == ["我有", "3", "个", "苹果", "。"]
    assert scored.words[1].context == "outside the lexicon" and scored.end is None


# ----------------------------------------------------------------------------- pinyin → characters


@pytest.mark.parametrize("typed, expected", [
    ("ni hao", "你好"),
    ("zhong hua ren min gong he guo", "中华人民共和国"),
    ("jin tian tian qi hen hao", "今天天气很好"),
    ("wo men jin tian qu xue xiao shang ke", "我们今天去学校上课"),
    ("yu yan mo xing", "语言模型"),
    ("ji qi xue xi", "机器学习"),
    ("jin tian shi xing qi ji", "今天是星期几"),
    ("shang hai shi", "上海市"),          # one word alone: no clause end (sunpinyin's rule)
])
def test_converts_common_phrases_as_sunpinyin_does(model, typed, expected):
    assert model.convert(typed).best.text == expected


def test_the_tutorial_pinyin_gives_what_sunpinyin_gives(model):
    conversion = model.convert(pinyin.TUTORIAL_PINYIN, count=10)
    texts = [s.text for s in conversion.sentences]
    # sunpinyin's own n-best for this input starts with the same four.
    assert texts[:4] == ["厨房里是又用完了", "厨房历史又用完了", "厨房里是有用完了", "厨房里时又用完了"]
    assert "厨房里石油用完了" in texts and "厨房里食油用完了" not in texts
    scores = [s.log_probability for s in conversion.sentences]
    assert scores == sorted(scores, reverse=True) and len(set(texts)) == len(texts)
    assert math.isclose(scores[0], -37.088553, abs_tol=1e-5)
    # Scoring the text finds the most probable segmentation: never below the conversion's own.
    for sentence in conversion.sentences:
        assert model.score(sentence.text).log_probability >= sentence.log_probability - 1e-9


@pytest.mark.parametrize("typed", ["chu fang li", "chú fáng lǐ", "chu2 fang2 li3", "chufangli",
                                   "Chu'Fang'Li", "  chu   fang  li "])
def test_pinyin_forms(model, typed):
    assert model.lexicon.split_pinyin(typed) == ["chu", "fang", "li"]


def test_umlaut_ambiguous_splits_and_bad_input(model):
    assert model.lexicon.split_pinyin("lüe nǚ lue") == ["lve", "nv", "lve"]
    assert {tuple(r) for r in model.lexicon.readings("fangan")} == {("fan", "gan"), ("fang", "an")}
    assert model.convert("fangan").best.text == "方案"          # the model picks the split
    with pytest.raises(ValueError, match="not pinyin"):
        model.convert("chu xyz")
    with pytest.raises(ValueError, match="type pinyin"):
        model.convert("  ")
    with pytest.raises(ValueError, match="at most 60 syllables"):
        model.convert("ni hao " * 31)
    with pytest.raises(ValueError, match="at most 300 characters"):
        model.score("你好" * 151)


# ----------------------------------------------------------------------------- the tab


def _tab():
    from ui.pinyin_view import render_pinyin_tab
    render_pinyin_tab()


def test_the_tab_says_where_the_model_is_wrong_and_right(model):
    app = AppTest.from_function(_tab, default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.text_input(key="lm.pinyin.input").value == pinyin.TUTORIAL_PINYIN
    assert any(m.value == "### 厨房里是又用完了" for m in app.markdown)
    warnings = " ".join(w.value for w in app.warning)
    assert "gets the tutorial's example wrong" in warnings and "It gets this one wrong" in warnings
    assert "食油 is not a word of its lexicon" in warnings
    table = app.dataframe[0].value
    assert len(table) == 5 and table["ln P"].is_monotonic_decreasing
    app.selectbox(key="lm.pinyin.pair").set_value(2).run()            # 电脑坏了 / 电脑怀了
    verdict = app.success[0].value
    assert "prefers **A**" in verdict and "the context counts" in verdict
    app.selectbox(key="lm.pinyin.pair").set_value(5).run()            # 带伞 / 带三
    assert "It gets this one wrong" in app.warning[-1].value
    app.text_input(key="lm.pinyin.b.5").set_value("下雨了记得带伞").run()   # the same sentence
    assert any("prefers **A**" in m.value for m in app.markdown)
    app.text_input(key="lm.pinyin.input").set_value("ni hao").run()
    assert any(m.value == "### 你好" for m in app.markdown)
    assert not any("tutorial's example" in w.value for w in app.warning)
    app.text_input(key="lm.pinyin.input").set_value("qqq").run()
    assert app.error and "not pinyin" in app.error[0].value


def test_the_tab_without_the_package_shows_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("DLSTUDIO_SUNPINYIN_DIR", str(tmp_path))
    app = AppTest.from_function(_tab, default_timeout=60)
    app.run()
    assert not app.exception
    assert "sunpinyin-data" in app.warning[0].value
    assert app.code[0].value == pinyin.INSTALL_COMMAND
