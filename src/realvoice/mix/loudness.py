"""Mastering: true-peak measurement (BS.1770 oversampling), a look-ahead limiter and loudness normalisation."""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import firwin, resample_poly

from ..audio import db, loudness_lufs

_MARGIN_DB = 0.15  # the limiter aims this far under the ceiling, for inter-sample error after gain smoothing


def oversampling(sr: int) -> int:
    """How many times to oversample so true peaks are read at 192 kHz or more (BS.1770-4 asks 4x at 48 kHz)."""
    return max(1, math.ceil(192_000 / sr))


@functools.cache
def _interpolator(factor: int) -> np.ndarray:
    """A short polyphase interpolation filter: 16 taps a phase (BS.1770's 4x example has 12), flat to 0.02 dB
    up to three quarters of the Nyquist frequency; float32 so the oversampling runs in single precision."""
    return firwin(16 * factor + 1, 1.0 / factor, window=("kaiser", 6.0)).astype(np.float32)


def _peaks(x: np.ndarray, sr: int) -> np.ndarray:
    """Per-sample true peak: the largest |value| among the oversampled points around each sample."""
    factor = oversampling(sr)
    y = np.asarray(x, np.float32)
    if factor == 1 or len(y) == 0:
        return np.abs(y)
    up = resample_poly(y, factor, 1, window=_interpolator(factor)).astype(np.float32)
    return np.maximum(np.abs(up[: len(y) * factor]).reshape(len(y), factor).max(axis=1), np.abs(y))


def true_peak_dbtp(x: np.ndarray, sr: int) -> float:
    """The clip's true peak in dBTP (dB relative to full scale, measured between samples)."""
    return db(float(_peaks(x, sr).max())) if len(x) else -120.0


def crest_factor_db(x: np.ndarray) -> float:
    """Peak over RMS in dB: how spiky a signal is; compression lowers it."""
    y = np.asarray(x, np.float64)
    rms = float(np.sqrt(np.mean(y**2))) if len(y) else 0.0
    return db(float(np.max(np.abs(y)))) - db(rms) if rms > 0 else 0.0


def _window_min(x: np.ndarray, before: int, after: int) -> np.ndarray:
    """Minimum of ``x`` over [i - before, i + after] for every i."""
    n = before + after + 1
    centred = minimum_filter1d(x, n, mode="nearest")
    idx = np.clip(np.arange(len(x)) + n // 2 - before, 0, len(x) - 1)
    return centred[idx]


def _limiter_gain(peaks: np.ndarray, ceiling: float, sr: int, lookahead_ms: float, hold_ms: float) -> np.ndarray:
    """A smooth gain that keeps ``peaks * gain`` under ``ceiling``: it ramps down over the look-ahead before each
    overshoot (no clipping, no click), holds, then ramps back up over the same time."""
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12)).astype(np.float32)
    if need.min() >= 1.0:
        return need
    ramp = max(1, int(lookahead_ms * sr / 1000))
    half = ramp // 2 + 1
    held = _window_min(need, half + int(hold_ms * sr / 1000), half)
    return np.minimum(uniform_filter1d(held, ramp, mode="nearest"), 1.0)


def limit_true_peak(
    x: np.ndarray, sr: int, ceiling_db: float = -1.0, *, lookahead_ms: float = 5.0, hold_ms: float = 40.0
) -> np.ndarray:
    """Keep the true peak at or below ``ceiling_db`` dBTP with a look-ahead limiter; quieter audio is untouched."""
    y = _limit(np.asarray(x, np.float32), sr, _peaks(x, sr), ceiling_db, lookahead_ms, hold_ms)
    return _ensure_ceiling(y, sr, ceiling_db)


def _limit(
    x: np.ndarray, sr: int, peaks: np.ndarray, ceiling_db: float, lookahead_ms: float = 5.0, hold_ms: float = 40.0
) -> np.ndarray:
    ceiling = 10 ** ((ceiling_db - _MARGIN_DB) / 20)
    return (x * _limiter_gain(peaks, ceiling, sr, lookahead_ms, hold_ms)).astype(np.float32)


def _ensure_ceiling(y: np.ndarray, sr: int, ceiling_db: float) -> np.ndarray:
    """Measure the result again and trim any overshoot the smoothed gain let through (a few hundredths of a dB)."""
    over = true_peak_dbtp(y, sr) - ceiling_db
    return (y * 10 ** (-(over + 0.01) / 20)).astype(np.float32) if over > 0 else y


# (look-ahead ms, hold ms), transparent first. When limiting eats the added gain (very peaky audio or a loud
# target), faster settings let the gain recover between peaks, trading a little distortion for the target.
_LIMITER_STEPS = ((5.0, 40.0), (3.0, 10.0), (2.0, 3.0), (1.0, 1.0), (0.5, 0.0))


def normalize(x: np.ndarray, sr: int, target_lufs: float = -16.0, true_peak_db: float = -1.0) -> np.ndarray:
    """Bring a clip to ``target_lufs`` integrated loudness with its true peak at most ``true_peak_db``.

    Gain sets the loudness and a limiter the peaks; limiting lowers the loudness, so the gain is corrected and
    the limiter rerun until the loudness is within 0.1 LU, moving to a faster limiter while more gain no
    longer makes the clip louder. Silence is returned unchanged.
    """
    y = np.asarray(x, np.float32)
    current = loudness_lufs(y, sr)
    if current <= -70.0:
        return y
    peaks = _peaks(y, sr)  # peaks scale with gain, so they are measured once
    gain_db = target_lufs - current
    best, best_error = y, np.inf
    for lookahead_ms, hold_ms in _LIMITER_STEPS:
        previous = np.inf
        for _ in range(4):
            g = 10 ** (gain_db / 20)
            out = _limit(y * g, sr, peaks * g, true_peak_db, lookahead_ms, hold_ms)
            error = target_lufs - loudness_lufs(out, sr)
            if abs(error) < abs(best_error):
                best, best_error = out, error
            if abs(error) < 0.1:
                return _ensure_ceiling(out, sr, true_peak_db)
            if error > 0 and previous - error < 0.5 * previous:
                break  # saturated: this limiter takes back most of any extra gain
            previous, gain_db = error, gain_db + error
    return _ensure_ceiling(best, sr, true_peak_db)
