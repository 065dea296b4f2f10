"""The language-model page: corpus, n-gram baseline, RNN/GRU/LSTM training, generation, scoring.

``LanguageModelPanel`` lays the page out its own way (the corpus picker over the settings, then
five tabs) and takes the rest from the shell (``ui/shell.py``): its session keys
(``self.key``), Train/Stop, the uploads and which view the *Neural model* tab shows (``show``: a
job under the live poll, a run, an upload); with none open, the model shipped for the corpus.
"""
from __future__ import annotations

import math
import time

import pandas as pd
import streamlit as st
import torch

from core import checkpoints, ngram, runs
from core.data import dataset_name, text
from core.i18n import N_, _, shown
from core.jobs import manager
from core.lm_task import MAX_EVAL_TOKENS, POEM_FORMS, LanguageModel, perplexity
from core.paths import CHECKPOINTS, cache_root
from core.registry import load_model
from core.runs import METRIC_COLUMNS
from core.wording import RATIO_NOTE, times
from ui import lm_charts, state
from ui.compare_controls import compare_controls
from ui.pinyin_view import render_pinyin_tab
from ui.shell import Panel

UPLOAD = N_("Your text (.txt upload)")   # the picker's option (compared): shown through _()


# Process-wide caches: a corpus, its n-gram counts and curve are built once per server; the
# counts and the curve are also kept on disk, so a corpus seen before opens in well under a second.
@st.cache_resource(show_spinner=False, max_entries=4)
def corpus_for(name: str, level: str, min_count: int):
    if dataset_name() == "synthetic":  # tests: a tiny text in the corpus's language
        info = text.CORPORA.get(name)
        return text.make_synthetic(level, info.language if info else "en")
    return text.load(name, level, min_count)


@st.cache_resource(show_spinner=False, max_entries=4)
def counts_for(name: str, level: str, min_count: int):
    corpus = corpus_for(name, level, min_count)
    return ngram.cached_counts(corpus.train_ids, len(corpus.vocab), cache_root())


@st.cache_data(show_spinner=False, max_entries=16, persist="disk")
def curve_for(name: str, level: str, min_count: int, k: float,
              counts_key: str = "") -> dict[str, list[float]]:
    """(``counts_key`` names the exact tokens, so a changed corpus is not read from disk.)"""
    corpus = corpus_for(name, level, min_count)
    return ngram.perplexity_curve(counts_for(name, level, min_count),
                                  corpus.val_ids[:MAX_EVAL_TOKENS], k=k)


_READY: set[tuple] = set()      # corpora prepared in this process


def prepare_corpus(name: str, level: str, min_count: int, k: float):
    """The corpus, with its n-gram counts and curve ready; the first time in a process the steps
    are shown as they happen (a big corpus counted for the first time takes a few seconds)."""
    key = (name, level, min_count)
    if key in _READY:
        return corpus_for(name, level, min_count)
    title = _(text.CORPORA[name].title if name in text.CORPORA else text.YOUR_TEXT)
    started = time.perf_counter()
    with st.status(_("Preparing {title} …").format(title=title), expanded=True) as status:
        status.write(_("Reading the text and splitting it by document into training and "
                       "validation …"))
        corpus = corpus_for(name, level, min_count)
        saved = (cache_root() / f"ngram-{ngram.counts_key(corpus.train_ids, len(corpus.vocab))}"
                 ".npz").exists()
        status.write(_("Loading the n-gram counts saved on this machine …") if saved else
                     _("Counting n-grams of orders 1 to {order} in {tokens:,} tokens (saved for "
                       "next time) …").format(order=ngram.MAX_ORDER, tokens=len(corpus.train_ids)))
        counts_for(name, level, min_count)
        status.write(_("Validation perplexity of each n-gram order on {tokens:,} tokens …")
                     .format(tokens=min(len(corpus.val_ids), MAX_EVAL_TOKENS)))
        curve_for(name, level, min_count, k, counts_key_of(corpus))
        status.update(label=_("{title}: ready in {seconds:.1f} s")
                      .format(title=title, seconds=time.perf_counter() - started),
                      state="complete", expanded=False)
    _READY.add(key)
    return corpus


