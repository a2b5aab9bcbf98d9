"""Provenance: an inaudible watermark in every output's audio, and a plain tag in its file."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tags import ProvenanceTag, read_tag
from .watermark import Detection, Watermarker


@dataclass(frozen=True)
class Stamp:
    """What every output of one voice carries: the watermark in its samples, the tag in its file."""

    tag: ProvenanceTag

    @classmethod
    def for_voice(cls, voice_id: str) -> Stamp:
        return cls(ProvenanceTag.for_voice(voice_id))

    def mark(self, audio: np.ndarray, sample_rate: int, *, passes: int = 1) -> np.ndarray:
        """The watermark embedded ``passes`` times: twice where a music bed shares the audio (the bed
        masks one pass; docs/provenance.md has the figures), once for speech alone."""
        marker = Watermarker.load()
        for _ in range(passes):
            audio = marker.mark(audio, sample_rate)
        return audio

    @property
    def fields(self) -> dict[str, str]:
        return self.tag.fields()


__all__ = ["Detection", "ProvenanceTag", "Stamp", "Watermarker", "read_tag"]
