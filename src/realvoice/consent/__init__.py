"""Consent: the statement a speaker reads with a one-time code, and the checks on their recording."""

from .check import SAME_SPEAKER, Challenge, ConsentRecording, Heard, check_speaker, check_statement
from .statement import check_speaker_name, match_transcript, new_code, statement

__all__ = [
    "SAME_SPEAKER",
    "Challenge",
    "ConsentRecording",
    "Heard",
    "check_speaker",
    "check_speaker_name",
    "check_statement",
    "match_transcript",
    "new_code",
    "statement",
]