def counts_key_of(corpus) -> str:
    return ngram.counts_key(corpus.train_ids, len(corpus.vocab))


def language_model(payload: dict) -> LanguageModel:
    return load_model(payload, torch.device("cpu"))


@st.cache_resource(show_spinner=False, max_entries=6)
def _model_from_file(path: str, mtime: float, model: str) -> LanguageModel:
    return language_model(checkpoints.load(path, expected_model=model))


def model_from_file(path: str, mtime: float, model: str) -> LanguageModel:
    """The model of a checkpoint file, read once per server (the spinner, in the visitor's
    language, shows when the read takes over half a second: only when it is not cached)."""
    with st.spinner(_("Loading the model ...")):
        return _model_from_file(path, mtime, model)


class LanguageModelPanel(Panel):
    """Its own layout: the corpus picker over the settings, and five tabs. The *Neural model*
    tab's views draw against the best n-gram of the corpus (``best``) and, for an English
    character model, d2l's figures (``references``), which ``neural_tab`` sets first."""

    best = math.inf
    references: tuple = ()

    def shipped_path(self, corpus: str):
        """The model shipped for a corpus (the page's view when none is open)."""
        return CHECKPOINTS / f"{self.name}-{corpus}.pt"

    def link_opened(self, link) -> None:
        """The corpus is the picker's widget: a link's corpus selects it there."""
        corpus = link.values.get("corpus")
        if corpus in text.CORPORA:
            st.session_state[self.key("corpus")] = corpus

    def check_upload(self, payload: dict) -> None:
        language_model(payload)  # refuse a broken one now, not in a tab

    def render(self) -> None:
        spec = self.spec
        st.title(_(spec.title))
        st.caption(_(spec.summary))
        controls, view = st.columns([1, 2.6], gap="large")
        with controls:
            corpus_name = self.corpus_picker()
            config = self.lm_controls(corpus_name)
        with view:
            if corpus_name is None:
                st.info(_("Upload a UTF-8 .txt file on the left to train on your own text."))
                return
            level = st.session_state.get(self.key("field", "level"), "char")
            min_count = config.min_count if config else 2
            try:
                corpus = prepare_corpus(corpus_name, level, min_count,
                                        st.session_state.get(self.key("k"), 0.1))
            except text.CorpusError as error:
                st.error(str(error))
                return
            model, model_label = self.active_model(corpus_name)
            tabs = st.tabs([_("Corpus and n-grams"), _("Neural model"), _("Generate"),
                            _("Score sentences"), _("Pinyin (word trigram)")],
                           key=self.key("field", "tab"))  # keyed: a
            # rerun (Generate, a job's progress) keeps the learner on the tab they were on
            with tabs[0]:
                order, smoothing, k = self.ngram_tab(corpus, corpus_name, level, min_count, model)
            with tabs[1]:
                self.neural_tab(corpus, corpus_name, level, min_count)
            ngram_model = ngram.NGramModel(counts_for(corpus_name, level, min_count), order,
                                           smoothing, k)
            with tabs[2]:
                self.generate_tab(corpus, corpus_name, model, model_label, ngram_model)
            with tabs[3]:
                self.score_tab(corpus, model, model_label, ngram_model)
            with tabs[4]:
                render_pinyin_tab()

    def lm_controls(self, corpus_name: str | None):
        st.session_state.setdefault(self.key("field", "corpus"), "tang-poems")
        config = self.settings()
        self.train_stop(config, disabled=corpus_name is None)
        compare_controls(self, config)
        st.divider()
        current = st.session_state.get(self.key("view"))
        if corpus_name and self.shipped_path(corpus_name).exists() and current is not None:
            if st.button(_("Use the shipped model"), width="stretch", key=self.key("pretrained"),
                         help=_("the checkpoint in checkpoints/ trained on this corpus")):
                st.session_state.pop(self.key("view"), None)
                st.rerun()
        self.checkpoint_upload(_("Open a language-model checkpoint (.pt)"), "ckpt_upload")
        return config

    # The Neural model tab: the shell's views -----------------------------------------------------
    def neural_tab(self, corpus, corpus_name, level, min_count) -> None:
        curve = curve_for(corpus_name, level, min_count, st.session_state.get(self.key("k"), 0.1),
                          counts_key_of(corpus))
        self.best = min(min(values) for values in curve.values())
        # d2l's figures are English characters: context for an English char model only.
        self.references = (self.spec.references if level == "char" and corpus.language == "en"
                           else ())
        current = st.session_state.get(self.key("view"))
        if current is None:
            self.shipped_view(corpus_name)
        else:
            self.show(current)

    def live_view(self, job) -> None:
        self.curves(job.metrics(), self.key("job"))

    def job_done(self, job) -> None:
        if not job.is_active and job.run.checkpoint_path.exists():
            st.download_button(_("Download checkpoint"), job.run.checkpoint_path.read_bytes(),
                               file_name=f"{job.run.id}.pt", key=self.key("download", "job"))

    def run_body(self, run, payload: dict | None) -> None:
        self.curves(run.metrics(), self.key("run"))

    def checkpoint_view(self, payload: dict, raw: bytes, label: str) -> None:
        self.model_view(payload, label)

    def shipped_view(self, corpus_name: str) -> None:
        path = self.shipped_path(corpus_name)
        if not path.exists():
            st.info(_("No shipped model for this text: press **Train** to train one and watch "
                      "its perplexity fall below the n-gram's."))
            return
        self.model_view(state.load_checkpoint_file(path),
                        _("shipped {file}").format(file=path.name), download=path)

    def model_view(self, payload: dict, label: str, download=None) -> None:
        """A checkpoint's model: what it is, its curves; ``download``: the shipped file."""
        metrics = pd.DataFrame(payload.get("metrics", []), columns=METRIC_COLUMNS)
        config = payload["config"]
        st.subheader(_("Model — {label}").format(label=label))
        st.caption(_("{cell}, hidden {hidden}, {layers} layer(s), trained {epochs:g} epochs on "
                     "{corpus}. Press **Train** to train your own with the settings on the left.")
                   .format(cell=config["cell"].upper(), hidden=config["hidden_size"],
                           layers=config["num_layers"], epochs=payload.get("epoch", 0),
                           corpus=config["corpus"]))
        if download is not None:
            st.download_button(_("Download checkpoint"), download.read_bytes(),
                               file_name=download.name, key=self.key("download", "shipped"))
        self.curves(metrics, self.key("ckpt"))

    def curves(self, frame: pd.DataFrame, key: str) -> None:
        """Validation perplexity against the best n-gram's, and the training speed."""
        best, references = self.best, self.references
        val = frame[frame["name"] == "perplexity/val"]
        speed = frame[frame["name"] == "speed/tokens_per_s"]
        columns = st.columns(3)
        if len(val):
            last = float(val["value"].iloc[-1])
            # (the delta must start with its sign: st.metric reads the direction from it)
            columns[0].metric(_("Validation perplexity"), f"{last:.2f}",
                              delta=_("{delta:+.2f} vs best n-gram").format(delta=last - best),
                              delta_color="inverse")
        columns[1].metric(_("Best n-gram, same split"), f"{best:.2f}")
        if len(speed):
            median = float(speed["value"].tail(5).median())
            columns[2].metric(_("Training speed"), f"{median:,.0f} tok/s",
                              help=_("tokens (characters or words) per second, median of the last "
                                     "five logging windows"))
        st.plotly_chart(lm_charts.perplexity_figure(frame, best, references), key=f"{key}.ppl")
        if references:
            st.caption(_("Dotted lines: d2l's character-level perplexities on The Time Machine, a "
                         "different (smaller, English) corpus — context, not a target."))

    # The corpus and the other tabs ---------------------------------------------------------------
    def corpus_picker(self) -> str | None:
        names = list(text.CORPORA)
        labels = {name: text.CORPORA[name].title for name in names} | {UPLOAD: UPLOAD}
        choice = st.selectbox(_("Corpus"), names + [UPLOAD],
                              format_func=lambda option: _(labels[option]),
                              key=self.key("corpus"), help=_("offline defaults from Debian's "
                                                             "fortunes-zh and fortunes packages"))
        if choice != UPLOAD:
            st.caption(_(text.CORPORA[choice].description))
            name = choice
            english = text.CORPORA[choice].language == "en"
        else:
            upload = st.file_uploader(_("A UTF-8 text file"), type=["txt"],
                                      key=self.key("text_upload"),
                                      help=_("at most {chars:,} characters are used")
                                      .format(chars=text.MAX_UPLOAD_CHARS),
                                      max_upload_size=state.upload_cap_mb())
            if upload is None:
                st.session_state.pop(self.key("uploaded"), None)
                return None
            seen = st.session_state.get(self.key("uploaded"))
            if seen is None or seen[0] != upload.file_id:
                try:
                    too_big = state.upload_too_big(upload.size)
                    if too_big:
                        raise text.CorpusError(too_big)
                    corpus_name, notes = text.store_upload(upload.getvalue(), upload.name)
                    seen = (upload.file_id, corpus_name, notes, None)
                except text.CorpusError as error:
                    seen = (upload.file_id, None, [],
                            _("{file} refused: {error}").format(file=upload.name, error=error))
                st.session_state[self.key("uploaded")] = seen
            _file_id, name, notes, error = seen
            if error:
                st.error(error)
                return None
            for note in notes:
                st.warning(shown(note))
            english = True
        st.session_state.setdefault(self.key("field", "level"), "char")
        if not english and st.session_state[self.key("field", "level")] == "word":
            st.session_state[self.key("field", "level")] = "char"
        st.radio(_("Tokens"), ["char", "word"], key=self.key("field", "level"), horizontal=True,
                 format_func={"char": _("characters"), "word": _("words")}.get,
                 disabled=not english,
                 help=_("word level needs spaces between words (English); Chinese is modelled by "
                        "character"))
        previous = st.session_state.get(self.key("field", "corpus"))
        st.session_state[self.key("field", "corpus")] = name
        if previous is not None and previous != name:
            current = st.session_state.get(self.key("view"))
            if current and current[0] != "job":
                st.session_state.pop(self.key("view"), None)  # show the new corpus's shipped model
        return name

    def active_model(self, corpus_name: str) -> tuple[LanguageModel | None, str]:
        """The neural model generation and scoring use: a run's, an upload, or the shipped one."""
        current = st.session_state.get(self.key("view"))
        try:
            if current is None:
                path = self.shipped_path(corpus_name)
                if path.exists():
                    return (model_from_file(str(path), path.stat().st_mtime, self.name),
                            _("shipped {file}").format(file=path.name))
                return None, ""
            kind, value = current
            if kind == "upload":
                return (language_model(value["payload"]),
                        _("uploaded {file}").format(file=value["name"]))
            run = manager().get(value).run if kind == "job" and manager().get(value) else None
            if kind == "run":
                run = runs.get(value)
            if run is not None and run.checkpoint_path.exists():
                path = run.checkpoint_path
                return (model_from_file(str(path), path.stat().st_mtime, self.name),
                        _("run {run}").format(run=run.id))
        except (checkpoints.CheckpointError, ValueError, KeyError, RuntimeError) as error:
            st.warning(_("The model cannot be loaded: {error}").format(error=error))
        return None, ""

    def ngram_tab(self, corpus, corpus_name, level, min_count, model
                  ) -> tuple[int, str, float]:
        sizes = corpus.sizes
        table = pd.DataFrame({_("training"): [sizes["documents"][0], sizes["characters"][0],
                                              sizes["tokens"][0]],
                              _("validation"): [sizes["documents"][1], sizes["characters"][1],
                                                sizes["tokens"][1]]},
                             index=[_("documents"), _("characters"), _("tokens")])
        left, right = st.columns([1, 1.4])
        with left:
            st.markdown(_("**{title}** · vocabulary **{size:,}** tokens (those seen fewer than "
                          "{min_count} times in training become `<unk>`)")
                        .format(title=_(corpus.title), size=len(corpus.vocab), min_count=min_count))
            st.dataframe(table, width="stretch")
            st.caption(_("Split by document (a poem, a fortune, a paragraph), shuffled with a fixed "
                         "seed; perplexities use the first {tokens:,} validation tokens.")
                       .format(tokens=MAX_EVAL_TOKENS))
            for note in corpus.notes:
                st.caption(_("Note: {note}").format(note=shown(note)))
        with right:
            st.text_area(_("A validation document"), corpus.sample, height=190, disabled=True,
                         key=self.key("sample", corpus_name))
        order_column, smoothing_column, k_column = st.columns(3)
        order = order_column.slider(_("n-gram order n"), 1, ngram.MAX_ORDER, 3,
                                    key=self.key("order"),
                                    help=_("the Markov assumption: each token depends on the "
                                           "previous n − 1 only"))
        smoothing = smoothing_column.selectbox(
            _("Smoothing"), ["kneser-ney", "add-k"], key=self.key("smoothing"),
            format_func=lm_charts.SMOOTHING_LABELS.get,
            help=_("how probability is given to continuations never seen in training. add-k: "
                   "add k to every count. Kneser-Ney (interpolated): take a fixed discount off "
                   "every count seen and give that mass to the next shorter history, always mixed "
                   "in; the shorter histories count in how many different contexts a token "
                   "follows (continuation counts), not how often it occurs"))
        k = k_column.select_slider("k (add-k)", [0.001, 0.01, 0.1, 0.5, 1.0], value=0.1,
                                   key=self.key("k"), disabled=smoothing != "add-k")
        curve = curve_for(corpus_name, level, min_count, k, counts_key_of(corpus))
        neural = _neural_val(model, corpus)
        st.plotly_chart(lm_charts.ngram_curve_figure(curve, order, neural), key=self.key("curve"))
        best_order = min(range(len(curve["kneser-ney"])), key=curve["kneser-ney"].__getitem__) + 1
        addk = curve["add-k"]
        addk_best = min(range(len(addk)), key=addk.__getitem__) + 1
        st.markdown(_(
            "With Kneser-Ney the validation perplexity is lowest at **n = {kn_order}** "
            "({kn_value:.2f}); with add-k (k = {k:g}) at **n = {addk_order}** ({addk_value:.2f}), "
            "and it rises after: a longer history fits the training text better, but most long "
            "contexts of the validation text were never seen in training — the data runs out. "
            "Kneser-Ney degrades far less: it takes a fixed discount off every count it has seen "
            "and always mixes in the next shorter history with that mass (interpolation), and its "
            "shorter histories count in how many *different* contexts a token follows "
            "(continuation counts) rather than how often it occurs — a token common only after "
            "one word gets little weight after unseen ones.").format(
                kn_order=best_order, kn_value=curve["kneser-ney"][best_order - 1], k=k,
                addk_order=addk_best, addk_value=addk[addk_best - 1]))
        return order, smoothing, k

    def generate_tab(self, corpus, corpus_name, model, model_label, ngram_model) -> None:
        sources = (["neural"] if model is not None else []) + ["n-gram"]
        left, right = st.columns([1, 1.6])
        with left:
            source = st.radio(_("Model"), sources, horizontal=True, key=self.key("gen", "source"),
                              format_func={"neural": _("neural ({model})").format(model=model_label),
                                           "n-gram": f"{ngram_model.order}-gram "
                                                     f"({ngram_model.smoothing})"}.get)
            prompt = st.text_input(_("Prompt"), text.PROMPTS.get(corpus_name, "The "),
                                   key=self.key("gen", "prompt", corpus_name))
            temperature = st.slider(_("Temperature"), 0.0, 2.0, 0.8, 0.05,
                                    key=self.key("gen", "temperature"),
                                    help=_("below 1 sharpens the distribution (safer, repetitive), "
                                           "above 1 flattens it (bolder, more mistakes); 0 = "
                                           "always the likeliest token"))
            length = st.slider(_("Length (tokens)"), 10, 500, 120, key=self.key("gen", "length"))
            seed = st.number_input(_("Seed"), 0, 2**31 - 1, 0, key=self.key("gen", "seed"))
            go = st.button(_("Generate"), type="primary", key=self.key("gen", "go"))
            poem = None
            if corpus_name == "tang-poems" and source == "neural":
                st.divider()
                form = st.selectbox(_("Form"), list(POEM_FORMS), key=self.key("gen", "form"),
                                    format_func=lambda f: _("{form} ({lines} lines of {chars} "
                                                            "characters)").format(
                                        form=f, lines=POEM_FORMS[f][0], chars=POEM_FORMS[f][1]))
                poem = st.button(_("写一首唐诗 · Write a Tang poem"), key=self.key("gen", "poem"),
                                 help=_("the model chooses every character; the decoding is only "
                                        "held to the form: a title, an author, then lines of five "
                                        "or seven characters with ， and 。 — temperature and "
                                        "seed as above"))
        with right:
            if poem:
                try:
                    written = model.write_poem(form, max(temperature, 0.05), int(seed))
                    st.session_state[self.key("gen", "output")] = ("poem", written)
                except ValueError as error:
                    st.session_state[self.key("gen", "output")] = ("error", str(error))
                st.session_state.pop(self.key("gen", "took"), None)
            elif go:
                started = time.perf_counter()
                if source == "neural":
                    output = prompt + model.generate(prompt, length, temperature, int(seed))
                else:
                    ids = corpus.vocab.encode(text.tokenize(prompt, corpus.level)).tolist()
                    out = ngram_model.generate(ids, length, temperature,
                                               torch.Generator().manual_seed(int(seed)))
                    output = prompt + corpus.vocab.decode(out)
                st.session_state[self.key("gen", "output")] = ("text", output)
                st.session_state[self.key("gen", "took")] = time.perf_counter() - started
            kind, output = st.session_state.get(self.key("gen", "output"), (None, None))
            if kind == "poem":
                lines = "  \n".join(output.couplets)
                st.markdown(_("#### 《{title}》\n*{author}* (the model's choice of author) · "
                              "{form}\n\n{lines}").format(title=output.title, author=output.author,
                                                          form=output.form, lines=lines))
                st.caption(_("Every character was sampled from the model at temperature "
                             "{temperature:g}, seed {seed}; only the form was imposed.")
                           .format(temperature=temperature, seed=seed))
                st.code(str(output), language=None)
            elif kind == "text":
                # Not a keyed widget: a keyed text area keeps its first value across reruns.
                st.markdown(_("**Generated text**"))
                st.code(output, language=None, wrap_lines=True, height=320)
                took = st.session_state.get(self.key("gen", "took"))
                if took:
                    st.caption(_("generated in {ms:.0f} ms").format(ms=took * 1000))
            elif kind == "error":
                st.error(output)
            else:
                st.info(_("Press **Generate** to write text from the prompt."))

    def score_tab(self, corpus, model, model_label, ngram_model) -> None:
        pairs = text.EXAMPLE_PAIRS["zh" if corpus.language == "zh" else "en"]
        st.markdown(_("A good language model prefers the sentence that makes sense, even when "
                      "both **sound the same** — the tutorial's example: 厨房里**食油**用完了 (the "
                      "kitchen is out of cooking oil) versus 厨房里**石油**用完了 (… out of "
                      "petroleum)."))
        example = st.selectbox(_("Example pair"), range(len(pairs)),
                               key=self.key("score", "pair", corpus.name),
                               index=text.DEFAULT_PAIR.get(corpus.name, 0),
                               format_func=lambda i: f"{pairs[i][0]}  /  {pairs[i][1]}")
        first, second = st.columns(2)
        a = first.text_input(_("Sentence A"), pairs[example][0],
                             key=self.key("score", "a", corpus.name, str(example)))
        b = second.text_input(_("Sentence B"), pairs[example][1],
                              key=self.key("score", "b", corpus.name, str(example)))
        rows = [_score(model, ngram_model, corpus, s) for s in (a, b) if s.strip()]
        if len(rows) < 2:
            st.info(_("Type two sentences to compare."))
            return
        shown = pd.DataFrame([{k: v for k, v in row.items() if not k.startswith("_")}
                              for row in rows],
                             index=["A", "B"])
        numeric = [c for c in shown.columns if "ln P" in c or "perplexity" in c]
        # The columns are named in English (the code reads them); their headers are translated.
        st.dataframe(shown.rename(columns=lambda c: _(c))
                     .style.format({_(c): "{:.3f}" for c in numeric}), width="stretch")
        verdicts = []
        sentences = ((_("The {order}-gram prefers **{winner}**: it finds it {ratio} times as "
                        "probable as {loser} (P({winner}) / P({loser}) = e^{gap:.1f})."),
                      "n-gram ln P"),
                     (_("The neural model ({model}) prefers **{winner}**: it finds it {ratio} times "
                        "as probable as {loser} (P({winner}) / P({loser}) = e^{gap:.1f})."),
                      "neural ln P"))
        for sentence, column in sentences:
            if column in shown:
                winner = "A" if shown.loc["A", column] >= shown.loc["B", column] else "B"
                gap = abs(shown.loc["A", column] - shown.loc["B", column])
                loser = "B" if winner == "A" else "A"
                verdicts.append(sentence.format(order=ngram_model.order, model=model_label,
                                                winner=winner, loser=loser, ratio=times(gap),
                                                gap=gap))
        st.markdown(" ".join(verdicts))
        st.caption(_(RATIO_NOTE))
        if any(row["unknown"] for row in rows):
            st.caption(_("Tokens never seen in training are scored as `<unk>`."))
        if model is not None:
            st.plotly_chart(lm_charts.token_figure(rows[0]["_tokens"], rows[0]["_neural_logs"],
                                                   rows[1]["_tokens"], rows[1]["_neural_logs"],
                                                   _("neural model")),
                            key=self.key("score", "tokens"))
        if model is not None and model.vocab.itos != corpus.vocab.itos:
            st.caption(_("The neural model ({model}) was trained on {trained}; the n-gram on "
                         "{corpus}.").format(model=model_label, trained=model.config.corpus,
                                             corpus=corpus.name))


