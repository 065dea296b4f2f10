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

UPLOAD = "Your text (.txt upload)"


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
    title = text.CORPORA[name].title if name in text.CORPORA else "your text"
    started = time.perf_counter()
    with st.status(f"Preparing {title} …", expanded=True) as status:
        status.write("Reading the text and splitting it by document into training and "
                     "validation …")
        corpus = corpus_for(name, level, min_count)
        saved = (cache_root() / f"ngram-{ngram.counts_key(corpus.train_ids, len(corpus.vocab))}"
                 ".npz").exists()
        status.write("Loading the n-gram counts saved on this machine …" if saved else
                     f"Counting n-grams of orders 1 to {ngram.MAX_ORDER} in "
                     f"{len(corpus.train_ids):,} tokens (saved for next time) …")
        counts_for(name, level, min_count)
        status.write(f"Validation perplexity of each n-gram order on "
                     f"{min(len(corpus.val_ids), MAX_EVAL_TOKENS):,} tokens …")
        curve_for(name, level, min_count, k, counts_key_of(corpus))
        status.update(label=f"{title}: ready in {time.perf_counter() - started:.1f} s",
                      state="complete", expanded=False)
    _READY.add(key)
    return corpus


def counts_key_of(corpus) -> str:
    return ngram.counts_key(corpus.train_ids, len(corpus.vocab))


def language_model(payload: dict) -> LanguageModel:
    return load_model(payload, torch.device("cpu"))


