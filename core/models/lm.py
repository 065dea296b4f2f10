"""Recurrent language models: embedding -> nn.RNN / nn.GRU / nn.LSTM (torch's fused kernels, no
Python loop over time steps) -> dropout -> a linear layer over the vocabulary."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core import lm_task
from core.config import BaseConfig, param
from core.data import dataset_name, text
from core.i18n import N_
from core.models.spec import ModelSpec, Reference

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


@dataclass
class LMConfig(BaseConfig):
    corpus: str = param("tang-poems", "training text: a default corpus or upload:<id> (set by the "
                        "page's corpus picker)", hidden=True)
    level: str = param("char", "tokens: characters, or words (English)", choices=("char", "word"),
                       hidden=True)
    cell: str = param("gru", "recurrent cell: the plain RNN of the tutorial, or the gated GRU/LSTM",
                      choices=("rnn", "gru", "lstm"), label=N_("cell"))
    hidden_size: int = param(256, "units in each recurrent layer", low=8, high=1024,
                             label=N_("hidden size"), size="width")
    num_layers: int = param(1, "stacked recurrent layers", low=1, high=4, label=N_("layers"),
                            size="depth")
    embedding_size: int = param(128, "size of each token's embedding vector", low=8, high=1024,
                                advanced=True, size="width")
    seq_len: int = param(64, "time steps per training sequence (truncated backprop length)",
                         low=4, high=512, label=N_("sequence length"))
    learning_rate: float = param(2e-3, "Adam step size (1e-5 to 1e-2: Adam's useful range; the "
                                 "tutorial's RNN: 1e-3)", low=1e-5, high=1e-2, log=True,
                                 label=N_("learning rate (lr)"))
    batch_size: int = param(64, "sequences per optimisation step", low=1, high=1024,
                            label=N_("batch size"))
    clip_grad: float = param(1.0, "clip the gradient norm to this (0 = off): RNNs need it, the "
                             "gradient through many time steps can explode", low=0.0, high=100.0,
                             label=N_("gradient clipping"))
    epochs: int = param(5, "passes over the training text", low=1, high=200)
    dropout: float = param(0.1, "dropout on the recurrent outputs", low=0.0, high=0.8,
                           advanced=True)
    min_count: int = param(2, "tokens seen fewer times in training become <unk>", low=1,
                           high=100, advanced=True)
    eval_every_epochs: int = param(1, "validation perplexity every N epochs", low=1, high=100,
                                   advanced=True, label=N_("validate every N epochs"))


class RNNLM(nn.Module):
    def __init__(self, vocab_size: int, config: LMConfig):
        super().__init__()
        self.cell = config.cell
        self.embedding = nn.Embedding(vocab_size, config.embedding_size)
        self.rnn = CELLS[config.cell](config.embedding_size, config.hidden_size, config.num_layers,
                                      batch_first=True,
                                      dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, vocab_size)

    def forward(self, tokens: torch.Tensor, state=None):
        """tokens (B, T) -> logits (B, T, V), new state."""
        output, state = self.rnn(self.embedding(tokens), state)
        return self.head(self.dropout(output)), state


def build_network(config: LMConfig, vocab_size: int) -> nn.Module:
    return RNNLM(vocab_size, config)


def load_data(config: LMConfig):
    text.check_name(config.corpus)
    if dataset_name() == "synthetic":  # tests: a tiny text in the corpus's language
        info = text.CORPORA.get(config.corpus)
        return text.make_synthetic(config.level, info.language if info else "en")
    return text.load(config.corpus, config.level, config.min_count)


SPEC = ModelSpec(
    name="lm",
    title=N_("Language models: n-gram vs RNN / GRU / LSTM"),
    menu_title=N_("Language models"), section=N_("Language"), icon=":material/translate:",
    url_path="language-model",
    config_cls=LMConfig,
    build_network=build_network,
    summary=N_("A language model gives P(w1, …, wT) = Π P(wt | w1…wt−1). The n-gram model makes "
               "it tractable with the Markov assumption — each token depends on the previous n−1 "
               "— while a recurrent network carries the whole history in its hidden state. Every "
               "model here is scored by its perplexity on text it did not train on: e to the mean "
               "of −ln P per token, the number of equally likely tokens the model is, on average, "
               "choosing between (lower is better; guessing uniformly over a vocabulary of V "
               "tokens gives V)."),
    presets={
        N_("GRU (shipped settings)"): {},
        N_("Quick look (1 epoch)"): {"epochs": 1, "hidden_size": 128},
        N_("Plain RNN, as the tutorial"): {"cell": "rnn", "hidden_size": 256,
                                           "learning_rate": 1e-3},
        N_("LSTM, 2 layers"): {"cell": "lstm", "num_layers": 2, "hidden_size": 256,
                               "dropout": 0.2},
        N_("Plain RNN without gradient clipping"): {"cell": "rnn", "clip_grad": 0.0,
                                                    "learning_rate": 1e-2},
    },
    references=(
        Reference(N_("d2l RNN, The Time Machine (char)"), 7.2,
                  N_("d2l.ai ch. 9; different corpus")),
        Reference(N_("d2l GRU, The Time Machine (char)"), 6.5,
                  N_("d2l.ai ch. 10; different corpus")),
        Reference(N_("d2l LSTM, The Time Machine (char)"), 6.7,
                  N_("d2l.ai ch. 10; different corpus")),
    ),
    **lm_task.FAMILY,
    load_data=load_data,
    panel="ui.lm_page:LanguageModelPanel",
)