# The columns of the Score sentences table (English names the code reads; headers through _()).
SCORE_COLUMNS = (N_("sentence"), N_("tokens"), N_("unknown"), N_("n-gram ln P"),
                 N_("n-gram perplexity"), N_("neural ln P"), N_("neural perplexity"))

_NEURAL_VAL: dict[tuple, float] = {}


def _neural_val(model: LanguageModel | None, corpus) -> float | None:
    """Validation perplexity of the active neural model, when it shares this corpus's vocabulary.
    Computed once per server for a model (the cached models live as long as the process)."""
    if model is None or model.vocab.itos != corpus.vocab.itos:
        return None
    key = (id(model), corpus.name, corpus.level, len(corpus.val_ids))
    if key not in _NEURAL_VAL:
        if len(_NEURAL_VAL) > 64:
            _NEURAL_VAL.clear()
        _NEURAL_VAL[key] = perplexity(model.network, corpus.val_ids[:MAX_EVAL_TOKENS])
    return _NEURAL_VAL[key]


def _score(model, ngram_model, corpus, sentence: str) -> dict:
    row = {"sentence": sentence}
    tokens = text.tokenize(sentence, corpus.level)
    ids = corpus.vocab.encode(tokens)
    newline = corpus.vocab.stoi.get("\n")
    logs = ngram_model.log_probabilities(ids, [newline] if newline is not None else [])
    row["tokens"] = len(tokens)
    row["unknown"] = int((ids == 0).sum())
    row["n-gram ln P"] = sum(logs)
    row["n-gram perplexity"] = math.exp(-sum(logs) / max(len(logs), 1))
    row["_ngram_logs"] = logs
    row["_tokens"] = tokens
    if model is not None:
        _tokens, neural_logs = model.score(sentence)
        row["neural ln P"] = sum(neural_logs)
        row["neural perplexity"] = math.exp(-sum(neural_logs) / max(len(neural_logs), 1))
        row["_neural_logs"] = neural_logs
    return row
