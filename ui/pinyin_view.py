"""The language-model page's pinyin tab: a word trigram of modern Chinese (open-gram, the model
of the sunpinyin input method) writes pinyin as characters and judges the tutorial's homophones.

``render_pinyin_tab()`` is self-contained: its own session keys ("lm.pinyin.…"), the model from
``core.pinyin`` (read once per server), and a message with the install command when the data
package is missing.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import pinyin
from core.i18n import _
from core.wording import RATIO_NOTE, times

KEY = "lm.pinyin"
# Pairs that sound the same; the first sentence of each is the one that makes sense. After the
# tutorial's: the same choice of oil in another context, two the context decides, one that word
# frequency decides, and another the model gets wrong.
EXAMPLES = [pinyin.TUTORIAL_PAIR,
            ("中东的石油价格上涨", "中东的食油价格上涨"),
            ("我的电脑坏了", "我的电脑怀了"),
            ("现在几点了", "现在几点乐"),
            ("我们今天去学校上课", "我们今天去学校尚可"),
            ("下雨了记得带伞", "下雨了记得带三")]
CONTEXT_COLORS = {"trigram": "#2ca02c", "bigram": "#1f77b4", "unigram": "#ff7f0e",
                  "unseen word": "#d62728", "outside the lexicon": "#7f7f7f"}
LAYOUT = dict(height=330, margin=dict(l=10, r=10, t=50, b=10),
              legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))


@st.cache_resource(show_spinner=False)
def _cached_model(folder: str) -> pinyin.SunPinyinModel:
    return pinyin.load_model(folder)


def _model(folder: str) -> pinyin.SunPinyinModel:
    """The model, read once per server (the spinner, in the visitor's language, shows when the
    read takes over half a second: only the first time)."""
    with st.spinner(_("Reading the open-gram word trigram (39 MB, once per server) ...")):
        return _cached_model(folder)


def ratio_text(gap: float) -> str:
    """How many times as probable, for a difference ``gap`` of ln P: "4.3", "2,760" or, for
    big gaps, "e^25.9 ≈ 1.8 × 10^11" (``core.wording.times``)."""
    return times(gap)


def render_pinyin_tab() -> None:
    st.markdown(_(
        "The tutorial's payoff: speech or pinyin input gives *sounds*, and a language model picks "
        "the characters. The page's other models learn from small corpora in which neither 食油 "
        "nor 石油 occurs. Here is a model that has seen modern Chinese at scale: **open-gram**, "
        "the word trigram of the **sunpinyin** input method (Debian's `sunpinyin-data`), counted "
        "on Chinese web text, with words rather than characters as tokens."))
    try:
        model = _model(str(pinyin.data_folder()))   # raises before the cache when missing
    except pinyin.PinyinUnavailable as error:
        st.warning(str(error))
        st.code(pinyin.INSTALL_COMMAND, language="bash")
        return
    sizes = model.sizes
    st.caption(_("{words:,} words in the lexicon · {unigrams:,} unigrams, {bigrams:,} bigrams, "
                 "{trigrams:,} trigrams (Katz back-off) · read in {seconds:.2f} s")
               .format(words=sizes["words in the lexicon"], unigrams=sizes["unigrams"],
                       bigrams=sizes["bigrams"], trigrams=sizes["trigrams"],
                       seconds=model.load_seconds))
    _conversion(model)
    st.divider()
    _pair(model)


# ----------------------------------------------------------------------------- pinyin → characters


def _conversion(model: pinyin.SunPinyinModel) -> None:
    st.subheader(_("Pinyin → characters"))
    left, right = st.columns([3, 1])
    typed = left.text_input(
        _("Pinyin"), pinyin.TUTORIAL_PINYIN, key=f"{KEY}.input",
        help=_("Syllables separated by spaces (chu fang li); tones are optional (chu2, chú) and "
               "ignored; ü is v (nv, lve). Without spaces the model also picks the split."))
    count = right.slider(_("Sentences to show"), 2, 10, 5, key=f"{KEY}.count")
    try:
        conversion = model.convert(typed, count=count)
    except ValueError as error:
        st.error(str(error))
        return
    best = conversion.best
    st.markdown(f"### {best.text}")
    st.caption(_("{syllables} → {words} · ln P = {log_p:.2f} · {candidates:,} candidate words, "
                 "searched in {ms:.0f} ms")
               .format(syllables=" ".join(conversion.syllables), words=best.segmented,
                       log_p=best.log_probability, candidates=conversion.words_considered,
                       ms=conversion.seconds * 1000))
    if conversion.syllables == model.lexicon.split_pinyin(pinyin.TUTORIAL_PINYIN):
        _tutorial_verdict(model, best)
    rows = [{"#": rank, _("sentence"): s.text, _("words"): s.segmented,
             "ln P": s.log_probability,
             _("P(best) / P(this): times less probable"): (
                 "—" if rank == 1 else ratio_text(best.log_probability - s.log_probability))}
            for rank, s in enumerate(conversion.sentences, start=1)]
    st.dataframe(pd.DataFrame(rows).set_index("#").style.format({"ln P": "{:.2f}"}),
                 width="stretch")
    st.caption(" ".join((
        _("The search is sunpinyin's: a Viterbi over the lexicon's words that fit the syllables "
          "(for each reading the 32 it lists first), keeping the 32 best model states at each "
          "syllable, so the list holds the best sentences that beam kept. ln P counts each word "
          "given the two before it, and the end of the clause."),
        _(RATIO_NOTE),
        _("The last column is that ratio: how many times less probable than the first sentence "
          "the model finds each one."))))
    st.plotly_chart(words_figure([(_("best"), best)]), key=f"{KEY}.chart.best")
    st.caption(_("The words of the best sentence, {sentence}, in order: word 1 is its first "
                 "word, not a runner-up.").format(sentence=best.text))


def _tutorial_verdict(model: pinyin.SunPinyinModel, best: pinyin.Sentence) -> None:
    """Says whether the model writes the tutorial's sentence, and if not, what it prefers."""
    right_text, wrong_text = pinyin.TUTORIAL_PAIR
    right, wrong = model.score(right_text), model.score(wrong_text)
    if best.text == right_text:
        st.success(_("The model writes the tutorial's sentence, {sentence}: cooking oil, not "
                     "petroleum.").format(sentence=right_text))
        return
    preferred = right if right.log_probability >= wrong.log_probability else wrong
    st.warning(_(
        "**The model gets the tutorial's example wrong.** It writes {best} (ln P {best_log_p:.2f}), "
        "which is not a sentence a person would say (sunpinyin, the input method this model comes "
        "from, writes the same). The tutorial's {right} scores ln P {right_log_p:.2f} ({gap:.1f} "
        "lower: the model finds it {ratio} times less probable than its choice, since a "
        "difference d of ln P is a ratio e^d of probabilities) and {wrong} {wrong_log_p:.2f}; of "
        "the two the model prefers {preferred}. See why below, under *Which sentence is "
        "likelier?*").format(
            best=best.text, best_log_p=best.log_probability, right=right_text,
            right_log_p=right.log_probability, gap=best.log_probability - right.log_probability,
            ratio=ratio_text(best.log_probability - right.log_probability), wrong=wrong_text,
            wrong_log_p=wrong.log_probability,
            preferred=_("食油 (cooking oil)") if preferred is right else _("石油 (petroleum)")))


