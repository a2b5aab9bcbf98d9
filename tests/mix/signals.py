"""Test signals and independent measurements for the mixing tests."""

from __future__ import annotations

import numpy as np
from scipy.signal import resample

from ..helpers import vowel

SR = 24000


def speechlike(sr: int = SR, phrases: int = 3, gap_s: float = 0.8, level: float = 0.5) -> np.ndarray:
    """Phrases of eight vowel 'syllables' of uneven loudness (as in speech), with pauses between phrases."""
    rng = np.random.default_rng(7)
    syllables = [vowel(f0, 0.22, sr) * np.hanning(int(0.22 * sr)) for f0 in (110, 125, 140)]
    parts = [np.zeros(int(0.2 * sr))]
    for _ in range(phrases):
        for k in range(8):
            parts += [syllables[k % 3] * rng.uniform(0.15, 1.0) * level / 0.5, np.zeros(int(0.06 * sr))]
        parts.append(np.zeros(int(gap_s * sr)))
    return np.concatenate(parts).astype(np.float32)


def true_peak_db(x: np.ndarray, sr: int) -> float:
    """Peak of the ideal (FFT, band-limited) interpolation at >= 192 kHz: independent of the code under test."""
    factor = int(np.ceil(192000 / sr))
    return float(20 * np.log10(np.max(np.abs(resample(np.asarray(x, np.float64), len(x) * factor))) + 1e-12))
