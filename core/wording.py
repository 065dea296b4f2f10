"""Small helpers for the sentences the pages build from data: the article before a class name, and
how many times likelier one sentence is than another, said with what it compares."""
from __future__ import annotations

import math

from core.i18n import DEFAULT, N_, current

# Words spelt with a vowel that sound a consonant first ("a unit"), and the reverse ("an hour").
_CONSONANT_SOUND = ("uni", "use", "usu", "one", "eu", "ewe")
_VOWEL_SOUND = ("hour", "honest", "honour", "honor", "heir")


def article(noun: str) -> str:
    """"a" or "an" for ``noun`` by how it sounds: "an Ankle boot", "a Sneaker", "a T-shirt/top",
    "an 8"."""
    word = noun.strip().lower()
    if not word:
        return "a"
    if word.startswith(_VOWEL_SOUND):
        return "an"
    if word.startswith(_CONSONANT_SOUND):
        return "a"
    if word[0] in "8":                     # "an 8", "an 80 px image"
        return "an"
    if len(word) > 1 and word[1] in "-/ " and word[0] in "aefhilmnorsx":
        return "an"                        # letters said as letters: "an F-test", "an X/Y"
    return "an" if word[0] in "aeiou" else "a"


def with_article(noun: str) -> str:
    """``noun`` after its article: "an Ankle boot", "a Sneaker" (in a language without articles,
    such as Chinese, the noun alone)."""
    if current() != DEFAULT:
        return noun
    return f"{article(noun)} {noun}"


def times(gap: float) -> str:
    """e^gap as a number, for "… times as probable": "4.3", "2,760", or for very large gaps
    "e^25.9 ≈ 1.8 × 10^11"."""
    ratio = math.exp(gap)
    if gap < math.log(10):
        return f"{ratio:.1f}"
    if gap < 9:
        return f"{ratio:,.0f}"
    exponent = math.floor(gap / math.log(10))
    return f"e^{gap:.1f} ≈ {ratio / 10 ** exponent:.1f} × 10^{exponent}"


RATIO_NOTE = N_("A difference of ln P is the log of a ratio of probabilities: when ln P(A) − "
                "ln P(B) = d, the model finds A e^d times as probable as B.")
