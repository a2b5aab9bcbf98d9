"""The last stage of a file render: encode, then hold the decoded file to the true-peak ceiling.

A lossy codec (Opus, MP3) reshapes the waveform, so a file limited to the ceiling before encoding can
decode above it by up to about a dB on bright, band-limited speech. The file a listener plays is what
must meet the ceiling, so it is decoded and measured, and re-encoded from a lower limiter ceiling when
it does not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..audio import decode
from ..audio.io import Tags, encode
from .loudness import limit_true_peak, true_peak_dbtp

LOSSY = frozenset({".ogg", ".mp3"})
_TRIES = 3  # each retry lowers the limiter by the overshoot it measured on the last encoding
_SLACK_DB = 0.05  # aim this far under the ceiling on a retry


def decoded_true_peak_db(path: Path) -> float:
    """The true peak of the file as a player decodes it."""
    track = decode(path, max_bytes=1 << 34, max_seconds=1e9)
    return true_peak_dbtp(track.samples, track.sample_rate)


def encode_within_ceiling(
    path: Path, audio: np.ndarray, sample_rate: int, ceiling_db: float, tags: Tags | None = None
) -> Path:
    """Encode ``audio``, already within ``ceiling_db`` dBTP, to ``path`` so that the decoded file's
    true peak is within it too."""
    encode(path, audio, sample_rate, tags)
    if path.suffix.lower() not in LOSSY:
        return path
    limit = ceiling_db
    for _ in range(_TRIES):
        over = decoded_true_peak_db(path) - ceiling_db
        if over <= 0:
            break
        limit -= over + _SLACK_DB
        encode(path, limit_true_peak(audio, sample_rate, limit), sample_rate, tags)
    return path