# ----------------------------------------------------------------------------- scoring a pair


def _pair(model: pinyin.SunPinyinModel) -> None:
    st.subheader(_("Which sentence is likelier?"))
    st.markdown(_("Two sentences that sound the same; a good language model gives the one that "
                  "makes sense the higher probability. P(sentence) = Π P(word | the two words "
                  "before it), the words found by the most probable segmentation into the "
                  "model's lexicon."))
    example = st.selectbox(_("Example"), range(len(EXAMPLES)), key=f"{KEY}.pair",
                           format_func=lambda i: (
                               _("the tutorial's: {a} / {b}") if i == 0 else "{a} / {b}")
                           .format(a=EXAMPLES[i][0], b=EXAMPLES[i][1]))
    first, second = st.columns(2)
    a = first.text_input(_("Sentence A"), EXAMPLES[example][0], key=f"{KEY}.a.{example}")
    b = second.text_input(_("Sentence B"), EXAMPLES[example][1], key=f"{KEY}.b.{example}")
    if not a.strip() or not b.strip():
        st.info(_("Type two sentences to compare."))
        return
    try:
        scored = {"A": model.score(a), "B": model.score(b)}
    except ValueError as error:
        st.error(str(error))
        return
    table = pd.DataFrame([{_("sentence"): s.text, _("words"): s.segmented,
                           "ln P": s.log_probability,
                           _("words seen after their context (bigram, trigram)"):
                               _("{seen} of {total}").format(
                                   seen=sum(w.order >= 2 for w in s.words), total=len(s.words))}
                          for s in scored.values()], index=list(scored))
    st.dataframe(table.style.format({"ln P": "{:.2f}"}), width="stretch")
    winner = "A" if scored["A"].log_probability >= scored["B"].log_probability else "B"
    loser = "B" if winner == "A" else "A"
    gap = scored[winner].log_probability - scored[loser].log_probability
    verdict = _("The word trigram prefers **{winner}** ({sentence}): it finds it {ratio} times as "
                "probable as {loser} — P({winner}) / P({loser}) = e^(ln P({winner}) − ln "
                "P({loser})) = e^{gap:.1f}.").format(winner=winner, sentence=scored[winner].text,
                                                     ratio=ratio_text(gap), loser=loser, gap=gap)
    why = _why(scored["A"], scored["B"], _not_words(model, scored["A"], scored["B"]))
    if (a, b) != EXAMPLES[example]:
        st.markdown(f"{verdict} {why}")
    elif winner == "A":
        st.success(_("{verdict} Right: that is the sentence that makes sense. {why}")
                   .format(verdict=verdict, why=why))
    else:
        st.warning(_("{verdict} **It gets this one wrong**: {sentence} is the sentence that makes "
                     "sense. {why}").format(verdict=verdict, sentence=a, why=why))
    st.plotly_chart(words_figure(list(scored.items())), key=f"{KEY}.chart.pair")
    with st.expander(_("Each word's probability and the context the model used")):
        st.dataframe(words_table(scored), width="stretch", hide_index=True)


