"""Text corpora for the language-model page: offline defaults from Debian's fortune packages,
or a UTF-8 .txt the user brings, tokenized by character (default) or by word.

The split is by document (one poem, one fortune, one paragraph), shuffled with a fixed seed, so
validation text is unseen text of the same kind rather than the tail of one file.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.i18n import N_, Message, _
from core.paths import runs_root

FORTUNES = Path(os.environ.get("DLSTUDIO_FORTUNES_DIR", "/usr/share/games/fortunes"))
UNK = "<unk>"
MAX_UPLOAD_CHARS = 5_000_000      # a bigger upload is cut to this with a note saying so
MIN_CHARS = 2_000                 # shorter text cannot give a meaningful train/validation split
YOUR_TEXT = N_("your text")       # the title of an upload whose file name is lost
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|[0-9]+|\n|[^\sA-Za-z0-9]")

# English fortune files of the `fortunes` package (fortunes-off is not installed or used).
ENGLISH_FILES = ("art", "computers", "cookie", "debian", "definitions", "disclaimer", "drugs",
                 "education", "ethnic", "food", "fortunes", "goedel", "humorists", "kids",
                 "knghtbrd", "law", "linux", "linuxcookie", "literature", "love", "magic",
                 "medicine", "men-women", "miscellaneous", "news", "paradoxum", "people", "perl",
                 "pets", "platitudes", "politics", "pratchett", "riddles", "science",
                 "songs-poems", "sports", "startrek", "tao", "translate-me", "wisdom", "work",
                 "zippy")


class CorpusError(ValueError):
    """The text cannot be used; str(error) says why in one line."""


@dataclass(frozen=True)
class CorpusInfo:
    name: str
    title: str
    language: str          # "zh" or "en": picks the example sentences and word-level support
    files: tuple[str, ...]
    package: str
    description: str


CORPORA = {
    "tang-poems": CorpusInfo(
        "tang-poems", N_("Tang and Song poems (唐诗三百首 + 宋诗一百首)"), "zh",
        ("tang300", "song100"), "fortunes-zh",
        N_("The classic char-RNN demo: the model learns the five- and seven-character lines, the "
           "rhythm of the punctuation and the title/author header of each poem.")),
    "zh-prose": CorpusInfo(
        "zh-prose", N_("Modern Chinese prose (fortunes-zh chinese)"), "zh", ("chinese",),
        "fortunes-zh", N_("About a million characters of modern Chinese quotations and short "
                          "prose: the corpus for the tutorial's homophone example.")),
    "en-fortunes": CorpusInfo(
        "en-fortunes", N_("English fortunes (quotes, jokes, poems)"), "en", ENGLISH_FILES,
        "fortunes", N_("About 2.4 million characters of English quotations, jokes and verse.")),
}

# The tutorial's homophone pair (same sound: "cooking oil" versus "petroleum"), and more pairs a
# model trained on each corpus can judge.
EXAMPLE_PAIRS = {
    "zh": [("厨房里食油用完了", "厨房里石油用完了"),
           ("我们今天去学校上课", "我们今天去学校尚可"),
           ("春眠不觉晓，处处闻啼鸟。", "春眠不觉小，处处闻提鸟。")],
    "en": [("They went back to their house.", "They went back to there house."),
           ("It is hard to recognize speech.", "It is hard to wreck a nice beach."),
           ("I would like a piece of cake.", "I would like a peace of cake.")],
}
DEFAULT_PAIR = {"tang-poems": 2}   # the poems know no kitchens: start with a line of verse
PROMPTS = {"tang-poems": "《春", "zh-prose": "人生", "en-fortunes": "The "}


class Vocab:
    """Token <-> id; id 0 is <unk> (tokens rarer than min_count in training, or never seen)."""

    def __init__(self, tokens: list[str], level: str):
        self.itos = [UNK] + [t for t in tokens if t != UNK]
        self.stoi = {token: index for index, token in enumerate(self.itos)}
        self.level = level

    @classmethod
    def build(cls, tokens: list[str], level: str, min_count: int, max_size: int) -> "Vocab":
        counts = Counter(tokens)
        kept = [t for t, c in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
                if c >= min_count][:max_size - 1]
        return cls(kept, level)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: list[str]) -> torch.Tensor:
        get = self.stoi.get
        return torch.tensor([get(t, 0) for t in tokens], dtype=torch.long)

    def decode(self, ids) -> str:
        return detokenize([self.itos[int(i)] for i in ids], self.level)


def tokenize(text: str, level: str) -> list[str]:
    if level == "char":
        return list(text)
    return [token.lower() if token[0].isalpha() else token for token in WORD.findall(text)]


def detokenize(tokens: list[str], level: str) -> str:
    if level == "char":
        return "".join(tokens)
    out = ""
    for token in tokens:
        glue = not out or out.endswith("\n") or token == "\n" or \
            (len(token) == 1 and not token.isalnum() and token not in "(\"'`") or out.endswith(("(", "\"", "`"))
        out += token if glue else " " + token
    return out


def clean(text: str) -> str:
    """Drop terminal colour codes, carriage returns and indentation (layout, not language).

    Fortune files separate their entries with lines holding only "%"; they are kept for
    ``documents_of`` to split on.
    """
    text = ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


SEPARATOR = re.compile(r"^%$", re.MULTILINE)


def documents_of(text: str) -> list[str]:
    """Documents: fortune entries (between "%" lines), else blank-line separated paragraphs;
    text with few of either is cut into about 40 pieces at line ends."""
    pieces = SEPARATOR.split(text) if SEPARATOR.search(text) else re.split(r"\n\s*\n", text)
    documents = [d.strip("\n") + "\n" for d in pieces if d.strip()]
    if len(documents) >= 20:
        return documents
    lines = text.replace("\n%\n", "\n").splitlines(keepends=True)
    size = max(1, len(text) // 40)
    documents, current = [], ""
    for line in lines:
        current += line
        if len(current) >= size:
            documents.append(current)
            current = ""
    if current:
        documents.append(current)
    return documents


def read_default(name: str) -> str:
    if name not in CORPORA:
        raise unknown(name)
    info = CORPORA[name]
    missing = [f for f in info.files if not (FORTUNES / f).is_file()]
    if len(missing) == len(info.files):
        raise CorpusError(_("the {title} corpus is not on this machine: install Debian's "
                            "`{package}` package (sudo apt-get install {package}), or upload a "
                            ".txt file instead").format(title=_(info.title), package=info.package))
    parts = [(FORTUNES / f).read_text(encoding="utf-8", errors="replace")
             for f in info.files if f not in missing]
    return clean("\n%\n".join(parts))


def check_upload(raw: bytes, limit: int = MAX_UPLOAD_CHARS) -> tuple[str, list[Message]]:
    """Decode an uploaded text file; returns (text, notes) or raises CorpusError with the reason."""
    notes = []
    if not raw or not raw.strip():
        raise CorpusError(_("the file is empty"))
    if b"\x00" in raw[:65536]:
        raise CorpusError(_("the file is binary (it contains NUL bytes), not a text file"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(_("the file is not UTF-8 text (byte {byte} cannot be decoded); save it "
                            "as UTF-8 and upload it again").format(byte=error.start)) from None
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in text[:65536])
    if printable < 0.95 * min(len(text), 65536):
        raise CorpusError(_("the file does not look like text (too many control characters)"))
    if len(text) > limit:
        notes.append(Message(N_("the upload has {chars:,} characters; only the first {limit:,} are "
                             "used"), chars=len(text), limit=limit))
        text = text[:limit]
    text = clean(text)
    if len(text) < MIN_CHARS:
        raise CorpusError(_("the text is too short to split into training and validation parts "
                            "({chars:,} characters; at least {needed:,} are needed)")
                          .format(chars=len(text), needed=MIN_CHARS))
    return text, notes


def upload_folder() -> Path:
    return runs_root() / "_corpora"


def store_upload(raw: bytes, filename: str = "upload.txt") -> tuple[str, list[Message]]:
    """Check an upload and keep it on disk (so its runs can be resumed); returns (corpus name, notes)."""
    text, notes = check_upload(raw)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.txt"
    if not path.exists():
        path.write_text(text, encoding="utf-8")
        (folder / f"{digest}.name").write_text(Path(filename).name[:100], encoding="utf-8")
    return f"upload:{digest}", notes


def unknown(name: str) -> CorpusError:
    return CorpusError(_("unknown corpus {name!r}; choose one of {names}, or upload a .txt on the "
                         "page").format(name=name, names=", ".join(CORPORA)))


def check_name(name: str) -> None:
    if name not in CORPORA and not re.fullmatch(r"upload:[0-9a-f]{12}", name):
        raise unknown(name)


def read_corpus(name: str) -> tuple[str, str, str, list[str]]:
    """(text, title, language, notes) of a default corpus or a stored upload."""
    if name.startswith("upload:"):
        digest = name.split(":", 1)[1]
        if not re.fullmatch(r"[0-9a-f]{12}", digest):
            raise CorpusError(_("bad uploaded-corpus name {name!r}").format(name=name))
        path = upload_folder() / f"{digest}.txt"
        if not path.exists():
            raise CorpusError(_("the uploaded text of this run is no longer on this server; "
                                "upload it again"))
        label = (upload_folder() / f"{digest}.name")
        title = label.read_text(encoding="utf-8") if label.exists() else YOUR_TEXT
        text = path.read_text(encoding="utf-8")
        chinese = sum("\u4e00" <= ch <= "\u9fff" for ch in text[:20000])
        return text, title, "zh" if chinese > 0.2 * min(len(text), 20000) else "en", []
    text = read_default(name)  # (refuses an unknown name)
    return text, CORPORA[name].title, CORPORA[name].language, []


@dataclass
class TextCorpus:
    name: str
    title: str
    language: str
    level: str
    vocab: Vocab
    train_ids: torch.Tensor = field(repr=False)
    val_ids: torch.Tensor = field(repr=False)
    documents: tuple[int, int]            # (train, validation) documents
    characters: tuple[int, int]           # (train, validation) characters
    notes: list[str] = field(default_factory=list)
    sample: str = ""

    @property
    def sizes(self) -> dict:
        return {"documents": self.documents, "characters": self.characters,
                "tokens": (len(self.train_ids), len(self.val_ids)), "vocabulary": len(self.vocab)}


def build(text: str, *, name: str, title: str = "", language: str = "en", level: str = "char",
          min_count: int = 2, max_vocab: int = 10_000, val_fraction: float = 0.1, seed: int = 0,
          notes: list[str] | None = None) -> TextCorpus:
    """Split ``text`` by document into train/validation, build the vocabulary on train, encode."""
    if level not in ("char", "word"):
        raise CorpusError(_("level must be char or word; got {level!r}").format(level=level))
    if level == "word" and language == "zh":
        raise CorpusError(_("word level needs words separated by spaces; use char level for "
                            "Chinese"))
    documents = documents_of(text)
    unique = list(dict.fromkeys(documents))  # a repeated document would leak into validation
    if len(unique) < len(documents):
        notes = list(notes or []) + [Message(N_("{count:,} repeated documents dropped (a copy in "
                                             "both splits would flatter validation)"),
                                          count=len(documents) - len(unique))]
        documents = unique
    if len(documents) < 2:
        raise CorpusError(_("the text is too short to split into training and validation parts"))
    order = list(range(len(documents)))
    random.Random(seed).shuffle(order)
    count_val = min(len(documents) - 1, max(1, round(len(documents) * val_fraction)))
    val_set = set(order[:count_val])
    train_text = "\n".join(d for i, d in enumerate(documents) if i not in val_set)
    val_text = "\n".join(d for i, d in enumerate(documents) if i in val_set)
    train_tokens, val_tokens = tokenize(train_text, level), tokenize(val_text, level)
    vocab = Vocab.build(train_tokens, level, min_count, max_vocab)
    if len(vocab) < 3:
        raise CorpusError(_("the text has fewer than two distinct tokens; nothing to model"))
    return TextCorpus(name=name, title=title or name, language=language, level=level, vocab=vocab,
                      train_ids=vocab.encode(train_tokens), val_ids=vocab.encode(val_tokens),
                      documents=(len(documents) - count_val, count_val),
                      characters=(len(train_text), len(val_text)), notes=list(notes or []),
                      sample=documents[order[-1]][:400])


def load(name: str, level: str = "char", min_count: int = 2, seed: int = 0) -> TextCorpus:
    text, title, language, notes = read_corpus(name)
    return build(text, name=name, title=title, language=language, level=level,
                 min_count=min_count, seed=seed, notes=notes)


def make_synthetic(level: str = "char", language: str = "en") -> TextCorpus:
    """A small text from a tiny grammar (English or Chinese), for tests: no files needed."""
    rng = random.Random(0)
    if language == "zh":
        parts = (("厨房里", "商店里", "我们家", "学校里", "冰箱里"), ("的", ""),
                 ("食油", "大米", "面包", "牛奶", "白糖"), ("用完了", "买到了", "放好了", "不多了"))
        sentence = lambda: "".join(rng.choice(part) for part in parts) + "。"
        documents = ["".join(sentence() for _i in range(3)) for _j in range(400)]
    else:
        subjects = ("the cat", "a dog", "the bird", "my friend", "the teacher")
        verbs = ("sat on", "ran to", "looked at", "jumped over", "sang to")
        objects = ("the mat", "the park", "a tree", "the house", "the river")
        documents = [" ".join(f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}."
                              for _i in range(3)) for _j in range(400)]
    return build("\n\n".join(documents) + "\n", name="synthetic", title=N_("synthetic sentences"),
                 language=language, level=level)
