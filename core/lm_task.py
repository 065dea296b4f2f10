"""Training, evaluating and using recurrent language models in the shared loop.

Training batches are random non-overlapping windows of ``seq_len + 1`` tokens (the hidden state
starts at zero in each), as d2l's random sampling; validation runs through the validation text
in order with the state carried along, so its perplexity is comparable to an n-gram's on the
same tokens.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.data.text import Vocab, tokenize
from core.device import configure
from core import ngram
from core.config import ConfigError
from core.i18n import _
from core.ngram import sample
from core.optim import lr_factor, set_learning_rates
from core.models.spec import Family

MAX_EVAL_TOKENS = 100_000    # validation perplexities (neural and n-gram) use at most these


class LMTrainer:
    def __init__(self, spec, config, vocab, device: torch.device):
        self.config, self.device, self.vocab = config, device, vocab
        self.network = spec.build_network(config, len(vocab)).to(device)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=config.learning_rate)
        self.base_lr = config.learning_rate

    def set_progress(self, progress: float) -> float:
        factor = lr_factor(self.config.lr_schedule, progress)
        set_learning_rates([(self.optimizer, self.base_lr)], factor)
        return self.base_lr * factor

    def train_step(self, windows: torch.Tensor) -> torch.Tensor:
        """One step on (B, T+1) token windows; returns the mean token loss (a tensor, no sync)."""
        if not self.network.training:
            self.network.train()
        logits, _state = self.network(windows[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.clip_grad:
            torch.nn.utils.clip_grad_norm_(self.network.parameters(), self.config.clip_grad)
        self.optimizer.step()
        return loss.detach()

    def parameters(self):
        return self.network.parameters()

    def state(self) -> dict:
        return {"state_dict": {"network": self.network.state_dict()},
                "optimizer": {"network": self.optimizer.state_dict()},
                "vocab": list(self.vocab.itos), "level": self.vocab.level}

    def load_state(self, payload: dict, with_optimizer: bool = True) -> None:
        if list(payload.get("vocab", self.vocab.itos)) != list(self.vocab.itos):
            raise ValueError(_("the checkpoint was trained on a different vocabulary (another "
                               "corpus or min_count); it cannot continue on this text"))
        self.network.load_state_dict(payload["state_dict"]["network"])
        if with_optimizer and payload.get("optimizer"):
            self.optimizer.load_state_dict(payload["optimizer"]["network"])


@torch.inference_mode()
def token_log_probabilities(network, ids: torch.Tensor, context: torch.Tensor | None = None,
                            chunk: int = 2048) -> torch.Tensor:
    """ln P of each token of ``ids`` given everything before it (and ``context`` first)."""
    network.eval()
    device = next(network.parameters()).device
    ids = ids.to(device)
    full = torch.cat([context.to(device), ids]) if context is not None and len(context) else ids
    start = len(full) - len(ids)
    out, state = [], None
    if start == 0:  # the first token has no history: score it from a zero state after <unk>
        first = full.new_zeros(1)
        full, start = torch.cat([first, full]), 1
    for begin in range(0, len(full) - 1, chunk):
        piece = full[begin:begin + chunk + 1]
        logits, state = network(piece[:-1].unsqueeze(0), state)
        logs = torch.log_softmax(logits[0].float(), dim=-1)
        out.append(logs.gather(1, piece[1:].unsqueeze(1)).squeeze(1))
    return torch.cat(out)[start - 1:].cpu()


def perplexity(network, ids: torch.Tensor, context: torch.Tensor | None = None) -> float:
    logs = token_log_probabilities(network, ids, context)
    return math.exp(-logs.mean().item())


@torch.inference_mode()
def generate(network, prompt_ids: list[int], length: int, temperature: float = 1.0,
             generator: torch.Generator | None = None) -> list[int]:
    """Sample ``length`` tokens after the prompt, feeding the state forward one token at a time."""
    network.eval()
    device = next(network.parameters()).device
    prompt = torch.tensor(prompt_ids or [0], dtype=torch.long, device=device).unsqueeze(0)
    logits, state = network(prompt)
    out = []
    for _i in range(length):
        last = logits[0, -1].float()
        last[0] = -math.inf  # never write <unk>
        token = sample(last, temperature, generator)
        out.append(token)
        logits, state = network(torch.tensor([[token]], device=device), state)
    return out


class LMTask:
    """What the shared loop needs from a language model (see core.training)."""

    speed_name = "speed/tokens_per_s"

    def __init__(self, spec, config, corpus, device: torch.device):
        torch.manual_seed(config.seed)
        self.corpus = corpus
        self.trainer = LMTrainer(spec, config, corpus.vocab, device)
        self.items_per_row = config.seq_len
        self.train_ids = corpus.train_ids.to(device)
        self.val_ids = corpus.val_ids[:MAX_EVAL_TOKENS]
        self.count = (len(self.train_ids) - 1) // config.seq_len
        if config.train_subset:  # the first N sequences only
            self.count = min(self.count, config.train_subset)
        if self.count < 1:
            raise ValueError(_("the training text ({tokens} tokens) is shorter than one sequence "
                               "of {length}; lower the sequence length")
                             .format(tokens=len(self.train_ids), length=config.seq_len + 1))
        self.offsets = torch.arange(config.seq_len + 1, device=device)
        self.seq_len = config.seq_len
        self.eval_every_epochs = config.eval_every_epochs
        # Guessing uniformly costs ln V per token; 100x that (or NaN/inf) means divergence.
        self.divergence_loss = 100 * math.log(len(corpus.vocab))
        self._loss, self._steps = 0.0, 0
        self._last_eval: tuple[int, dict[str, float]] | None = None

    def step(self, index: torch.Tensor) -> float:
        starts = index * self.seq_len
        windows = self.train_ids[starts.unsqueeze(1) + self.offsets]
        loss = self.trainer.train_step(windows).item()  # the loop checks every step's loss
        self._loss += loss
        self._steps += 1
        return loss

    def window_metrics(self) -> dict[str, float]:
        loss = self._loss / max(self._steps, 1)
        self._loss, self._steps = 0.0, 0
        return {"loss/train": loss, "perplexity/train": math.exp(min(loss, 50))}

    def extra_events(self, step: int, epoch_end: bool) -> list:
        return []

    def validate(self) -> dict[str, float]:
        started = time.perf_counter()
        logs = token_log_probabilities(self.trainer.network, self.val_ids)
        loss = -logs.mean().item()
        return {"loss/val": loss, "perplexity/val": math.exp(min(loss, 50)),
                "time/val_s": time.perf_counter() - started}

    def epoch_end(self, step: int, epoch: int, is_last: bool) -> dict[str, float]:
        if epoch % self.eval_every_epochs == 0 or is_last:
            values = self.validate()
            self._last_eval = (step, values)
            return values
        return {}

    def finish(self, step: int) -> tuple[dict[str, float], dict, bool]:
        last = self._last_eval
        values = self.validate() if last is None or last[0] != step else last[1]
        is_new = last is None or last[0] != step
        evaluation = {"perplexity/val": values["perplexity/val"],
                      "val_tokens": len(self.val_ids), "corpus": self.corpus.name,
                      "sizes": {k: list(v) if isinstance(v, tuple) else v
                                for k, v in self.corpus.sizes.items()}}
        return values, evaluation, is_new


class LanguageModel:
    """A trained recurrent model with its vocabulary, ready to score and to write text."""

    def __init__(self, config, vocab, network):
        self.config, self.vocab, self.network = config, vocab, network

    def tokens(self, text: str) -> list[str]:
        return tokenize(text, self.vocab.level)

    def context(self) -> torch.Tensor:
        """Sentences are scored as if they began a line: after a newline, when it is a token."""
        newline = self.vocab.stoi.get("\n")
        return torch.tensor([newline] if newline is not None else [], dtype=torch.long)

    def score(self, text: str) -> tuple[list[str], list[float]]:
        """(tokens, ln P of each) of ``text``; unknown tokens count as <unk>."""
        tokens = self.tokens(text)
        if not tokens:
            return [], []
        logs = token_log_probabilities(self.network, self.vocab.encode(tokens), self.context())
        return tokens, logs.tolist()

    def generate(self, prompt: str, length: int, temperature: float = 1.0, seed: int = 0) -> str:
        ids = self.vocab.encode(self.tokens(prompt)).tolist() or self.context().tolist()
        out = generate(self.network, ids, length, temperature,
                       torch.Generator().manual_seed(seed))
        return self.vocab.decode(out)

    def write_poem(self, form: str = "五言绝句", temperature: float = 0.8, seed: int = 0) -> "Poem":
        """A poem in a classical form, every character chosen by the model: decoding is only
        constrained to the form (a title of 1–6 characters, an author, then lines of five or seven
        characters, "，" after the first half of a couplet and "。" after the second)."""
        lines, length = POEM_FORMS[form]
        missing = [mark for mark in "《》，。\n" if mark not in self.vocab.stoi]
        if missing:
            raise ValueError(_("this model's vocabulary lacks {marks}: the poem writer needs a "
                               "model trained on poems").format(marks=" ".join(map(repr, missing))))
        hanzi = torch.tensor([len(token) == 1 and "\u4e00" <= token <= "\u9fff"
                              for token in self.vocab.itos])
        if int(hanzi.sum()) < 50:
            raise ValueError(_("this model knows fewer than 50 Chinese characters: train it on "
                               "the poems corpus first"))
        writer = ConstrainedWriter(self.network, self.vocab, temperature, seed)
        writer.force("《")
        title = writer.choose_run(hanzi, shortest=1, longest=6, end="》")
        writer.force("\n作者：")
        author = writer.choose_run(hanzi, shortest=2, longest=4, end="\n")
        body = []
        for index in range(lines):
            half = writer.choose_run(hanzi, shortest=length, longest=length)
            mark = "，" if index % 2 == 0 else "。"
            writer.force(mark)
            body.append(half + mark)
            if index % 2:
                writer.force("\n")
        couplets = ["".join(body[i:i + 2]) for i in range(0, len(body), 2)]
        return Poem(form, title, author, couplets)


POEM_FORMS = {"五言绝句": (4, 5), "七言绝句": (4, 7), "五言律诗": (8, 5), "七言律诗": (8, 7)}


@dataclass
class Poem:
    form: str
    title: str
    author: str
    couplets: list[str]          # "床前明月光，疑是地上霜。": two lines of the form each

    def __str__(self) -> str:
        return "\n".join([f"《{self.title}》", f"作者：{self.author}", *self.couplets])


class ConstrainedWriter:
    """Samples from a recurrent model one token at a time, but only among the tokens a mask allows
    (the model's own probabilities, renormalised over them), or feeds a fixed text."""

    def __init__(self, network, vocab, temperature: float, seed: int):
        self.network, self.vocab, self.temperature = network, vocab, temperature
        self.generator = torch.Generator().manual_seed(seed)
        self.device = next(network.parameters()).device
        network.eval()
        self.logits: torch.Tensor | None = None
        self.state = None

    @torch.inference_mode()
    def _feed(self, ids: list[int]) -> None:
        tokens = torch.tensor([ids], dtype=torch.long, device=self.device)
        logits, self.state = self.network(tokens, self.state)
        self.logits = logits[0, -1].float().cpu()

    def force(self, text: str) -> None:
        self._feed([self.vocab.stoi[character] for character in text])

    def choose(self, allowed: torch.Tensor) -> str:
        if self.logits is None:
            raise RuntimeError("force() a start text before choose()")
        logits = self.logits.masked_fill(~allowed, -math.inf)
        token = sample(logits, self.temperature, self.generator)
        self._feed([token])
        return self.vocab.itos[token]

    def choose_run(self, allowed: torch.Tensor, shortest: int, longest: int,
                   end: str | None = None) -> str:
        """``shortest`` to ``longest`` allowed tokens; then ``end`` (once the model picks it after
        ``shortest``, or forced at ``longest``)."""
        text = ""
        end_id = self.vocab.stoi[end] if end else None
        while len(text) < longest:
            mask = allowed.clone()
            if end_id is not None and len(text) >= shortest:
                mask[end_id] = True
            token = self.choose(mask)
            if token == end:
                return text
            text += token
        if end:
            self.force(end)
        return text


def restore(spec, config, payload: dict, device: torch.device | None = None) -> LanguageModel:
    """A trained language model with its vocabulary (float16 weights are cast back)."""
    if "vocab" not in payload:
        raise ValueError(_("this checkpoint holds no vocabulary: not a language model"))
    vocab = Vocab(list(payload["vocab"]), payload.get("level", config.level))
    network = spec.build_network(config, len(vocab))
    network.load_state_dict(payload["state_dict"]["network"])
    network.to(device or configure()).eval()
    return LanguageModel(config, vocab, network)


def evaluate(model: LanguageModel, corpus) -> dict[str, float]:
    """Validation perplexity of the model and of the n-gram models on the same tokens."""
    if model.vocab.itos != corpus.vocab.itos:
        raise ConfigError(_("the checkpoint's vocabulary differs from its corpus's: the corpus "
                            "changed since it was trained"))
    val = corpus.val_ids[:MAX_EVAL_TOKENS]
    metrics = {"perplexity/val": perplexity(model.network, val)}
    curve = ngram.perplexity_curve(ngram.NGramCounts(corpus.train_ids, len(corpus.vocab)), val)
    for smoothing, values in curve.items():
        for order, value in enumerate(values, 1):
            metrics[f"ngram/{smoothing}/n{order}"] = value
    metrics["ngram/best"] = min(min(values) for values in curve.values())
    metrics["val_tokens"] = float(len(val))
    return metrics


# What a language model's ModelSpec takes from its family: ModelSpec(..., **FAMILY).
FAMILY: Family = {"family": "language_model", "make_task": LMTask, "restore": restore,
          "evaluate": evaluate}
