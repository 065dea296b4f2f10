"""n-gram language models: the Markov assumption made concrete.

P(w_1..w_T) = Π_t P(w_t | w_1..w_{t-1}) ≈ Π_t P(w_t | w_{t-n+1}..w_{t-1}): each token depends on
the previous n-1 only. One ``NGramCounts`` holds the counts of every order up to ``max_order``;
``NGramModel`` reads them with a given order and smoothing:

- add-k: P(w | h) = (c(hw) + k) / (c(h) + k·V). Simple; higher orders spread mass over so many
  unseen contexts that validation perplexity turns up again once the data runs out.
- Kneser-Ney (interpolated, absolute discount D): P(w | h) = max(c(hw) − D, 0)/c(h)
  + D·N₁₊(h•)/c(h) · P_lower(w | h'), where the lower orders count in how many distinct contexts
  a sequence continues (N₁₊(•hw)), not how often it occurs; the last step is uniform over V.

Counting is vectorised: the n-grams of order k are numbered by (rank of their first k − 1 tokens)
· V + their last token, so each order is one ``np.unique`` over int64 keys, and every probability
of a whole text (or of the whole vocabulary after one history) is a few ``np.searchsorted``
lookups. The counts of a corpus are saved as arrays (``save``/``load``, no pickle), so a page
reopens a corpus it has seen in well under a second.
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import torch

MAX_ORDER = 6
FORMAT = 1                # of the saved arrays; a change of layout bumps it


def _array(ids) -> np.ndarray:
    if isinstance(ids, torch.Tensor):
        return ids.detach().cpu().numpy().astype(np.int64)
    return np.asarray(list(ids), dtype=np.int64)


def _take(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """``values[ranks]``, 0 where a rank is -1 (an n-gram or context never seen)."""
    ranks = np.asarray(ranks)
    if len(values) == 0:
        return np.zeros(ranks.shape)
    return np.where(ranks >= 0, values[np.clip(ranks, 0, None)], 0)


class NGramCounts:
    """Counts of orders 1..max_order over a token-id sequence (the training split).

    For order k, the distinct k-grams are numbered 0..n_k − 1 in the order of their keys
    ``rank of the (k−1)-gram prefix · V + last token`` (``keys[k]``, sorted); per k-gram:
    ``count[k]`` (how often it occurs) and ``continuation[k]`` (N₁₊(•w): how many distinct tokens
    precede it); per (k−1)-gram context: the total and the number of distinct continuations, for
    raw counts (``context_total[k]``, ``context_types[k]``) and for continuation counts
    (``continuation_total[k]``, ``continuation_types[k]``).
    """

    ARRAYS = ("keys", "count", "context_total", "context_types", "continuation",
              "continuation_total", "continuation_types")
    keys: list[np.ndarray]
    count: list[np.ndarray]
    context_total: list[np.ndarray]
    context_types: list[np.ndarray]
    continuation: list[np.ndarray]
    continuation_total: list[np.ndarray]
    continuation_types: list[np.ndarray]

    def __init__(self, ids, vocab_size: int, max_order: int = MAX_ORDER):
        if not 1 <= max_order <= 10:
            raise ValueError("max_order must be in 1..10")
        tokens = _array(ids)
        length, V = len(tokens), vocab_size
        self.vocab_size, self.max_order, self.tokens = vocab_size, max_order, length
        empty = np.zeros(0, dtype=np.int64)
        for name in self.ARRAYS:
            setattr(self, name, [empty] * (max_order + 1))
        sizes = [1]                                  # one 0-gram: the empty context
        starts = [np.zeros(length + 1, dtype=np.int64)]  # rank of the k-gram starting at i
        for k in range(1, max_order + 1):
            grams = max(length - k + 1, 0)
            key = starts[k - 1][:grams] * V + tokens[k - 1:k - 1 + grams]
            unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            count = np.bincount(inverse, minlength=len(unique))
            prefix = unique // V
            self.keys[k], self.count[k] = unique, count
            self.context_total[k] = np.bincount(prefix, weights=count, minlength=sizes[k - 1])
            self.context_types[k] = np.bincount(prefix, minlength=sizes[k - 1]).astype(float)
            if k >= 2:   # N1+(•w) of the (k−1)-grams: distinct k-grams by their last k − 1 tokens
                continuation = np.bincount(starts[k - 1][first + 1], minlength=sizes[k - 1])
                previous_prefix = self.keys[k - 1] // V
                self.continuation[k - 1] = continuation
                self.continuation_total[k - 1] = np.bincount(
                    previous_prefix, weights=continuation, minlength=sizes[k - 2])
                self.continuation_types[k - 1] = np.bincount(
                    previous_prefix, weights=continuation > 0, minlength=sizes[k - 2])
            sizes.append(len(unique))
            starts.append(inverse.astype(np.int64))

    # Lookups ---------------------------------------------------------------------------------
    def rank(self, order: int, prefix: np.ndarray | int, token: np.ndarray | int) -> np.ndarray:
        """Rank of the ``order``-gram (prefix rank, last token); -1 when it never occurs."""
        keys = self.keys[order]
        prefix, token = np.broadcast_arrays(np.asarray(prefix), np.asarray(token))
        if len(keys) == 0:
            return np.full(prefix.shape, -1, dtype=np.int64)
        key = prefix * self.vocab_size + token
        position = np.clip(np.searchsorted(keys, key), 0, len(keys) - 1)
        return np.where((prefix >= 0) & (keys[position] == key), position, -1)

    def history_ranks(self, history) -> list[int]:
        """Ranks of the last m tokens of ``history`` as an m-gram, for m = 0..max_order − 1
        (-1 when unseen or when the history is shorter than m)."""
        history = list(history)
        ranks = [0]
        for m in range(1, self.max_order):
            rank = -1
            if m <= len(history):
                rank = 0
                for offset, token in enumerate(history[-m:], 1):
                    rank = int(self.rank(offset, rank, token))
                    if rank < 0:
                        break
            ranks.append(rank)
        return ranks

    def sequence_ranks(self, tokens: np.ndarray) -> list[np.ndarray]:
        """For m = 0..max_order − 1: the rank of the m tokens just before each position p
        (``tokens[p − m:p]``), for p = 0..len(tokens); -1 where unseen or too close to the start."""
        positions = len(tokens) + 1
        ranks = [np.zeros(positions, dtype=np.int64)]
        for m in range(1, self.max_order):
            rank = np.full(positions, -1, dtype=np.int64)
            rank[1:] = self.rank(m, ranks[m - 1][:-1], tokens)   # prefix: m − 1 tokens before p − 1
            rank[:m] = -1
            ranks.append(rank)
        return ranks

    # Saving ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Arrays only (``np.savez``, read back without pickle), written then renamed."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"{name}_{k}": getattr(self, name)[k] for name in self.ARRAYS
                  for k in range(self.max_order + 1)}
        meta = np.array([FORMAT, self.vocab_size, self.max_order, self.tokens], dtype=np.int64)
        temporary = path.with_suffix(".tmp.npz")
        np.savez(temporary, meta=meta, **arrays)
        temporary.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> "NGramCounts":
        with np.load(path, allow_pickle=False) as stored:
            version, vocab_size, max_order, tokens = (int(v) for v in stored["meta"])
            if version != FORMAT:
                raise ValueError(f"n-gram counts of format {version}, expected {FORMAT}")
            counts = cls.__new__(cls)
            counts.vocab_size, counts.max_order, counts.tokens = vocab_size, max_order, tokens
            for name in cls.ARRAYS:
                setattr(counts, name, [stored[f"{name}_{k}"] for k in range(max_order + 1)])
        return counts


def counts_key(ids, vocab_size: int, max_order: int = MAX_ORDER) -> str:
    """A name for the counts of exactly these tokens (a hash of the ids and the settings)."""
    digest = hashlib.sha256(_array(ids).astype(np.int32).tobytes())
    digest.update(f"{vocab_size}:{max_order}:{FORMAT}".encode())
    return digest.hexdigest()[:20]


def cached_counts(ids, vocab_size: int, folder: str | Path,
                  max_order: int = MAX_ORDER) -> NGramCounts:
    """The counts of ``ids``, from ``folder`` when they were counted before, else counted now and
    saved there (a damaged file is counted again)."""
    path = Path(folder) / f"ngram-{counts_key(ids, vocab_size, max_order)}.npz"
    if path.exists():
        try:
            return NGramCounts.load(path)
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)
    counts = NGramCounts(ids, vocab_size, max_order)
    try:
        counts.save(path)
    except OSError:
        pass   # a read-only disk: counting again next time is the only cost
    return counts


class NGramModel:
    """P(w | the previous order-1 tokens) from ``NGramCounts`` with add-k or Kneser-Ney smoothing."""

    def __init__(self, counts: NGramCounts, order: int, smoothing: str = "kneser-ney",
                 k: float = 0.1, discount: float = 0.75):
        if not 1 <= order <= counts.max_order:
            raise ValueError(f"order must be in 1..{counts.max_order}; got {order}")
        if smoothing not in ("kneser-ney", "add-k"):
            raise ValueError(f"smoothing must be kneser-ney or add-k; got {smoothing!r}")
        if smoothing == "add-k" and k <= 0:
            raise ValueError("add-k needs k > 0 (k = 0 gives unseen tokens probability 0)")
        self.counts, self.order, self.smoothing = counts, order, smoothing
        self.k, self.discount = k, discount
        self.vocab_size = counts.vocab_size

    def _probabilities(self, contexts: list, token, order: int) -> np.ndarray:
        """P(token | context) at ``order``, where ``contexts[m]`` is the rank of the last m tokens
        of the history (m = 0..order − 1); arrays broadcast (many positions, or every token)."""
        c, V, D = self.counts, self.vocab_size, self.discount
        token = np.asarray(token)
        lower = np.full(np.broadcast(np.asarray(contexts[0]), token).shape, 1.0 / V)
        if self.smoothing == "kneser-ney":
            # Continuation probabilities of orders 1..order − 1, each interpolated with the one
            # below it; order 0 is uniform over V.
            for j in range(1, order):
                context = contexts[j - 1]
                total = _take(c.continuation_total[j], context)
                types = _take(c.continuation_types[j], context)
                count = _take(c.continuation[j], c.rank(j, context, token))
                safe = np.maximum(total, 1)
                lower = np.where(total > 0, np.maximum(count - D, 0) / safe
                                 + D * types / safe * lower, lower)
        context = contexts[order - 1]
        total = _take(c.context_total[order], context)
        count = _take(c.count[order], c.rank(order, context, token))
        if self.smoothing == "add-k":
            return (count + self.k) / (total + self.k * V)
        types = _take(c.context_types[order], context)
        safe = np.maximum(total, 1)
        return np.where(total > 0, np.maximum(count - D, 0) / safe + D * types / safe * lower,
                        lower)

    def distribution(self, history_ids) -> torch.Tensor:
        """P(· | history) over the whole vocabulary (sums to 1)."""
        history = _array(history_ids).tolist()
        order = min(self.order, len(history) + 1)
        contexts = self.counts.history_ranks(history)[:order]
        return torch.from_numpy(self._probabilities(contexts, np.arange(self.vocab_size), order)
                                .astype(np.float64))

    def log_probabilities(self, ids, context_ids=()) -> list[float]:
        """ln P of each token of ``ids`` given the tokens before it (and ``context_ids`` first)."""
        tokens = np.concatenate([_array(context_ids), _array(ids)])
        start = len(context_ids)
        if start >= len(tokens):
            return []
        ranks = self.counts.sequence_ranks(tokens)
        positions = np.arange(start, len(tokens))
        probabilities = np.empty(len(positions))
        effective = np.minimum(self.order, positions + 1)   # a short history near the start
        for order in np.unique(effective):
            chosen = effective == order
            where = positions[chosen]
            contexts = [rank[where] for rank in ranks[:order]]
            probabilities[chosen] = self._probabilities(contexts, tokens[where], int(order))
        return np.log(probabilities).tolist()

    def perplexity(self, ids, context_ids=()) -> float:
        logs = self.log_probabilities(ids, context_ids)
        return math.exp(-sum(logs) / max(len(logs), 1))

    def generate(self, prompt_ids, length: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None) -> list[int]:
        """Sample ``length`` tokens after the prompt (temperature 0 = always the likeliest)."""
        ids = list(prompt_ids)
        for _ in range(length):
            probabilities = self.distribution(ids)
            probabilities[0] = 0.0  # never write <unk>
            ids.append(sample(probabilities.log(), temperature, generator))
        return ids[len(prompt_ids):]


def sample(log_probabilities: torch.Tensor, temperature: float,
           generator: torch.Generator | None = None) -> int:
    """One token id from logits/log-probabilities at a temperature (0 or less: argmax)."""
    if temperature <= 1e-6:
        return int(log_probabilities.argmax())
    weights = torch.softmax(log_probabilities.double() / temperature, dim=0)
    return int(torch.multinomial(weights, 1, generator=generator))


def perplexity_curve(counts: NGramCounts, val_ids, *, smoothings=("kneser-ney", "add-k"),
                     k: float = 0.1, discount: float = 0.75) -> dict[str, list[float]]:
    """Validation perplexity for each order 1..max_order and each smoothing."""
    return {smoothing: [NGramModel(counts, order, smoothing, k, discount).perplexity(val_ids)
                        for order in range(1, counts.max_order + 1)]
            for smoothing in smoothings}
