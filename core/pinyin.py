"""Pinyin to characters with a word trigram model of modern Chinese: a pure-numpy reader of the
open-gram model that the sunpinyin input method ships (Debian's ``sunpinyin-data``).

sunpinyin: https://github.com/sunpinyin/sunpinyin (the file formats: src/slm/slm.h ``CThreadSlm``,
src/lexicon/pytrie.h ``CPinyinTrie``; the search: src/ime-core/imi_context.cpp).
open-gram: https://github.com/sunpinyin/open-gram (the data: a back-off word trigram with about
72,000 words, 2.5 million bigrams and 1 million trigrams, counted on Chinese web text;
CC BY-SA 3.0).

Two files, both read with numpy (no compiled extension):

- ``lm_sc.t3g``, the *threaded* trigram: a header (order N = 3, whether values are logs, the size
  of each level), a table of 65,536 probabilities and one of 16,384 back-off weights (the values
  are quantised: each node stores an index into a table), then the levels as arrays of 12-byte
  nodes (word id: 18 bits, back-off weight index: 14, probability index: 16, first child: 23,
  back-off node: 23 + its level: 2) and the trigram leaves as 8-byte records. The children of a
  node are sorted by word id; every node carries a *thread* to the node of its back-off history,
  so backing off is one step, not a new search.
- ``pydict_sc.bin``: the lexicon as a trie over syllables (each syllable is initial << 12 |
  final << 4 | tone) whose nodes list word ids; the words' UTF-32 strings follow.

P(w | u v) is Katz back-off as sunpinyin's ``CThreadSlm::rawTransfer`` computes it: the stored
trigram probability when (u, v, w) was seen, else bow(u v) · P(w | v), else bow(u v) · bow(v) ·
P(w), and a word the model never saw gets the root's small "unknown word" probability. A
sentence starts with no context (sunpinyin's root state) and, as sunpinyin does, ends with the
model's clause end "，" (a lone word is not charged it). The search over homophones is
sunpinyin's (``CIMIContext::searchFrom``): a Viterbi over a lattice of the lexicon's words (the
first 32 it lists for each reading), whose states are the model's history nodes, the 32 best
states kept per position. It writes what libsunpinyin writes for the phrases in
tests/test_pinyin.py, and its ln P are libsunpinyin's to 1e-6.
"""
from __future__ import annotations

import glob
import math
import os
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.i18n import N_, _

INSTALL_COMMAND = "sudo apt-get install sunpinyin-data"
MODEL_FILE = "lm_sc.t3g"
LEXICON_FILES = ("pydict_sc.bin", "pydict3_sc.bin")   # Debian's name, then sunpinyin 3's
SEARCH_FOLDERS = ("/usr/lib/*/sunpinyin/data", "/usr/lib/sunpinyin/data",
                  "/usr/share/sunpinyin", "/usr/local/share/sunpinyin",
                  "/usr/local/lib/sunpinyin/data")

# The tutorial's example: the same sounds written as "cooking oil" (食油) or "petroleum" (石油).
TUTORIAL_PINYIN = "chu fang li shi you yong wan le"
TUTORIAL_PAIR = ("厨房里食油用完了", "厨房里石油用完了")

UNKNOWN_WORD = 0    # the model's id for a token outside the lexicon (a number, a Latin word)
ENDING_WORD = 70    # "，": sunpinyin's sentence end (imi_defines.h ENDING_WORD_ID)
PROBABILITY_LEVELS, BACKOFF_LEVELS = 1 << 16, 1 << 14   # sizes of the two quantisation tables
BEAM_STATES = 32    # history states kept per lattice position (sunpinyin's beam_width)
MAX_READINGS = 4    # ways to split unseparated pinyin that the model compares
MAX_LEXICON_TRIES = 32   # words tried per reading (sunpinyin's imi_defines.h)
MAX_SYLLABLES, MAX_CHARACTERS = 60, 300   # input limits: a sentence or two (a shared server)

# The syllable code's initial and final indexes (sunpinyin's pinyin_info.h; the data in Debian
# uses this table, which has "hm", "ng" and "ve" — the older one ended at "iong").
INITIALS = ("", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "zh", "ch",
            "sh", "r", "z", "c", "s", "y", "w", "hm")