def _why(a: pinyin.Sentence, b: pinyin.Sentence, not_words: list[str]) -> str:
    """What decided, read off the two scored sentences: the words where they differ and the
    context the model had for each."""
    parts, contexts = [], set()
    for sentence, other in ((a, b), (b, a)):
        own = [w for w in sentence.words if w.word not in {x.word for x in other.words}]
        contexts |= {w.context for w in own}
        if own:
            parts.append(_("in {sentence}: {words}").format(sentence=sentence.text, words=_(", ").join(
                _("{word} ({context}, ln P {log_p:.2f})").format(
                    word=w.word, context=_(w.context), log_p=w.log_probability) for w in own)))
    if not parts:
        return ""
    text = _("Where the sentences differ, the model scores {parts}.").format(
        parts=_("; ").join(parts)) + " "
    if contexts & {"bigram", "trigram"}:
        text += _("*Bigram* and *trigram*: the model saw that word right after the word(s) "
                  "before it, so the context counts.") + " "
    if "unigram" in contexts:
        text += _("*Unigram*: the model never saw that word after the words before it, so it "
                  "falls back on how common the word is on its own; the context does not reach "
                  "it.") + " "
    if not_words:
        # (at most two: the differing span of each sentence)
        words = not_words[0] if len(not_words) == 1 else _("{first} and {second}").format(
            first=not_words[0], second=" and ".join(not_words[1:]))
        text += _("{words} is not a word of its lexicon, so it is read character by character."
                  ).format(words=words)
    return text.strip()


def _not_words(model: pinyin.SunPinyinModel, a: pinyin.Sentence,
               b: pinyin.Sentence) -> list[str]:
    """Where one sentence has a word at the first difference, the same span of the other
    sentence when that span is not a lexicon word (石油 in B, so 食油 in A)."""
    if len(a.text) != len(b.text) or a.text == b.text:
        return []
    first = next(i for i, (x, y) in enumerate(zip(a.text, b.text)) if x != y)
    found = []
    for sentence, other in ((a, b), (b, a)):
        start = 0
        for word in sentence.words:
            if start <= first < start + len(word.word):
                span = other.text[start:start + len(word.word)]
                if len(span) > 1 and model.word_id(span) is None:
                    found.append(span)
                break
            start += len(word.word)
    return list(dict.fromkeys(found))


def words_table(scored: dict[str, pinyin.Sentence]) -> pd.DataFrame:
    rows = []
    for label, sentence in scored.items():
        for position, word in enumerate(list(sentence.words) + ([sentence.end] if sentence.end
                                                                 else []), start=1):
            rows.append({_("sentence"): label, _("position"): position,
                         _("word"): word.word if word is not sentence.end else _("， (clause end)"),
                         "ln P": round(word.log_probability, 3),
                         _("context used"): _(word.context)})
    return pd.DataFrame(rows)


def words_figure(sentences: list[tuple[str, pinyin.Sentence]]) -> go.Figure:
    """ln P of each word, coloured by the context the model could use (trigram … unigram). The x
    axis is each word's position in its sentence ("word 3"; with two sentences "A · word 3")."""
    figure = go.Figure()
    shown = set()
    for label, sentence in sentences:
        words = list(sentence.words) + ([sentence.end] if sentence.end else [])
        for position, word in enumerate(words, start=1):
            context = word.context
            name = _(context)
            figure.add_bar(
                x=[_("{sentence} · word {position}").format(sentence=label, position=position)
                   if len(sentences) > 1 else _("word {position}").format(position=position)],
                y=[word.log_probability], text=[word.word],
                textposition="outside", name=name, legendgroup=context,
                showlegend=context not in shown, marker_color=CONTEXT_COLORS[context],
                hovertemplate=f"{word.word}: ln P %{{y:.2f}} ({name})<extra>{label}</extra>")
            shown.add(context)
    figure.update_layout(title=_("ln P of each word (colour: the context the model used)"),
                         xaxis_title=(_("sentence · position of the word in it")
                                      if len(sentences) > 1 else
                                      _("position of the word in the sentence")),
                         yaxis_title=_("ln P (higher is likelier)"), **LAYOUT)
    return figure
