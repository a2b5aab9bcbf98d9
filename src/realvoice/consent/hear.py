"""A consent recording made ready for the checks: decoded, cleaned like a sample, and transcribed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import Settings
from ..errors import ConsentError
from ..provenance import Watermarker
from .check import Heard


def hear_recording(path: Path, settings: Settings) -> Heard:
    """The recording cleaned as the samples are (so the speaker check compares like with like) and its
    transcript; an unusable recording, or one that realvoice itself made (a clone reading the statement
    for someone), is a ``ConsentError`` that says why."""
    from ..analysis.transcribe import transcribe_timed
    from ..samples import take_in

    intake = take_in(
        [path],
        max_bytes=settings.max_upload_bytes,
        max_seconds=settings.max_sample_seconds,
        min_speech_s=settings.min_speech_seconds,
        names=["consent recording"],
    )
    if not intake.accepted:
        reasons = "; ".join(intake.reports[0].reasons) or "it could not be used"
        raise ConsentError(
            f"The consent recording cannot be used: {reasons}. Record the statement again.",
            code="consent_recording_unusable",
        )
    original = intake.originals["consent recording"]
    if Watermarker.load().detect(original.samples, original.sample_rate).watermarked:
        raise ConsentError(
            "The consent recording is speech made by realvoice (it carries our watermark). The speaker must "
            "read the statement themselves.",
            code="consent_recording_generated",
        )
    sample = intake.accepted[0]
    transcript, words = transcribe_timed(sample.samples, sample.sample_rate)
    return Heard(sample.samples, sample.sample_rate, transcript, _code_again(sample.samples, sample.sample_rate, words))


def _code_again(x: np.ndarray, sr: int, words: list[tuple[str, float, float]]) -> str:
    """What follows the last "code", transcribed on its own (beam search, silence around it): in a whole
    statement the small recogniser drops a digit of a quickly read code now and then, alone it rarely does."""
    from ..analysis.transcribe import transcribe

    ends = [end for word, _, end in words if "code" in word.lower()]
    if not ends:
        return ""
    pad = np.zeros(sr // 2, np.float32)
    return transcribe(np.concatenate([pad, x[int(ends[-1] * sr) :], pad]), sr, beam_size=5)