FINALS = ("", "a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "er", "i", "ia",
          "ie", "iao", "iu", "ian", "in", "iang", "ing", "u", "ua", "uo", "uai", "ui", "uan", "un",
          "uang", "ong", "v", "ve", "ue", "iong", "ng")
OLD_FINALS = FINALS[:32] + ("ue", "iong")
# Spellings people type for the same syllable.
ALIASES = {"lue": "lve", "nue": "nve", "jv": "ju", "qv": "qu", "xv": "xu", "yv": "yu",
           "jve": "jue", "qve": "que", "xve": "xue", "yve": "yue"}
FULLWIDTH = str.maketrans({",": "，", ".": "。", ";": "；", "?": "？", "!": "！", ":": "："})
# The context a word was scored with: English names the code compares (shown through _()).
ORDER_NAMES = {3: N_("trigram"), 2: N_("bigram"), 1: N_("unigram"), 0: N_("unseen word"),
               -1: N_("outside the lexicon")}
PUNCTUATION = "，。；？！：“”、…"   # the model's punctuation words (ids 70-79)


class PinyinUnavailable(RuntimeError):
    """The open-gram data is not installed (or not readable); str(error) says how to get it."""


# ----------------------------------------------------------------------------- finding the data


def data_folder(folder: str | os.PathLike | None = None) -> Path:
    """The folder holding ``lm_sc.t3g`` and the pinyin lexicon: ``folder``, else
    ``$DLSTUDIO_SUNPINYIN_DIR``, else where Debian's ``sunpinyin-data`` puts them."""
    if folder is None and os.environ.get("DLSTUDIO_SUNPINYIN_DIR"):
        folder = os.environ["DLSTUDIO_SUNPINYIN_DIR"]
    if folder is not None:
        candidates = [Path(folder)]
    else:
        candidates = [Path(p) for pattern in SEARCH_FOLDERS for p in sorted(glob.glob(pattern))]
    for candidate in candidates:
        if (candidate / MODEL_FILE).is_file() and _lexicon_file(candidate) is not None:
            return candidate
    where = str(candidates[0]) if folder is not None else "/usr/lib/*/sunpinyin/data"
    raise PinyinUnavailable(
        _("The word trigram model (open-gram, from the sunpinyin input method) is not installed: "
          "no {model_file} and pydict_sc.bin in {where}. Install it with: {command}")
        .format(model_file=MODEL_FILE, where=where, command=INSTALL_COMMAND))


def _lexicon_file(folder: Path) -> Path | None:
    for name in LEXICON_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def is_available(folder: str | os.PathLike | None = None) -> bool:
    try:
        data_folder(folder)
    except PinyinUnavailable:
        return False
    return True


# ----------------------------------------------------------------------------- the trigram


