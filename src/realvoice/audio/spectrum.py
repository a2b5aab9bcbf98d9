"""Long-term spectrum of a voice, and a smooth fixed EQ that moves one voice's toward another's.

A fitted voice can sound like the person in pitch and rhythm and still be darker or thinner than
their recordings (Kokoro's output has 10-15 dB less energy above 5 kHz than real speech). The
long-term average spectrum (LTAS) of speech carries that balance; smoothed over an octave it no
longer depends on which words were said, so a linear-phase filter built from the ratio of two LTAS
corrects the balance without touching pitch or timing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NFFT = 1024
HOP = 256


def ltas(audio: np.ndarray, floor_db: float = 40.0) -> np.ndarray:
    """Mean power per FFT bin (``NFFT // 2 + 1`` bins) over the frames within ``floor_db`` of the loudest.

    Pauses are left out, so the figure describes the voice, not how much silence a clip has.
    """
    x = np.asarray(audio, np.float64).reshape(-1)
    if len(x) < NFFT:
        x = np.pad(x, (0, NFFT - len(x)))
    n = 1 + (len(x) - NFFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, NFFT)[::HOP][:n] * np.hanning(NFFT)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    energy = power.sum(1)
    loud = energy >= energy.max() * 10 ** (-floor_db / 10)
    return power[loud].mean(0)


def smooth_db(power: np.ndarray, sr: int, octave: float = 1.0, min_hz: float = 50.0) -> np.ndarray:
    """Power per bin in dB, averaged (in power) over ``octave`` octaves around each bin (at least ±``min_hz``)."""
    freqs = np.fft.rfftfreq(2 * (len(power) - 1), 1 / sr)
    cum = np.concatenate([[0.0], np.cumsum(power)])
    lo = np.searchsorted(freqs, np.minimum(freqs * 2 ** (-octave / 2), freqs - min_hz), side="left")
    hi = np.searchsorted(freqs, np.maximum(freqs * 2 ** (octave / 2), freqs + min_hz), side="right")
    mean = (cum[hi] - cum[lo]) / np.maximum(hi - lo, 1)
    return 10 * np.log10(mean + 1e-20)


def correction_db(
    target: np.ndarray,
    voice: np.ndarray,
    sr: int,
    *,
    fmax: float,
    fmin: float = 100.0,
    max_db: float = 9.0,
    octave: float = 1.0,
) -> np.ndarray:
    """Gain per bin (dB) that gives ``voice``'s LTAS the balance of ``target``'s between ``fmin`` and ``fmax``.

    Bounded to ±``max_db``; held flat below ``fmin`` and faded to 0 dB within 1 kHz above ``fmax``
    (a recording's missing top octave is its microphone or codec, not the voice). The voice's overall
    power is unchanged.
    """
    freqs = np.fft.rfftfreq(2 * (len(target) - 1), 1 / sr)
    gain = smooth_db(target, sr, octave) - smooth_db(voice, sr, octave)
    band = (freqs >= fmin) & (freqs <= fmax)
    if not band.any():
        return np.zeros_like(freqs, dtype=np.float32)
    gain = np.clip(gain - gain[band].mean(), -max_db, max_db)
    gain[freqs < fmin] = gain[band][0]
    fade = np.clip((freqs - fmax) / 1000.0, 0.0, 1.0)
    gain = np.where(freqs > fmax, gain[band][-1] * (1.0 - fade), gain)
    # same total power as before: the correction moves balance, not level
    gain -= 10 * np.log10(np.sum(voice * 10 ** (gain / 10)) / max(float(np.sum(voice)), 1e-20))
    return gain.astype(np.float32)


def correction_fir(gain_db: np.ndarray, taps: int = 511) -> np.ndarray:
    """A linear-phase FIR (odd length, delay ``taps // 2``) with the given gain per bin."""
    n = 2 * (len(gain_db) - 1)
    h = np.roll(np.fft.irfft(10 ** (np.asarray(gain_db, np.float64) / 20), n), n // 2)
    h = h[n // 2 - taps // 2 : n // 2 + taps // 2 + 1] * np.hanning(taps)
    return h.astype(np.float32)


def apply_fir(audio: np.ndarray, fir: np.ndarray) -> np.ndarray:
    """Filter without delay (the FIR is linear-phase and centred), same length as the input."""
    from scipy.signal import oaconvolve

    return oaconvolve(np.asarray(audio, np.float32), fir, mode="same").astype(np.float32)


def bandwidth_hz(audio: np.ndarray, sr: int) -> float:
    """Highest frequency with real content: the last 250 Hz band within 55 dB of the loudest band
    (VCC2016 is 16 kHz material: nothing above ~8 kHz after resampling)."""
    n = 1024
    frames = len(audio) // n
    if frames < 4:
        return sr / 2
    X = np.abs(np.fft.rfft(np.asarray(audio)[: frames * n].reshape(frames, n) * np.hanning(n), axis=1)) ** 2
    P = X.mean(0)
    f = np.fft.rfftfreq(n, 1 / sr)
    edges = np.arange(0, sr / 2 + 250, 250)
    lev = np.array([P[(f >= lo) & (f < lo + 250)].mean() for lo in edges[:-1]])
    level_db = 10 * np.log10(lev + 1e-20)
    ok = np.where(level_db > level_db.max() - 55)[0]
    return float(edges[ok[-1] + 1]) if len(ok) else sr / 2


def shared_bandwidth_hz(clips: Sequence[np.ndarray], sr: int, lo: float = 4000.0, hi: float = 11000.0) -> float:
    """The band every clip has content in (the narrowest clip's bandwidth), kept within [lo, hi]."""
    return min(hi, max(lo, min(bandwidth_hz(a, sr) for a in clips)))
