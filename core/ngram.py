"""n-gram language models: the Markov assumption made concrete.

P(w_1..w_T) = Π_t P(w_t | w_1..w_{t-1}) ≈ Π_t P(w_t | w_{t-n+1}..w_{t-1}): each token depends on
the previous n-1 only. One ``NGramCounts`` holds the counts of every order up to ``max_order``;
``NGramModel`` reads them with a given order and smoothing:

- add-k: P(w | h) = (c(hw) + k) / (c(h) + k·V). Simple; higher orders spread mass over so many
  unseen contexts that validation perplexity turns up again once the data runs out.
- Kneser-Ney (interpolated, absolute discount D): P(w | h) = max(c(hw) − D, 0)/c(h)
  + D·N₁₊(h•)/c(h) · P_lower(w | h'), where the lower orders count in how many distinct contexts
  a sequence continues (N₁₊(•hw)), not how often it occurs; the last step is uniform over V.

Token ids become single characters (id + 0x10000), so an n-gram is a string slice and counting
is Python's fast Counter over slices, for words and characters alike.
"""
from __future__ import annotations

import math
from collections import Counter

import torch

OFFSET = 0x10000
MAX_ORDER = 6


def as_string(ids) -> str:
    if isinstance(ids, torch.Tensor):
        ids = ids.tolist()
    return "".join(map(chr, (i + OFFSET for i in ids)))


def _context_stats(counts: Counter) -> dict[str, list[int]]:
    """history -> [total count of its continuations, number of distinct continuations]."""
    stats: dict[str, list[int]] = {}
    for gram, count in counts.items():
        entry = stats.get(gram[:-1])
        if entry is None:
            stats[gram[:-1]] = [count, 1]
        else:
            entry[0] += count
            entry[1] += 1
    return stats


class NGramCounts:
    """Counts of orders 1..max_order over a token-id sequence (the training split)."""

    def __init__(self, ids, vocab_size: int, max_order: int = MAX_ORDER):
        if not 1 <= max_order <= 10:
            raise ValueError("max_order must be in 1..10")
        text = as_string(ids)
        self.vocab_size = vocab_size
        self.max_order = max_order
        self.tokens = len(text)
        # raw[k]: k-gram -> count; cont[k]: k-gram -> number of distinct tokens seen before it.
        self.raw = {k: Counter(text[i:i + k] for i in range(len(text) - k + 1))
                    for k in range(1, max_order + 1)}
        self.raw_stats = {k: _context_stats(self.raw[k]) for k in self.raw}
        self.cont: dict[int, Counter] = {}
        for k in range(1, max_order):
            self.cont[k] = Counter(gram[1:] for gram in self.raw[k + 1])
        self.cont_stats = {k: _context_stats(self.cont[k]) for k in self.cont}


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

    # Probabilities of one token (as a one-character string) after a history string.
    def _lower(self, k: int, history: str, token: str) -> float:
        """Kneser-Ney continuation probability of order k (k = 0: uniform)."""
        probability = 1.0 / self.vocab_size
        counts, stats, discount = self.counts.cont, self.counts.cont_stats, self.discount
        for order in range(1, k + 1):
            context = history[len(history) - order + 1:] if order > 1 else ""
            entry = stats[order].get(context)
            if entry is None:
                continue
            total, types = entry
            count = counts[order].get(context + token, 0)
            probability = max(count - discount, 0.0) / total + discount * types / total * probability
        return probability

    def probability(self, history: str, token: str) -> float:
        order = min(self.order, len(history) + 1)
        context = history[len(history) - order + 1:] if order > 1 else ""
        raw, stats = self.counts.raw[order], self.counts.raw_stats[order]
        entry = stats.get(context)
        if self.smoothing == "add-k":
            total = entry[0] if entry else 0
            return (raw.get(context + token, 0) + self.k) / (total + self.k * self.vocab_size)
        lower = self._lower(order - 1, context, token)
        if entry is None:
            return lower
        total, types = entry
        count = raw.get(context + token, 0)
        return max(count - self.discount, 0.0) / total + self.discount * types / total * lower

    def distribution(self, history_ids) -> torch.Tensor:
        """P(· | history) over the whole vocabulary (sums to 1)."""
        history = as_string(history_ids)[-(self.order - 1):] if self.order > 1 else ""
        return torch.tensor([self.probability(history, chr(i + OFFSET))
                             for i in range(self.vocab_size)], dtype=torch.float64)

    def log_probabilities(self, ids, context_ids=()) -> list[float]:
        """ln P of each token of ``ids`` given the tokens before it (and ``context_ids`` first)."""
        text = as_string(list(context_ids) + list(ids.tolist() if isinstance(ids, torch.Tensor) else ids))
        start, span = len(context_ids), self.order - 1
        return [math.log(self.probability(text[max(0, i - span):i], text[i]))
                for i in range(start, len(text))]

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