class WordTrigram:
    """sunpinyin's threaded back-off trigram (``CThreadSlm``), read into numpy arrays.

    A *state* is (level, index): level 0 is the root (no history), level 1 a unigram node (one
    word of history), level 2 a bigram node (two words). ``next_word`` scores many candidate
    words after one state at once.
    """

    def __init__(self, path: Path):
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size < 24:
            raise PinyinUnavailable(_("{path} is not a sunpinyin trigram file ({size} bytes); "
                                      "reinstall it with: {command}")
                                    .format(path=path, size=raw.size, command=INSTALL_COMMAND))
        order, uses_logs = (int(v) for v in raw[:8].view("<u4"))
        if int(raw[:4].view(">u4")[0]) == 3:
            raise PinyinUnavailable(_("{path} is big-endian (the s390x build of sunpinyin-data); "
                                      "this reader reads the little-endian files only")
                                    .format(path=path))
        if order != 3:
            raise PinyinUnavailable(_("{path} is not a sunpinyin trigram file (order {order}); "
                                      "reinstall it with: {command}")
                                    .format(path=path, order=order, command=INSTALL_COMMAND))
        sizes = raw[8:8 + 4 * (order + 1)].view("<u4").astype(np.int64)
        offset = 8 + 4 * (order + 1)
        expected = (offset + 4 * (PROBABILITY_LEVELS + BACKOFF_LEVELS)
                    + 12 * int(sizes[:order].sum()) + 8 * int(sizes[order]))
        if expected != raw.size:
            raise PinyinUnavailable(_("{path} has {size} bytes, its header says {expected}: not "
                                      "a threaded trigram; reinstall it with: {command}")
                                    .format(path=path, size=raw.size, expected=expected,
                                            command=INSTALL_COMMAND))
        words, floats = "<u4", "<f4"
        probabilities = raw[offset:offset + 4 * PROBABILITY_LEVELS].view(floats).astype(np.float64)
        offset += 4 * PROBABILITY_LEVELS
        backoffs = raw[offset:offset + 4 * BACKOFF_LEVELS].view(floats).astype(np.float64)
        offset += 4 * BACKOFF_LEVELS
        # The tables hold P and bow, or -ln P and -ln bow when the header says "logs".
        with np.errstate(divide="ignore"):
            self.log_probability_table = -probabilities if uses_logs else np.log(probabilities)
            self.log_backoff_table = -backoffs if uses_logs else np.log(backoffs)
        self.order = order
        self.nodes: list[np.ndarray] = []        # levels 0..N-1: (count, 3) 32-bit words
        for level in range(order):
            count = int(sizes[level])
            self.nodes.append(raw[offset:offset + 12 * count].view(words).reshape(count, 3))
            offset += 12 * count
        self.leaves = raw[offset:offset + 8 * int(sizes[order])].view(words).reshape(-1, 2)
        # Decoded once: every level's word ids (sorted within each node's children; binary
        # search) and the first-child index of every inner node.
        self.word_ids = [nodes[:, 0] & 0x3FFFF for nodes in (*self.nodes, self.leaves)]
        self.first_child = [((nodes[:, 2] >> 25) << 16) | (nodes[:, 1] >> 16)
                            for nodes in self.nodes]
        self.level_sizes = [int(s) for s in sizes]
        # The last node of each inner level is a sentinel that closes the children ranges.
        self.vocabulary = self.word_ids[1][:-1].astype(np.int64)

    # -- one node's fields
    def _children(self, level: int, index: int) -> tuple[int, int]:
        first = self.first_child[level]
        return int(first[index]), int(first[index + 1])

    def _log_backoff(self, level: int, index: int) -> float:
        return float(self.log_backoff_table[int(self.nodes[level][index, 0]) >> 18])

    def _backoff_state(self, level: int, index: int) -> tuple[int, int]:
        packed = int(self.nodes[level][index, 2])
        return (packed >> 23) & 0x3, packed & 0x7FFFFF

    def _log_probability(self, level: int, indexes: np.ndarray) -> np.ndarray:
        if level == self.order:   # a leaf: the probability index is split 14 + 2 bits
            leaves = self.leaves[indexes]
            table_index = (((leaves[:, 1] >> 25) & 0x3) << 14) | (leaves[:, 0] >> 18)
        else:
            table_index = self.nodes[level][indexes, 1] & 0xFFFF
        return self.log_probability_table[table_index]

    def unknown_log_probability(self) -> float:
        """ln P of a word the model never saw: bow(root) · P(root), sunpinyin's last resort."""
        root_probability = self.log_probability_table[int(self.nodes[0][0, 1]) & 0xFFFF]
        return self._log_backoff(0, 0) + float(root_probability)

    def next_word(self, level: int, index: int, word_ids) -> tuple[np.ndarray, ...]:
        """ln P(w | the history state (level, index)) for every w in ``word_ids``.

        Returns (ln P, the node each word reached: level and index, the n-gram order used:
        3 trigram … 1 unigram, 0 a word the model never saw). Katz back-off along the node's
        thread.
        """
        word_ids = np.asarray(word_ids, dtype=np.int64)
        count = len(word_ids)
        log_probability = np.empty(count)
        reached_level = np.zeros(count, dtype=np.int64)
        reached_index = np.zeros(count, dtype=np.int64)
        pending = np.arange(count)
        backoff = 0.0
        while True:
            start, end = self._children(level, index)
            if end > start and pending.size:
                children = self.word_ids[level + 1][start:end]
                wanted = word_ids[pending]
                position = np.minimum(np.searchsorted(children, wanted), end - start - 1)
                hit = children[position] == wanted
                found, at = pending[hit], start + position[hit]
                log_probability[found] = backoff + self._log_probability(level + 1, at)
                reached_level[found], reached_index[found] = level + 1, at
                pending = pending[~hit]
            if not pending.size:
                break
            # Not seen after this history: pay its back-off weight, follow its thread.
            backoff += self._log_backoff(level, index)
            if level == 0:
                break
            level, index = self._backoff_state(level, index)
        if pending.size:
            log_probability[pending] = backoff + float(
                self.log_probability_table[int(self.nodes[0][0, 1]) & 0xFFFF])
        return log_probability, reached_level, reached_index, reached_level.copy()

    def historify(self, levels: np.ndarray, indexes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The history state a reached node stands for (``CThreadSlm::historify``): a trigram
        leaf becomes its back-off bigram node; a node without children, its back-off node."""
        levels, indexes = levels.copy(), indexes.copy()
        leaf = levels == self.order
        if leaf.any():
            packed = self.leaves[indexes[leaf], 1]
            levels[leaf] = (packed >> 23) & 0x3
            indexes[leaf] = packed & 0x7FFFFF
        for level in range(1, self.order):
            mask = np.flatnonzero(levels == level)
            if not mask.size:
                continue
            first = self.first_child[level]
            childless = mask[first[indexes[mask]] == first[indexes[mask] + 1]]
            if childless.size:
                packed = self.nodes[level][indexes[childless], 2]
                levels[childless] = (packed >> 23) & 0x3
                indexes[childless] = packed & 0x7FFFFF
        return levels, indexes

    def state_after(self, word_ids) -> tuple[int, int]:
        """The history state after reading ``word_ids`` from the start of a sentence."""
        level, index = 0, 0
        for word in word_ids:
            _p, reached_level, reached_index, _order = self.next_word(level, index, [word])
            levels, indexes = self.historify(reached_level, reached_index)
            level, index = int(levels[0]), int(indexes[0])
        return level, index


# ----------------------------------------------------------------------------- the lexicon


class PinyinLexicon:
    """sunpinyin's pinyin trie (``CPinyinTrie``): syllable sequences → word ids, and the words."""

    def __init__(self, path: Path):
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size < 64 or raw.size % 4:
            raise PinyinUnavailable(_("{path} is not a sunpinyin lexicon; reinstall it with: "
                                      "{command}").format(path=path, command=INSTALL_COMMAND))
        self.data = raw.view("<u4")
        word_count, _node_count, string_offset = (int(v) for v in self.data[:3])
        if not 0 < string_offset < raw.size:
            raise PinyinUnavailable(_("{path} is not a sunpinyin lexicon (string offset "
                                      "{offset}); reinstall it with: {command}")
                                    .format(path=path, offset=string_offset,
                                            command=INSTALL_COMMAND))
        try:
            words = raw[string_offset:].tobytes().decode("utf-32-le").split("\x00")
        except UnicodeDecodeError as error:
            raise PinyinUnavailable(_("{path} is not a little-endian sunpinyin lexicon "
                                      "({error}); reinstall it with: {command}")
                                    .format(path=path, error=error,
                                            command=INSTALL_COMMAND)) from None
        if len(words) < word_count:
            raise PinyinUnavailable(_("{path} lists {listed} words but holds {held}; reinstall "
                                      "it with: {command}")
                                    .format(path=path, listed=word_count, held=len(words),
                                            command=INSTALL_COMMAND))
        self.words: list[str] = words[:word_count]
        self.ids = {word: i for i, word in enumerate(self.words) if word}
        self.longest_word = max(len(word) for word in self.words)
        self._nodes: dict[int, tuple[dict[int, int], np.ndarray]] = {}
        self._candidates: dict[int, np.ndarray] = {}
        root_transfers, _words = self._node(self.root_offset)
        codes = list(root_transfers)
        # The syllable table the data was built with: the newer one has "hm" and "ng".
        newer = any((c >> 12) & 0xFF == 24 or (c >> 4) & 0xFF == 35 for c in codes)
        finals = FINALS if newer else OLD_FINALS
        self.syllables: dict[str, int] = {}
        for code in codes:
            initial, final = (code >> 12) & 0xFF, (code >> 4) & 0xFF
            if initial < len(INITIALS) and final < len(finals):
                self.syllables[INITIALS[initial] + finals[final]] = code
        # Whole syllables (the trie also has bare initials such as "zh" for abbreviated input).
        self.full_syllables = {s for s, c in self.syllables.items()
                               if (c >> 4) & 0xFF or s == "hm"}

    root_offset = 12

    def _node(self, offset: int) -> tuple[dict[int, int], np.ndarray]:
        """A trie node: {syllable code: child offset} and its word entries (id: 24 bits, charset
        level: 2, lexicon cost: 5, seen by the language model: 1)."""
        cached = self._nodes.get(offset)
        if cached is None:
            at = offset // 4
            packed = int(self.data[at])
            word_count, transfer_count = packed & 0xFFF, (packed >> 12) & 0xFFF
            transfers = self.data[at + 1:at + 1 + 2 * transfer_count].reshape(-1, 2)
            first_word = at + 1 + 2 * transfer_count
            entries = self.data[first_word:first_word + word_count]
            cached = ({int(s): int(o) for s, o in transfers}, entries)
            self._nodes[offset] = cached
        return cached

    def walk(self, codes) -> list[np.ndarray]:
        """For syllables s0 s1 …: the candidate word ids for s0, s0 s1, s0 s1 s2, … (an empty
        array where the lexicon has no word of that reading), until the trie ends."""
        found = []
        offset = self.root_offset
        for code in codes:
            transfers, _words = self._node(offset)
            offset = transfers.get(code, 0)
            if not offset:
                break
            candidates = self._candidates.get(offset)
            if candidates is None:
                candidates = self._candidates[offset] = self.candidates(self._node(offset)[1])
            found.append(candidates)
        return found

    @staticmethod
    def candidates(entries: np.ndarray) -> np.ndarray:
        """The words sunpinyin tries for a reading (``CIMIContext::searchFrom``): of the first
        32 the lexicon lists (commonest first), the simplified ones (charset level 0), stopping
        at the first word the language model never saw once two are taken."""
        chosen: list[int] = []
        for entry in (int(e) for e in entries[:MAX_LEXICON_TRIES]):
            if not entry >> 31 and len(chosen) >= 2:
                break
            if not (entry >> 24) & 0x3:
                chosen.append(entry & 0xFFFFFF)
        return np.array(chosen, dtype=np.int64)

    def split_pinyin(self, text: str) -> list[str]:
        """"chu fang li", "chú fáng lǐ", "chu2 fang2 li3", "chufangli" → ["chu", "fang", "li"].
        Tone marks and tone numbers are dropped (the lexicon has no tones); a run of letters
        without separators is split into the fewest syllables."""
        return self.readings(text)[0] if text.strip() else []

    def readings(self, text: str, limit: int = MAX_READINGS) -> list[list[str]]:
        """Every way (up to ``limit``) to read ``text`` as the fewest syllables: "fangan" is
        fang'an or fan'gan, and the language model decides between them."""
        folded = unicodedata.normalize("NFD", text.lower()).replace("u\u0308", "v")
        folded = "".join(c for c in folded if not unicodedata.combining(c)).replace("ü", "v")
        readings: list[list[str]] = [[]]
        for chunk in re.split(r"[^a-z]+", folded):
            if chunk:
                readings = [reading + option for reading in readings
                            for option in self._split_run(chunk)][:limit]
        return readings

    def _split_run(self, run: str) -> list[list[str]]:
        if run in ALIASES:
            return [[ALIASES[run]]]
        if run in self.full_syllables:
            return [[run]]
        pieces = (self.full_syllables | set(ALIASES)) - {"ng", "hm"}
        longest = max(len(p) for p in pieces)
        # best[i]: the splits of run[:i] into the fewest syllables.
        best: list[list[list[str]]] = [[] for _i in range(len(run) + 1)]
        best[0] = [[]]
        for end in range(1, len(run) + 1):
            for start in range(max(0, end - longest), end):
                piece = run[start:end]
                if not best[start] or piece not in pieces:
                    continue
                options = [split + [ALIASES.get(piece, piece)] for split in best[start]]
                if not best[end] or len(options[0]) < len(best[end][0]):
                    best[end] = options[:MAX_READINGS]
                elif len(options[0]) == len(best[end][0]):
                    best[end] = (best[end] + options)[:MAX_READINGS]
        if not best[-1]:
            raise ValueError(_("'{run}' is not pinyin: write syllables such as 'chu fang li' "
                               "(separate them with spaces when in doubt)").format(run=run))
        return best[-1]


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class WordScore:
    word: str
    log_probability: float    # ln P(word | the two words before it), back-off included
    order: int                # n-gram the model used: 3 trigram … 1 unigram; 0: a word the
                              # model never saw; -1: text outside the lexicon (its "other" token)

    @property
    def context(self) -> str:
        return ORDER_NAMES[self.order]


@dataclass(frozen=True)
class Sentence:
    """A sentence as the word trigram reads it: its words, each word's ln P, and the total."""
    text: str
    words: tuple[WordScore, ...]
    end: WordScore | None             # the clause end "，" (None: not charged: one word alone)
    log_probability: float            # sum of the words' ln P (and the end's)

    @property
    def segmented(self) -> str:
        return " / ".join(w.word for w in self.words)

    @property
    def probability(self) -> float:
        return math.exp(self.log_probability)


@dataclass
class Conversion:
    """Pinyin → characters: the best sentence first, then the runner-ups."""
    syllables: list[str]
    sentences: list[Sentence]
    seconds: float
    words_considered: int = 0         # candidate words in the lattice (all positions)

    @property
    def best(self) -> Sentence:
        return self.sentences[0]


@dataclass
class _Frame:
    """The hypotheses that end at one lattice position (arrays, one entry each)."""
    score: np.ndarray
    level: np.ndarray
    index: np.ndarray
    back: np.ndarray           # the hypothesis it extends, in frame ``start``
    start: np.ndarray
    word: np.ndarray
    word_log_probability: np.ndarray
    order: np.ndarray

    @classmethod
    def initial(cls) -> "_Frame":
        zero = np.zeros(1, dtype=np.int64)
        return cls(np.zeros(1), zero, zero, zero - 1, zero - 1, zero - 1, np.zeros(1), zero)


# ----------------------------------------------------------------------------- the model


class SunPinyinModel:
    """The open-gram word trigram and sunpinyin's lexicon, with scoring and pinyin conversion."""

    def __init__(self, folder: Path):
        started = time.perf_counter()
        self.folder = folder
        self.trigram = WordTrigram(folder / MODEL_FILE)
        lexicon = _lexicon_file(folder)
        if lexicon is None:
            raise PinyinUnavailable(_("no sunpinyin lexicon ({files}) in {folder}")
                                    .format(files=", ".join(LEXICON_FILES), folder=folder))
        self.lexicon = PinyinLexicon(lexicon)
        self.load_seconds = time.perf_counter() - started

    # -- facts for the page
    @property
    def sizes(self) -> dict[str, int]:
        unigrams, bigrams, trigrams = (self.trigram.level_sizes[1] - 1,
                                       self.trigram.level_sizes[2] - 1,
                                       self.trigram.level_sizes[3] - 1)
        return {"words in the lexicon": len(self.lexicon.ids), "unigrams": unigrams,
                "bigrams": bigrams, "trigrams": trigrams}

    def word_id(self, word: str) -> int | None:
        return self.lexicon.ids.get(word)

    def next_word_log_probabilities(self, history: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every word the model knows and ln P(word | history), history read from a sentence's
        start (its last two words count). Unknown history words raise KeyError."""
        ids = [self.lexicon.ids[w] for w in history]
        level, index = self.trigram.state_after(ids)
        vocabulary = self.trigram.vocabulary
        log_probability, *_rest = self.trigram.next_word(level, index, vocabulary)
        return vocabulary, log_probability

    # -- scoring a sentence
    def score(self, sentence: str, with_end: bool = True) -> Sentence:
        """ln P of a Chinese sentence under the word trigram, with its most probable
        segmentation into the lexicon's words (a run of characters outside the lexicon, such as
        digits or Latin letters, is one token: the model's "other" word)."""
        text = "".join(sentence.split()).translate(FULLWIDTH)
        if not text:
            raise ValueError(_("type a sentence to score"))
        if len(text) > MAX_CHARACTERS:
            raise ValueError(_("type at most {limit} characters (got {count})")
                             .format(limit=MAX_CHARACTERS, count=len(text)))
        ids = self.lexicon.ids
        edges: list[list[tuple[int, np.ndarray]]] = [[] for _i in range(len(text) + 1)]
        labels = {}
        for start in range(len(text)):
            has_single = False
            for end in range(start + 1, min(len(text), start + self.lexicon.longest_word) + 1):
                word = ids.get(text[start:end])
                if word is not None:
                    edges[end].append((start, np.array([word])))
                    has_single |= end == start + 1
            if not has_single:   # characters outside the lexicon: one unknown token per run
                end = start + 1
                while end < len(text) and text[end] not in ids:
                    end += 1
                edges[end].append((start, np.array([-1 - start])))
                labels[-1 - start] = text[start:end]
        with_end = with_end and text[-1] not in PUNCTUATION   # already ends a clause
        return self._search(edges, len(text), keep=1, with_end=with_end, labels=labels)[0]

    # -- pinyin to characters
    def convert(self, pinyin: str, count: int = 5, with_end: bool = True) -> Conversion:
        """The ``count`` likeliest sentences for a pinyin string (best first)."""
        started = time.perf_counter()
        readings = self.lexicon.readings(pinyin)
        if not readings or not readings[0]:
            raise ValueError(_("type pinyin, for example: {example}").format(example=TUTORIAL_PINYIN))
        if len(readings[0]) > MAX_SYLLABLES:
            raise ValueError(_("type at most {limit} syllables (got {count})")
                             .format(limit=MAX_SYLLABLES, count=len(readings[0])))
        found: list[tuple[Sentence, list[str]]] = []
        considered = 0
        for syllables in readings:
            unknown = [s for s in syllables if s not in self.lexicon.syllables]
            if unknown:
                raise ValueError(_("not a syllable of the lexicon: {syllables}")
                                 .format(syllables=", ".join(unknown)))
            codes = [self.lexicon.syllables[s] for s in syllables]
            edges: list[list[tuple[int, np.ndarray]]] = [[] for _i in range(len(codes) + 1)]
            for start in range(len(codes)):
                for length, candidates in enumerate(self.lexicon.walk(codes[start:]), start=1):
                    if candidates.size:
                        edges[start + length].append((start, candidates))
                        considered += candidates.size
            found += [(sentence, syllables) for sentence in self._search(
                edges, len(codes), keep=max(2, count), with_end=with_end, results=count)]
        if not found:
            raise ValueError(_("no words in the lexicon spell {pinyin}")
                             .format(pinyin=" ".join(readings[0])))
        found.sort(key=lambda pair: -pair[0].log_probability)
        sentences, texts = [], set()
        for sentence, _syllables in found:
            if sentence.text not in texts:
                texts.add(sentence.text)
                sentences.append(sentence)
        return Conversion(found[0][1], sentences[:count], time.perf_counter() - started,
                          considered)

    # -- the lattice search shared by both
    def _search(self, edges, length: int, keep: int, with_end: bool, results: int = 1,
                labels: dict | None = None) -> list[Sentence]:
        """Viterbi over the word lattice: a hypothesis is (score, the model's history state);
        hypotheses with the same state have the same future, so each state keeps its ``keep``
        best, and each position its ``BEAM_STATES`` best states (sunpinyin's beam)."""
        labels = labels or {}
        trigram = self.trigram
        unknown_log_probability = trigram.unknown_log_probability()
        frames: list[_Frame | None] = [None] * (length + 1)
        frames[0] = _Frame.initial()
        for end in range(1, length + 1):
            parts = []
            for start, word_ids in edges[end]:
                frame = frames[start]
                if frame is None:
                    continue
                model_ids = np.where(word_ids < 0, UNKNOWN_WORD, word_ids)
                histories = frame.level * (1 << 32) + frame.index
                for history in np.unique(histories):
                    members = np.flatnonzero(histories == history)
                    level, index = int(frame.level[members[0]]), int(frame.index[members[0]])
                    log_p, reached_level, reached_index, order = trigram.next_word(
                        level, index, model_ids)
                    # Ids the lexicon has but the model does not: unknown words.
                    order = np.where(log_p <= unknown_log_probability + 1e-9, 0, order)
                    order = np.where(word_ids < 0, -1, order)
                    new_level, new_index = trigram.historify(reached_level, reached_index)
                    # Every member hypothesis × every candidate word: (members, words) → flat.
                    scores = frame.score[members][:, None] + log_p[None, :]
                    grid = (len(members), len(word_ids))
                    parts.append((
                        scores.ravel(),
                        np.broadcast_to(new_level, grid).ravel(),
                        np.broadcast_to(new_index, grid).ravel(),
                        np.repeat(members, len(word_ids)),
                        np.full(scores.size, start),
                        np.broadcast_to(word_ids, grid).ravel(),
                        np.broadcast_to(log_p, grid).ravel(),
                        np.broadcast_to(order, grid).ravel()))
            if parts:
                columns = [np.concatenate(p) for p in zip(*parts)]
                frames[end] = self._prune(*columns, keep=keep)  # type: ignore[misc, arg-type]
        last = frames[length]
        if last is None:
            return []
        # The clause end closes the sentence (sunpinyin's tail frame), then the n best.
        end_scores = np.zeros(len(last.score))
        end_orders = np.zeros(len(last.score), dtype=np.int64)
        # One word alone is not charged the clause end (sunpinyin's _transferBetween).
        charged = with_end & (last.start > 0)
        if charged.any():
            histories = np.where(charged, last.level * (1 << 32) + last.index, -1)
            for history in np.unique(histories[charged]):
                members = np.flatnonzero(histories == history)
                log_p, _level, _index, order = trigram.next_word(int(last.level[members[0]]),
                                                       int(last.index[members[0]]), [ENDING_WORD])
                end_scores[members], end_orders[members] = log_p[0], order[0]
        totals = last.score + end_scores
        sentences: list[Sentence] = []
        seen_texts = set()
        for hypothesis in np.argsort(-totals, kind="stable"):
            words = self._trace(frames, length, int(hypothesis), labels)
            text = "".join(w.word for w in words)
            if text in seen_texts:
                continue
            seen_texts.add(text)
            closing = (WordScore("，", float(end_scores[hypothesis]), int(end_orders[hypothesis]))
                       if charged[hypothesis] else None)
            sentences.append(Sentence(text, tuple(words), closing, float(totals[hypothesis])))
            if len(sentences) == results:
                break
        return sentences

    @staticmethod
    def _prune(score, level, index, back, start, word, word_log_probability, order,
               keep: int) -> _Frame:
        """Keep each history state's ``keep`` best hypotheses, and the best ``BEAM_STATES``
        states."""
        key = level * (1 << 32) + index
        ranked = np.lexsort((-score, key))                 # by state, best first within it
        sorted_key = key[ranked]
        group_start = np.r_[0, np.flatnonzero(sorted_key[1:] != sorted_key[:-1]) + 1]
        group_of = np.repeat(np.arange(len(group_start)),
                             np.diff(np.r_[group_start, len(sorted_key)]))
        rank_in_group = np.arange(len(ranked)) - group_start[group_of]
        # The states ranked by their best hypothesis; the top BEAM_STATES survive.
        best_states = group_of[group_start][np.argsort(-score[ranked[group_start]],
                                                       kind="stable")[:BEAM_STATES]]
        alive = np.zeros(len(group_start), dtype=bool)
        alive[best_states] = True
        chosen = ranked[(rank_in_group < keep) & alive[group_of]]
        chosen = chosen[np.argsort(-score[chosen], kind="stable")]
        return _Frame(score[chosen], level[chosen], index[chosen], back[chosen], start[chosen],
                      word[chosen], word_log_probability[chosen], order[chosen])

    def _trace(self, frames, position: int, hypothesis: int, labels: dict) -> list[WordScore]:
        words = []
        while position > 0:
            frame = frames[position]
            word = int(frame.word[hypothesis])
            text = labels.get(word, self.lexicon.words[word] if word >= 0 else "?")
            words.append(WordScore(text, float(frame.word_log_probability[hypothesis]),
                                   int(frame.order[hypothesis])))
            position, hypothesis = int(frame.start[hypothesis]), int(frame.back[hypothesis])
        return words[::-1]


# ----------------------------------------------------------------------------- loading, cached

_models: dict[Path, SunPinyinModel] = {}
_lock = threading.Lock()


def load_model(folder: str | os.PathLike | None = None) -> SunPinyinModel:
    """The model from ``folder`` (default: where Debian installs it), read once per process.
    Raises ``PinyinUnavailable`` (with the install command) when the data is missing."""
    resolved = data_folder(folder).resolve()
    with _lock:
        model = _models.get(resolved)
        if model is None:
            model = _models[resolved] = SunPinyinModel(resolved)
    return model