@st.cache_resource(show_spinner="Loading the model ...", max_entries=6)
def model_from_file(path: str, mtime: float, model: str) -> LanguageModel:
    return language_model(checkpoints.load(path, expected_model=model))


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
        st.title(spec.title)
        st.caption(spec.summary)
        controls, view = st.columns([1, 2.6], gap="large")
        with controls:
            corpus_name = self.corpus_picker()
            config = self.lm_controls(corpus_name)
        with view:
            if corpus_name is None:
                st.info("Upload a UTF-8 .txt file on the left to train on your own text.")
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
            tabs = st.tabs(["Corpus and n-grams", "Neural model", "Generate", "Score sentences",
                            "Pinyin (word trigram)"], key=self.key("field", "tab"))  # keyed: a
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
            if st.button("Use the shipped model", width="stretch", key=self.key("pretrained"),
                         help="the checkpoint in checkpoints/ trained on this corpus"):
                st.session_state.pop(self.key("view"), None)
                st.rerun()
        self.checkpoint_upload("Open a language-model checkpoint (.pt)", "ckpt_upload")
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
            st.download_button("Download checkpoint", job.run.checkpoint_path.read_bytes(),
                               file_name=f"{job.run.id}.pt", key=self.key("download", "job"))

    def run_body(self, run, payload: dict | None) -> None:
        self.curves(run.metrics(), self.key("run"))

    def checkpoint_view(self, payload: dict, raw: bytes, label: str) -> None:
        self.model_view(payload, label)

    def shipped_view(self, corpus_name: str) -> None:
        path = self.shipped_path(corpus_name)
        if not path.exists():
            st.info("No shipped model for this text: press **Train** to train one and watch "
                    "its perplexity fall below the n-gram's.")
            return
        self.model_view(state.load_checkpoint_file(path), f"shipped {path.name}", download=path)

    def model_view(self, payload: dict, label: str, download=None) -> None:
        """A checkpoint's model: what it is, its curves; ``download``: the shipped file."""
        metrics = pd.DataFrame(payload.get("metrics", []), columns=METRIC_COLUMNS)
        config = payload["config"]
        st.subheader(f"Model — {label}")
        st.caption(f"{config['cell'].upper()}, hidden {config['hidden_size']}, "
                   f"{config['num_layers']} layer(s), trained {payload.get('epoch', 0):g} epochs "
                   f"on {config['corpus']}. Press **Train** to train your own with the settings "
                   "on the left.")
        if download is not None:
            st.download_button("Download checkpoint", download.read_bytes(),
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
            columns[0].metric("Validation perplexity", f"{last:.2f}",
                              delta=f"{last - best:+.2f} vs best n-gram", delta_color="inverse")
        columns[1].metric("Best n-gram, same split", f"{best:.2f}")
        if len(speed):
            median = float(speed["value"].tail(5).median())
            columns[2].metric("Training speed", f"{median:,.0f} tok/s",
                              help="tokens (characters or words) per second, median of the last "
                                   "five logging windows")
        st.plotly_chart(lm_charts.perplexity_figure(frame, best, references), key=f"{key}.ppl")
        if references:
            st.caption("Dotted lines: d2l's character-level perplexities on The Time Machine, a "
                       "different (smaller, English) corpus — context, not a target.")

    # The corpus and the other tabs ---------------------------------------------------------------
    def corpus_picker(self) -> str | None:
        names = list(text.CORPORA)
        labels = {name: text.CORPORA[name].title for name in names} | {UPLOAD: UPLOAD}
        choice = st.selectbox("Corpus", names + [UPLOAD], format_func=labels.get,
                              key=self.key("corpus"), help="offline defaults from Debian's "
                                                           "fortunes-zh and fortunes packages")
        if choice != UPLOAD:
            st.caption(text.CORPORA[choice].description)
            name = choice
            english = text.CORPORA[choice].language == "en"
        else:
            upload = st.file_uploader("A UTF-8 text file", type=["txt"],
                                      key=self.key("text_upload"),
                                      help=f"at most {text.MAX_UPLOAD_CHARS:,} characters are used",
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
                    seen = (upload.file_id, None, [], f"{upload.name} refused: {error}")
                st.session_state[self.key("uploaded")] = seen
            _, name, notes, error = seen
            if error:
                st.error(error)
                return None
            for note in notes:
                st.warning(note)
            english = True
        st.session_state.setdefault(self.key("field", "level"), "char")
        if not english and st.session_state[self.key("field", "level")] == "word":
            st.session_state[self.key("field", "level")] = "char"
        st.radio("Tokens", ["char", "word"], key=self.key("field", "level"), horizontal=True,
                 format_func={"char": "characters", "word": "words"}.get, disabled=not english,
                 help="word level needs spaces between words (English); Chinese is modelled by "
                      "character")
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
                            f"shipped {path.name}")
                return None, ""
            kind, value = current
            if kind == "upload":
                return language_model(value["payload"]), f"uploaded {value['name']}"
            run = manager().get(value).run if kind == "job" and manager().get(value) else None
            if kind == "run":
                run = runs.get(value)
            if run is not None and run.checkpoint_path.exists():
                path = run.checkpoint_path
                return model_from_file(str(path), path.stat().st_mtime, self.name), f"run {run.id}"
        except (checkpoints.CheckpointError, ValueError, KeyError, RuntimeError) as error:
            st.warning(f"The model cannot be loaded: {error}")
        return None, ""

    def ngram_tab(self, corpus, corpus_name, level, min_count, model
                  ) -> tuple[int, str, float]:
        sizes = corpus.sizes
        table = pd.DataFrame({"training": [sizes["documents"][0], sizes["characters"][0],
                                           sizes["tokens"][0]],
                              "validation": [sizes["documents"][1], sizes["characters"][1],
                                             sizes["tokens"][1]]},
                             index=["documents", "characters", "tokens"])
        left, right = st.columns([1, 1.4])
        with left:
            st.markdown(f"**{corpus.title}** · vocabulary **{len(corpus.vocab):,}** tokens "
                        f"(those seen fewer than {min_count} times in training become `<unk>`)")
            st.dataframe(table, width="stretch")
            st.caption("Split by document (a poem, a fortune, a paragraph), shuffled with a fixed "
                       f"seed; perplexities use the first {MAX_EVAL_TOKENS:,} validation tokens.")
            for note in corpus.notes:
                st.caption(f"Note: {note}")
        with right:
            st.text_area("A validation document", corpus.sample, height=190, disabled=True,
                         key=self.key("sample", corpus_name))
        order_column, smoothing_column, k_column = st.columns(3)
        order = order_column.slider("n-gram order n", 1, ngram.MAX_ORDER, 3, key=self.key("order"),
                                    help="the Markov assumption: each token depends on the "
                                         "previous n − 1 only")
        smoothing = smoothing_column.selectbox(
            "Smoothing", ["kneser-ney", "add-k"], key=self.key("smoothing"),
            format_func=lm_charts.SMOOTHING_LABELS.get,
            help="how probability is given to continuations never seen in training. add-k: "
                 "add k to every count. Kneser-Ney (interpolated): take a fixed discount off "
                 "every count seen and give that mass to the next shorter history, always mixed "
                 "in; the shorter histories count in how many different contexts a token "
                 "follows (continuation counts), not how often it occurs")
        k = k_column.select_slider("k (add-k)", [0.001, 0.01, 0.1, 0.5, 1.0], value=0.1,
                                   key=self.key("k"), disabled=smoothing != "add-k")
        curve = curve_for(corpus_name, level, min_count, k, counts_key_of(corpus))
        neural = _neural_val(model, corpus)
        st.plotly_chart(lm_charts.ngram_curve_figure(curve, order, neural), key=self.key("curve"))
        best_order = min(range(len(curve["kneser-ney"])), key=curve["kneser-ney"].__getitem__) + 1
        addk = curve["add-k"]
        addk_best = min(range(len(addk)), key=addk.__getitem__) + 1
        st.markdown(
            f"With Kneser-Ney the validation perplexity is lowest at **n = {best_order}** "
            f"({curve['kneser-ney'][best_order - 1]:.2f}); with add-k (k = {k:g}) at "
            f"**n = {addk_best}** ({addk[addk_best - 1]:.2f}), and it rises after: "
            "a longer history fits the training text better, but most long contexts of the "
            "validation text were never seen in training — the data runs out. Kneser-Ney "
            "degrades far less: it takes a fixed discount off every count it has seen and "
            "always mixes in the next shorter history with that mass (interpolation), and its "
            "shorter histories count in how many *different* contexts a token follows "
            "(continuation counts) rather than how often it occurs — a token common only after "
            "one word gets little weight after unseen ones.")
        return order, smoothing, k

    def generate_tab(self, corpus, corpus_name, model, model_label, ngram_model) -> None:
        sources = (["neural"] if model is not None else []) + ["n-gram"]
        left, right = st.columns([1, 1.6])
        with left:
            source = st.radio("Model", sources, horizontal=True, key=self.key("gen", "source"),
                              format_func={"neural": f"neural ({model_label})",
                                           "n-gram": f"{ngram_model.order}-gram "
                                                     f"({ngram_model.smoothing})"}.get)
            prompt = st.text_input("Prompt", text.PROMPTS.get(corpus_name, "The "),
                                   key=self.key("gen", "prompt", corpus_name))
            temperature = st.slider("Temperature", 0.0, 2.0, 0.8, 0.05,
                                    key=self.key("gen", "temperature"),
                                    help="below 1 sharpens the distribution (safer, repetitive), "
                                         "above 1 flattens it (bolder, more mistakes); 0 = always "
                                         "the likeliest token")
            length = st.slider("Length (tokens)", 10, 500, 120, key=self.key("gen", "length"))
            seed = st.number_input("Seed", 0, 2**31 - 1, 0, key=self.key("gen", "seed"))
            go = st.button("Generate", type="primary", key=self.key("gen", "go"))
            poem = None
            if corpus_name == "tang-poems" and source == "neural":
                st.divider()
                form = st.selectbox("Form", list(POEM_FORMS), key=self.key("gen", "form"),
                                    format_func=lambda f: f"{f} ({POEM_FORMS[f][0]} lines of "
                                                          f"{POEM_FORMS[f][1]} characters)")
                poem = st.button("写一首唐诗 · Write a Tang poem", key=self.key("gen", "poem"),
                                 help="the model chooses every character; the decoding is only "
                                      "held to the form: a title, an author, then lines of five "
                                      "or seven characters with ， and 。 — temperature and seed "
                                      "as above")
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
                st.markdown(f"#### 《{output.title}》\n*{output.author}* (the model's choice of "
                            f"author) · {output.form}\n\n{lines}")
                st.caption(f"Every character was sampled from the model at temperature "
                           f"{temperature:g}, seed {seed}; only the form was imposed.")
                st.code(str(output), language=None)
            elif kind == "text":
                # Not a keyed widget: a keyed text area keeps its first value across reruns.
                st.markdown("**Generated text**")
                st.code(output, language=None, wrap_lines=True, height=320)
                took = st.session_state.get(self.key("gen", "took"))
                if took:
                    st.caption(f"generated in {took * 1000:.0f} ms")
            elif kind == "error":
                st.error(output)
            else:
                st.info("Press **Generate** to write text from the prompt.")

    def score_tab(self, corpus, model, model_label, ngram_model) -> None:
        pairs = text.EXAMPLE_PAIRS["zh" if corpus.language == "zh" else "en"]
        st.markdown("A good language model prefers the sentence that makes sense, even when both "
                    "**sound the same** — the tutorial's example: 厨房里**食油**用完了 (the kitchen "
                    "is out of cooking oil) versus 厨房里**石油**用完了 (… out of petroleum).")
        example = st.selectbox("Example pair", range(len(pairs)),
                               key=self.key("score", "pair", corpus.name),
                               index=text.DEFAULT_PAIR.get(corpus.name, 0),
                               format_func=lambda i: f"{pairs[i][0]}  /  {pairs[i][1]}")
        first, second = st.columns(2)
        a = first.text_input("Sentence A", pairs[example][0],
                             key=self.key("score", "a", corpus.name, str(example)))
        b = second.text_input("Sentence B", pairs[example][1],
                              key=self.key("score", "b", corpus.name, str(example)))
        rows = [_score(model, ngram_model, corpus, s) for s in (a, b) if s.strip()]
        if len(rows) < 2:
            st.info("Type two sentences to compare.")
            return
        shown = pd.DataFrame([{k: v for k, v in row.items() if not k.startswith("_")}
                              for row in rows],
                             index=["A", "B"])
        st.dataframe(shown.style.format({c: "{:.3f}" for c in shown.columns if "ln P" in c or
                                         "perplexity" in c}), width="stretch")
        verdicts = []
        for label, column in ((f"The {ngram_model.order}-gram", "n-gram ln P"),
                              (f"The neural model ({model_label})", "neural ln P")):
            if column in shown:
                winner = "A" if shown.loc["A", column] >= shown.loc["B", column] else "B"
                gap = abs(shown.loc["A", column] - shown.loc["B", column])
                loser = "B" if winner == "A" else "A"
                verdicts.append(f"{label} prefers **{winner}**: it finds it {times(gap)} times "
                                f"as probable as {loser} (P({winner}) / P({loser}) = e^{gap:.1f}).")
        st.markdown(" ".join(verdicts))
        st.caption(RATIO_NOTE)
        if any(row["unknown"] for row in rows):
            st.caption("Tokens never seen in training are scored as `<unk>`.")
        if model is not None:
            st.plotly_chart(lm_charts.token_figure(rows[0]["_tokens"], rows[0]["_neural_logs"],
                                                   rows[1]["_tokens"], rows[1]["_neural_logs"],
                                                   "neural model"), key=self.key("score", "tokens"))
        if model is not None and model.vocab.itos != corpus.vocab.itos:
            st.caption(f"The neural model ({model_label}) was trained on {model.config.corpus}; "
                       f"the n-gram on {corpus.name}.")


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
        _, neural_logs = model.score(sentence)
        row["neural ln P"] = sum(neural_logs)
        row["neural perplexity"] = math.exp(-sum(neural_logs) / max(len(neural_logs), 1))
        row["_neural_logs"] = neural_logs
    return row
