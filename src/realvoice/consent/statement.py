"""The consent statement a speaker reads aloud, its one-time code, and how a transcript is held to it.

The statement names the speaker and ends with a code of four digits, issued to one user for a few
minutes and good for one attempt (see ``store/consent.py``). A transcript matches when its letters
are close to the statement's (a few misheard words are tolerated; spacing is ignored, so "realvoice"
and "real voice" agree) and its digits are exactly the code.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from ..analysis.transcribe import edit_distance
from ..errors import InvalidInputError

CODE_DIGITS = 4
# One in five letters may differ: a misheard name or word or two, but not another sentence.
MAX_STATEMENT_ERROR = 0.2
_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ .'-]){0,59}$")


def new_code() -> str:
    """Four digits from 1-9 (no zero: "oh" and "zero" are both said for it), no digit twice in a row
    ("five five" is heard as one, two or three fives)."""
    digits = [secrets.choice("123456789")]
    while len(digits) < CODE_DIGITS:
        digits.append(secrets.choice("123456789".replace(digits[-1], "")))
    return "".join(digits)


def check_speaker_name(name: str) -> str:
    """The speaker's name as they will say it: 1-60 letters, spaces, dots, apostrophes or hyphens."""
    cleaned = " ".join(unicodedata.normalize("NFC", name or "").split())
    if not _NAME.match(cleaned):
        raise InvalidInputError(
            "the speaker's name must be 1-60 letters (spaces, '.', ''' and '-' allowed), as they will say it",
            code="bad_speaker_name",
        )
    return cleaned


def statement(name: str, code: str) -> str:
    """What the speaker reads: their name, their agreement, the code digit by digit (commas make the
    reader pause between digits, which the recogniser then hears as separate digits)."""
    return f"I, {name}, agree that realvoice creates a synthetic version of my voice. My code is {', '.join(code)}."


@dataclass(frozen=True)
class TranscriptMatch:
    """How a transcript compares with the statement: the share of letters that differ, the digits heard."""

    statement_error: float
    digits_heard: str
    code: str

    @property
    def statement_ok(self) -> bool:
        return self.statement_error <= MAX_STATEMENT_ERROR

    @property
    def code_ok(self) -> bool:
        return self.digits_heard == self.code


_NUMBERS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8"}
_NUMBERS["nine"] = "9"
# After the word "code" only digits are said, so words that sound like one are read as that digit.
_SOUND_ALIKE = {"won": "1", "to": "2", "too": "2", "for": "4", "ate": "8", "a": "8"}


def match_transcript(transcript: str, name: str, code: str) -> TranscriptMatch:
    """Hold ``transcript`` to the statement for ``name`` and ``code``.

    The digits are read from the raw transcript after its last "code" (Whisper writes "4821", "4-8-2-1",
    "4, 8, 2, 1" or "four eight two one"); the rest is compared letter by letter, after Whisper's
    English normaliser."""
    at = transcript.lower().rfind("code")
    head, tail = (transcript[: at + 4], transcript[at + 4 :]) if at >= 0 else (transcript, transcript)
    digits, rest = spoken_digits(tail, after_code=at >= 0)
    rest = rest if at >= 0 else ""
    expected, heard = _letters(statement(name, "")), _letters(f"{head} {rest}" if at >= 0 else head)
    return TranscriptMatch(round(edit_distance(expected, heard) / max(len(expected), 1), 3), digits, code)


def spoken_digits(text: str, *, after_code: bool = True) -> tuple[str, str]:
    """The digits said in ``text`` (figures or number words; after the word "code", also the words
    that sound like one), and the other words."""
    spoken = _NUMBERS | (_SOUND_ALIKE if after_code else {})
    tokens = re.findall(r"[a-z]+|\d", text.lower())
    digits = "".join(spoken.get(t, t) for t in tokens if t.isdigit() or t in spoken)
    return digits, " ".join(t for t in tokens if not (t.isdigit() or t in spoken))


def _letters(text: str) -> str:
    from ..analysis.transcribe import normalized_words

    return re.sub(r"[^a-z]", "", "".join(w for w in normalized_words(text) if not any(c.isdigit() for c in w)))
