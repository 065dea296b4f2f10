"""Language models: corpus checks, n-gram maths, the recurrent models and their training."""
import math

import pytest
import torch

from core import checkpoints, ngram, training
from core.cli import export
from core.data import text
from core.lm_task import LMTrainer, perplexity, token_log_probabilities
from core.registry import load_model
from core.models.lm import SPEC, LMConfig


@pytest.fixture(scope="module")
def corpus():
    return text.make_synthetic()


@pytest.fixture(scope="module")
def counts(corpus):
    return ngram.NGramCounts(corpus.train_ids, len(corpus.vocab))


# Corpus and uploads.

def test_split_is_by_document_and_sizes_add_up(corpus):
    assert corpus.documents[0] > corpus.documents[1] > 0
    assert len(corpus.train_ids) == corpus.characters[0]
    assert corpus.vocab.itos[0] == text.UNK


def test_repeated_documents_are_dropped_with_a_note():
    documents = [f"line number {i} of the text, long enough to count\n" for i in range(40)]
    built = text.build("\n".join(documents * 2), name="t")
    assert any("repeated documents dropped" in note for note in built.notes)
    assert sum(built.documents) == 40


@pytest.mark.parametrize("raw, message", [
    (b"", "empty"), (b"   \n ", "empty"), (b"abc\x00def" * 500, "binary"),
    ("caf\u00e9 ".encode("latin-1") * 1000, "not UTF-8"), (b"too short " * 10, "too short"),
    (bytes(range(1, 32)) * 200, "does not look like text"),
])
def test_bad_uploads_are_refused_with_a_reason(raw, message):
    with pytest.raises(text.CorpusError, match=message):
        text.check_upload(raw)


def test_huge_upload_is_capped_with_a_note():
    body, notes = text.check_upload(("word " * 2000).encode(), limit=3000)
    assert len(body) <= 3001 and "only the first 3,000" in notes[0]


def test_stored_upload_reloads_as_a_corpus(runs_dir):
    raw = "\n\n".join(f"Paragraph {i}: the quick brown fox jumps." for i in range(200)).encode()
    name, _ = text.store_upload(raw, "fox.txt")
    loaded = text.load(name)
    assert loaded.title == "fox.txt" and len(loaded.val_ids) > 0


def test_fortune_text_is_cleaned_and_split_by_entry():
    cleaned = text.clean("\x1b[32m《静夜思》\x1b[m\n  床前明月光\n\n疑是地上霜\n%\nnext one\r\n")
    assert "\x1b" not in cleaned and "\r" not in cleaned
    assert cleaned.startswith("《静夜思》\n床前明月光\n\n疑是地上霜\n%\nnext one")
    entries = text.documents_of("\n%\n".join(f"entry {i}\n\nsecond paragraph" for i in range(30)))
    assert len(entries) == 30 and entries[0] == "entry 0\n\nsecond paragraph\n"


def test_word_tokens_round_trip():
    tokens = text.tokenize("Hello, world! It's 42.", "word")
    assert tokens == ["hello", ",", "world", "!", "it's", "42", "."]
    assert text.detokenize(tokens, "word") == "hello, world! it's 42."


def test_word_level_is_refused_for_chinese():
    with pytest.raises(text.CorpusError, match="char level"):
        text.build("床前明月光\n\n" * 100, name="zh", language="zh", level="word")


# n-gram maths.

@pytest.mark.parametrize("smoothing", ["kneser-ney", "add-k"])
@pytest.mark.parametrize("order", [1, 2, 3, 6])
def test_ngram_probabilities_sum_to_one(counts, corpus, smoothing, order):
    model = ngram.NGramModel(counts, order, smoothing)
    for history in (corpus.train_ids[10:20], corpus.val_ids[:5], torch.tensor([0, 0, 0, 0, 0])):
        assert model.distribution(history).sum().item() == pytest.approx(1.0, abs=1e-9)


def test_uniform_model_perplexity_is_the_vocabulary_size(counts, corpus):
    # add-k with a huge k is uniform over V.
    model = ngram.NGramModel(counts, 2, "add-k", k=1e12)
    assert model.perplexity(corpus.val_ids[:200]) == pytest.approx(len(corpus.vocab), rel=1e-6)
    # A network whose output layer is all zeros predicts uniformly too.
    trainer = LMTrainer(SPEC, LMConfig(hidden_size=16, embedding_size=8), corpus.vocab, torch.device("cpu"))
    torch.nn.init.zeros_(trainer.network.head.weight)
    torch.nn.init.zeros_(trainer.network.head.bias)
    assert perplexity(trainer.network, corpus.val_ids[:300]) == pytest.approx(len(corpus.vocab), rel=1e-5)


def test_longer_context_helps_on_structured_text(counts, corpus):
    curve = ngram.perplexity_curve(counts, corpus.val_ids)
    kneser_ney = curve["kneser-ney"]
    assert kneser_ney[2] < kneser_ney[1] < kneser_ney[0]


def test_unknown_tokens_score_without_error(counts, corpus):
    ids = corpus.vocab.encode(list("the zebra ☃ sat"))
    assert (ids == 0).any()
    assert math.isfinite(ngram.NGramModel(counts, 3).perplexity(ids))


