"""Is this file realvoice speech? The watermark decides; the file's tag, if it kept one, is reported beside it."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from ..audio import decode
from .tags import read_tag
from .watermark import Watermarker


class DetectionReport(BaseModel):
    """One file's verdict: the watermark's presence and confidence, and its provenance tag when it has one."""

    file: str
    watermarked: bool
    confidence: float
    tag_generator: str | None = None
    tag_voice: str | None = None
    tag_time: str | None = None


def detect_file(
    path: str | os.PathLike[str], *, max_bytes: int, max_seconds: float, label: str | None = None
) -> DetectionReport:
    """Decode ``path`` (bounded like an upload) and look for the watermark; an unreadable file raises
    ``InvalidSampleError``."""
    audio = decode(path, max_bytes=max_bytes, max_seconds=max_seconds)
    found = Watermarker.load().detect(audio.samples, audio.sample_rate)
    tag = read_tag(path)
    return DetectionReport(
        file=label or Path(path).name,
        watermarked=found.watermarked,
        confidence=found.confidence,
        tag_generator=tag.generator if tag else None,
        tag_voice=tag.voice_hash if tag else None,
        tag_time=tag.created if tag else None,
    )
