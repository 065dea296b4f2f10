"""Language-model benchmarks: shipped GRU vs the n-gram baseline, and training throughput.

    python bench/lm.py quality          # perplexity table (shipped checkpoints vs n-grams)
    python bench/lm.py speed            # tokens/s: fused nn.GRU vs a Python loop of nn.GRUCell
    python bench/lm.py switch           # opening a corpus: first time, then with saved counts
    python bench/lm.py                  # quality and speed

Quality: validation perplexity on the first 100,000 validation tokens of each default corpus
(the split the page shows), for the shipped checkpoint and for n-gram models of order 1..6 with
Kneser-Ney and add-k smoothing, counted on the same training split. d2l's char-level numbers on
The Time Machine are printed beside ours as context: a different corpus.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import checkpoints, ngram  # noqa: E402
from core.data import text  # noqa: E402
from core.device import configure  # noqa: E402
from core.lm_task import MAX_EVAL_TOKENS, perplexity  # noqa: E402
from core.registry import load_model  # noqa: E402
from core.models.lm import LMConfig, build_network  # noqa: E402

D2L = "d2l (The Time Machine, char): RNN 7.2, GRU 6.5, LSTM 6.7"


def quality(corpora: list[str]) -> None:
    print("| corpus | tokens train / val | vocab | shipped model | its val perplexity | "
          "best n-gram (n, smoothing) | model / best n-gram |")
    print("|---|---|---|---|---|---|---|")
    curves = {}
    for name in corpora:
        path = ROOT / "checkpoints" / f"lm-{name}.pt"
        if not path.exists():
            print(f"| {name} | — | — | no checkpoint at {path.relative_to(ROOT)} | | | |")
            continue
        model = load_model(checkpoints.load(path))
        corpus = text.load(name, model.config.level, model.config.min_count)
        assert corpus.vocab.itos == model.vocab.itos, "corpus changed since the checkpoint"
        val = corpus.val_ids[:MAX_EVAL_TOKENS]
        neural = perplexity(model.network, val)
        counts = ngram.NGramCounts(corpus.train_ids, len(corpus.vocab))
        curves[name] = curve = ngram.perplexity_curve(counts, val)
        best = min(((value, order, smoothing) for smoothing, values in curve.items()
                    for order, value in enumerate(values, 1)))
        config = model.config
        print(f"| {name} | {len(corpus.train_ids):,} / {len(val):,} | {len(corpus.vocab):,} | "
              f"{config.cell.upper()} {config.hidden_size}×{config.num_layers}, "
              f"{config.epochs} epochs | **{neural:.2f}** | {best[0]:.2f} (n = {best[1]}, "
              f"{best[2]}) | {neural / best[0]:.2f} |", flush=True)
    print("\nn-gram validation perplexity by order n (same split and tokens):\n")
    print("| corpus | smoothing | n = 1 | 2 | 3 | 4 | 5 | 6 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, curve in curves.items():
        for smoothing, values in curve.items():
            print(f"| {name} | {smoothing} | " + " | ".join(f"{v:.1f}" for v in values) + " |")
    print(f"\nReference, not a target: {D2L}.")


class LoopGRU(torch.nn.Module):
    """The same model with a Python loop over time steps (nn.GRUCell), as a from-scratch RNN."""

    def __init__(self, fused):
        super().__init__()
        self.embedding, self.head = fused.embedding, fused.head
        rnn = fused.rnn
        self.cell = torch.nn.GRUCell(rnn.input_size, rnn.hidden_size)
        self.cell.weight_ih, self.cell.weight_hh = rnn.weight_ih_l0, rnn.weight_hh_l0
        self.cell.bias_ih, self.cell.bias_hh = rnn.bias_ih_l0, rnn.bias_hh_l0

    def forward(self, tokens):
        inputs = self.embedding(tokens)
        state = inputs.new_zeros(tokens.shape[0], self.cell.hidden_size)
        outputs = []
        for t in range(tokens.shape[1]):
            state = self.cell(inputs[:, t], state)
            outputs.append(state)
        return self.head(torch.stack(outputs, 1)), state


def tokens_per_second(network, vocab_size: int, batch: int, seq_len: int, steps: int) -> float:
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
    data = torch.randint(0, vocab_size, (steps + 2, batch, seq_len + 1))
    for i in range(steps + 2):
        if i == 2:
            started = time.perf_counter()
        logits, _ = network(data[i, :, :-1])
        loss = F.cross_entropy(logits.reshape(-1, vocab_size), data[i, :, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return steps * batch * seq_len / (time.perf_counter() - started)


def speed(steps: int) -> None:
    configure()
    print(f"threads={torch.get_num_threads()}")
    print("| model | vocab | fused nn.GRU tokens/s | Python loop of GRUCell tokens/s | ratio |")
    print("|---|---|---|---|---|")
    for vocab_size, hidden in ((105, 512), (4594, 512), (105, 256)):
        config = LMConfig(hidden_size=hidden, seq_len=100 if vocab_size < 1000 else 64)
        torch.manual_seed(0)
        fused = build_network(config, vocab_size)
        loop = LoopGRU(build_network(config, vocab_size))
        fused_speed = tokens_per_second(fused, vocab_size, config.batch_size, config.seq_len, steps)
        loop_speed = tokens_per_second(loop, vocab_size, config.batch_size, config.seq_len, steps)
        print(f"| GRU {hidden}, seq {config.seq_len}, batch {config.batch_size} | {vocab_size:,} | "
              f"{fused_speed:,.0f} | {loop_speed:,.0f} | {fused_speed / loop_speed:.2f}x |",
              flush=True)


SWITCH = """
import sys, time
sys.path.insert(0, {root!r})
started = time.perf_counter()
from core import ngram
from core.data import text
from core.lm_task import MAX_EVAL_TOKENS
imported = time.perf_counter()
corpus = text.load({name!r})
counts = ngram.cached_counts(corpus.train_ids, len(corpus.vocab), {cache!r})
ngram.perplexity_curve(counts, corpus.val_ids[:MAX_EVAL_TOKENS])
print(time.perf_counter() - imported)
"""


def switch(corpora: list[str]) -> None:
    """What opening a corpus costs in a fresh process: read and split the text, the n-gram
    counts (counted and saved the first time, read back after), the perplexity curve (the page
    also keeps the curve on disk, so its next time is shorter still)."""
    import subprocess
    import tempfile
    print("| corpus | train tokens | first time (count and save) s | next time (saved counts) s |")
    print("|---|---|---|---|")
    for name in corpora:
        with tempfile.TemporaryDirectory() as cache:
            times = []
            for _ in range(2):   # the first run counts and saves, the second reads back
                script = SWITCH.format(root=str(ROOT), name=name, cache=cache)
                output = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                        text=True, check=True).stdout
                times.append(float(output.strip().splitlines()[-1]))
        tokens = len(text.load(name).train_ids)
        print(f"| {name} | {tokens:,} | {times[0]:.2f} | {times[1]:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=("quality", "speed", "switch", "all"),
                        default="all")
    parser.add_argument("--corpora", nargs="*", default=list(text.CORPORA))
    parser.add_argument("--steps", type=int, default=10, help="timed steps per speed run")
    arguments = parser.parse_args()
    if arguments.what in ("quality", "all"):
        quality(arguments.corpora)
    if arguments.what in ("speed", "all"):
        speed(arguments.steps)
    if arguments.what == "switch":
        switch(arguments.corpora)


if __name__ == "__main__":
    main()