def test_ngram_probabilities_match_direct_counting(counts, corpus):
    """Bigram Kneser-Ney and add-k against the formulas evaluated on plain Counters."""
    from collections import Counter
    ids = corpus.train_ids.tolist()
    V, D, k = len(corpus.vocab), 0.75, 0.1
    unigrams, bigrams = Counter(ids), Counter(zip(ids, ids[1:]))
    preceding = Counter(w for (_, w) in bigrams)                 # N1+(•w)
    types_total = sum(preceding.values())
    kneser_ney, add_k = ngram.NGramModel(counts, 2), ngram.NGramModel(counts, 2, "add-k", k=k)
    for history in sorted(unigrams)[:6]:
        total = sum(c for (h, _), c in bigrams.items() if h == history)
        types = sum(1 for (h, _) in bigrams if h == history)
        got_kn, got_add = kneser_ney.distribution([history]), add_k.distribution([history])
        for w in range(V):
            lower = max(preceding[w] - D, 0) / types_total + \
                D * len(preceding) / types_total / V
            expected = max(bigrams[(history, w)] - D, 0) / total + D * types / total * lower
            assert float(got_kn[w]) == pytest.approx(expected, rel=1e-9, abs=1e-15)
            assert float(got_add[w]) == pytest.approx((bigrams[(history, w)] + k) / (total + k * V))


def test_counts_are_saved_once_and_reloaded_the_same(counts, corpus, tmp_path):
    first = ngram.cached_counts(corpus.train_ids, len(corpus.vocab), tmp_path)
    saved = list(tmp_path.glob("ngram-*.npz"))
    assert len(saved) == 1
    stamp = saved[0].stat().st_mtime_ns
    again = ngram.cached_counts(corpus.train_ids, len(corpus.vocab), tmp_path)
    assert saved[0].stat().st_mtime_ns == stamp          # read back, not counted again
    val = corpus.val_ids[:300]
    for model_counts in (first, again):
        assert ngram.NGramModel(model_counts, 4).log_probabilities(val) == \
            ngram.NGramModel(counts, 4).log_probabilities(val)
    saved[0].write_bytes(b"damaged")                      # a damaged file is counted again
    recounted = ngram.cached_counts(corpus.train_ids, len(corpus.vocab), tmp_path)
    assert ngram.NGramModel(recounted, 3).perplexity(val) == ngram.NGramModel(counts, 3).perplexity(val)
    other = corpus.train_ids[: len(corpus.train_ids) // 2]   # other tokens: another file
    ngram.cached_counts(other, len(corpus.vocab), tmp_path)
    assert len(list(tmp_path.glob("ngram-*.npz"))) == 2


def test_ngram_generation_never_writes_unknown(counts, corpus):
    out = ngram.NGramModel(counts, 3).generate(corpus.vocab.encode(list("the ")).tolist(), 40,
                                               temperature=1.0, generator=torch.Generator().manual_seed(1))
    assert len(out) == 40 and 0 not in out


# Recurrent models.

def tiny(cell="gru", **overrides):
    values = dict(cell=cell, hidden_size=48, embedding_size=16, seq_len=24, batch_size=16,
                  epochs=1, log_every_steps=10, learning_rate=1e-2)
    values.update(overrides)
    return LMConfig(**values)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_one_step_of_each_cell_gives_finite_metrics(corpus, cell):
    config = tiny(cell, train_subset=16)
    events = list(training.train(SPEC, config, corpus))
    finished = events[-1]
    assert isinstance(finished, training.Finished)
    assert math.isfinite(finished.values["perplexity/val"])
    speeds = [e.values["speed/tokens_per_s"] for e in events
              if isinstance(e, training.Metrics) and "speed/tokens_per_s" in e.values]
    assert speeds and all(s > 0 for s in speeds)


def test_gru_beats_the_unigram_after_a_few_hundred_steps(corpus, counts):
    config = tiny("gru", epochs=6)
    events = list(training.train(SPEC, config, corpus))
    assert events[0].total_steps >= 200
    gru = events[-1].values["perplexity/val"]
    unigram = ngram.NGramModel(counts, 1).perplexity(corpus.val_ids)
    assert gru < 0.7 * unigram, (gru, unigram)


def test_exported_checkpoint_scores_and_writes_the_same(corpus, runs_dir):
    events = list(training.train(SPEC, tiny(train_subset=40), corpus, checkpoint_dir=runs_dir / "r"))
    payload = checkpoints.load(events[-1].path, expected_model="lm")
    export(payload, runs_dir / "slim.pt")
    full = load_model(payload)
    slim = load_model(checkpoints.load(runs_dir / "slim.pt"))
    tokens, logs = full.score("the cat sat on the mat.")
    _, slim_logs = slim.score("the cat sat on the mat.")
    assert len(tokens) == len(logs) == 23
    assert torch.allclose(torch.tensor(logs), torch.tensor(slim_logs), atol=0.05)
    written = full.generate("the ", 30, temperature=0.0)
    assert len(written) == 30 and written == full.generate("the ", 30, temperature=0.0)
    assert "<unk>" not in full.generate("the ", 50, temperature=1.5, seed=3)


def test_scoring_carries_the_state_like_one_pass(corpus):
    trainer = LMTrainer(SPEC, tiny(), corpus.vocab, torch.device("cpu"))
    ids = corpus.val_ids[:300]
    chunked = token_log_probabilities(trainer.network, ids, chunk=37)
    whole = token_log_probabilities(trainer.network, ids, chunk=10_000)
    assert torch.allclose(chunked, whole, atol=1e-5)


def test_resume_refuses_another_vocabulary(corpus):
    trainer = LMTrainer(SPEC, tiny(), corpus.vocab, torch.device("cpu"))
    payload = trainer.state()
    payload["vocab"] = payload["vocab"][:-1] + ["zzz"]
    with pytest.raises(ValueError, match="different vocabulary"):
        trainer.load_state(payload)
