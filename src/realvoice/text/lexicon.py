"""A user's pronunciation dictionary: whole words replaced by a respelling or by phonemes.

A respelling is plain text ("Nguyen" -> "win"); phonemes are written between slashes ("/ŋwˈɪn/") and
reach the engine as an inline ``[word](/phonemes/)`` marker, which engines that take phonemes honour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..engines.base import PHONEME_MARKER as MARKER
from ..errors import InvalidInputError

_WORD = re.compile(r"^[\w'’.-]{1,64}$")


def check_entry(word: str, say_as: str) -> tuple[str, str]:
    word, say_as = (word or "").strip(), (say_as or "").strip()
    if not _WORD.match(word):
        raise InvalidInputError("a dictionary word is one word of up to 64 letters, digits, ' . or -", code="bad_word")
    if not say_as or len(say_as) > 200 or "]" in say_as or "[" in say_as:
        raise InvalidInputError("say it as: a respelling or /phonemes/ of up to 200 characters", code="bad_word")
    return word, say_as


def apply_lexicon(sentence: str, lexicon: Mapping[str, str]) -> str:
    """Replace every whole-word, case-insensitive occurrence of a dictionary word."""
    if not lexicon:
        return sentence
    table = {k.lower(): v for k, v in lexicon.items()}
    pattern = re.compile(
        r"(?<![\w'])(" + "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)) + r")(?![\w'])",
        re.IGNORECASE,
    )

    def swap(m: re.Match[str]) -> str:
        say_as = table[m.group(1).lower()]
        if len(say_as) > 2 and say_as.startswith("/") and say_as.endswith("/"):
            return f"[{m.group(1)}]({say_as})"
        return say_as

    return pattern.sub(swap, sentence)


__all__ = ["MARKER", "apply_lexicon", "check_entry"]
