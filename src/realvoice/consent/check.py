"""Checking a consent recording: is it the statement, with this user's code, read by the voice's speaker?

Three checks, each with its own error so the person knows what to do: the transcript against the
statement and the code (``statement.py``), and the speaker against the voice's samples (the
similarity of the cleaned recording's speaker embedding to the samples' centroid, with a threshold
chosen from measured false-accept and false-reject rates: docs/provenance.md). Whether the code was
issued to this user, recently, and is used once is the challenge store's job (``store/consent.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConsentError
from ..models import ConsentRecord
from .statement import MAX_STATEMENT_ERROR, match_transcript, spoken_digits, statement

# Resemblyzer cosine similarity of the consent recording to the samples' centroid (bench/consent.py).
SAME_SPEAKER = 0.79
SPEAKER_MODEL = "resemblyzer-ge2e"


@dataclass(frozen=True)
class ConsentRecording:
    """A recording of the consent statement, and the id of the challenge that issued its code."""

    challenge_id: str
    path: Path
    redeemed: Challenge | None = None  # the challenge, where a job already used it up on an earlier attempt


@dataclass(frozen=True)
class Challenge:
    """What a redeemed challenge gave: whose name the statement carried, and its code."""

    speaker_name: str
    code: str


@dataclass(frozen=True)
class Heard:
    """The recording as the checks need it: its cleaned audio and what was said."""

    samples: np.ndarray
    sample_rate: int
    transcript: str
    code_transcript: str = ""  # a second, closer listen to what follows the word "code"


def check_statement(heard: Heard, challenge: Challenge) -> ConsentRecord:
    """The transcript check; raises ``ConsentError`` naming what was wrong."""
    said = statement(challenge.speaker_name, challenge.code)
    match = match_transcript(heard.transcript, challenge.speaker_name, challenge.code)
    code_ok = match.code_ok or spoken_digits(heard.code_transcript)[0] == challenge.code
    if not match.statement_ok:
        raise ConsentError(
            f'The consent recording does not say the statement (we heard: "{heard.transcript[:200]}"). '
            f'Read it word for word: "{said}" Ask for a new code and record it again.',
            code="consent_statement_mismatch",
        )
    if not code_ok:
        raise ConsentError(
            f"The consent recording does not say this statement's code (we heard "
            f"{' '.join(match.digits_heard) or 'no digits'}). Ask for a new code and read its digits one by one.",
            code="consent_code_mismatch",
        )
    return ConsentRecord(
        method="recording",
        statement=said,
        transcript=heard.transcript,
        code_transcript=heard.code_transcript,
        statement_error=match.statement_error,
        statement_error_limit=MAX_STATEMENT_ERROR,
        code_heard=True,
    )


def check_speaker(
    record: ConsentRecord, heard: Heard, centroid: np.ndarray, embed: Callable[[np.ndarray, int], np.ndarray]
) -> ConsentRecord:
    """The speaker check against the samples' centroid; raises ``ConsentError`` when it is someone else."""
    similarity = float(np.dot(embed(heard.samples, heard.sample_rate), centroid))
    checked = record.model_copy(
        update={"similarity": round(similarity, 4), "threshold": SAME_SPEAKER, "speaker_model": SPEAKER_MODEL}
    )
    if similarity < SAME_SPEAKER:
        raise ConsentError(
            "The consent recording is not by the person in the samples (speaker similarity "
            f"{similarity:.2f}, at least {SAME_SPEAKER:.2f} needed). The speaker in the recordings must read "
            "the consent statement themselves.",
            code="consent_speaker_mismatch",
        )
    return checked
