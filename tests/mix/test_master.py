"""A lossy file is held to the true-peak ceiling as it decodes, not only as it went into the encoder."""

from __future__ import annotations

import pytest

from realvoice.audio import decode, loudness_lufs
from realvoice.mix import apply_effects, normalize, parse_effects
from realvoice.mix.master import decoded_true_peak_db, encode_within_ceiling

from .signals import SR, speechlike, true_peak_db


@pytest.mark.parametrize("suffix", [".ogg", ".mp3", ".wav"])
def test_the_decoded_file_meets_the_ceiling(tmp_path, suffix):
    # a telephone band and hard compression: what made Opus decode up to a dB over the ceiling
    audio = normalize(apply_effects(speechlike(), SR, parse_effects(["phone"])), SR, -16.0, -1.0)
    path = encode_within_ceiling(tmp_path / f"out{suffix}", audio, SR, -1.0)
    track = decode(path, max_bytes=1 << 30, max_seconds=600)
    assert true_peak_db(track.samples, track.sample_rate) <= -1.0 + 0.05
    assert decoded_true_peak_db(path) <= -1.0
    assert abs(loudness_lufs(track.samples, track.sample_rate) - (-16.0)) < 0.7  # limiting, not a gain cut
