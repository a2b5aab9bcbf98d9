"""The one rule for what to record, stated once; every message about sample length quotes it.

A clip counts with a second of speech (short clips still fit well when there are enough of them);
what makes a good voice is the total, so the advice is given as a number of sentences and a total.
"""

from __future__ import annotations

from ..config import Settings

GOOD_SPEECH_S = 30.0  # the total of clean speech that the default engine needs for its best fit
SENTENCE_S = 5.0  # a spoken sentence, the unit of the advice


def recording_rule(settings: Settings | None = None) -> str:
    """The rule in one sentence, for pages, help texts and errors."""
    s = settings or Settings()
    return (
        f"At least {s.min_samples} recordings of one speaker, each a sentence or more "
        f"(at least {s.min_speech_seconds:g} s of speech), {GOOD_SPEECH_S:.0f} s of speech in all."
    )


def more_sentences(speech_s: float) -> int:
    """How many more sentences bring ``speech_s`` of speech up to the good total (0 if there)."""
    missing = GOOD_SPEECH_S - speech_s
    return 0 if missing <= 0 else int(-(-missing // SENTENCE_S))
