"""The leveller: speech that goes out sentence by sentence still lands at one loudness."""

from __future__ import annotations

import numpy as np
import pyloudnorm

from realvoice.mix.level import Leveller

from .signals import SR, speechlike, true_peak_db


def _lufs(x: np.ndarray) -> float:
    return float(pyloudnorm.Meter(SR).integrated_loudness(np.asarray(x, np.float64)))


def test_sentences_of_uneven_loudness_come_out_at_the_target():
    """Ten sentences spread over 12 dB, as quiet as a raw engine's or as loud: the whole is within
    1 LU of the target and no sentence passes the true-peak ceiling."""
    rng = np.random.default_rng(3)
    for base in (0.05, 0.5):
        level = Leveller(SR, -16.0, -1.0)
        sentences = [speechlike(phrases=1, gap_s=0.2, level=base * rng.uniform(0.5, 2.0)) for _ in range(10)]
        out = [level(s) for s in sentences]
        assert abs(_lufs(np.concatenate(out)) - -16.0) < 1.0
        assert max(true_peak_db(x, SR) for x in out) <= -1.0 + 0.05
        assert abs(level.loudness_lufs - _lufs(np.concatenate(sentences))) < 1.0  # the running estimate


def test_a_tail_follows_the_gain_without_moving_it():
    level = Leveller(SR, -16.0, -1.0)
    first = level(speechlike(phrases=1, level=0.05))
    before = level.loudness_lufs
    tail = level.follow(np.full(SR, 1e-3, np.float32))
    assert level.loudness_lufs == before and np.allclose(tail / 1e-3, tail[0] / 1e-3)
    assert len(first) and tail[0] > 1e-3  # the quiet input was raised, and so is its tail


def test_silence_and_nothing_pass_unchanged():
    level = Leveller(SR)
    silence = np.zeros(SR, np.float32)
    assert np.array_equal(level(silence), silence) and level.loudness_lufs is None
    assert len(level(np.zeros(0, np.float32))) == 0
