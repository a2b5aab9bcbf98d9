"""Blind reverberation estimate: how steeply sound energy dies away after speech sounds stop.

In a dry recording the energy in each frequency band falls several hundred dB/s when a sound ends
(limited only by the analysis window); a room's reverberant tail caps that fall at about 60 dB per
RT60 plus the smearing of early reflections. So the median steepness of the free decays in a clip's
band envelopes is a blind measure of the room (after Ratnam et al. 2003; Löllmann et al. 2010, who
fit a decay model to every falling stretch and pool the estimates).
"""

from __future__ import annotations

import functools

import numpy as np

from ..audio import resample

RATE = 16000
N_FFT = 512  # 32 ms: short enough to follow phone offsets
HOP = 128  # 8 ms: 125 envelope frames per second
N_BANDS = 24
SMOOTH_FRAMES = 3  # a reverberant tail is noise-like: smooth its envelope so a decay is one falling run
MIN_FRAMES = 6  # a decay must fall for >= 48 ms ...
MIN_DROP_DB = 10.0  # ... by >= 10 dB ...
TOP_RANGE_DB = 35.0  # ... starting within 35 dB of the band's loud level (not in the noise floor)
EMPTY_BAND_DB = 50.0  # bands this far below the loudest one (above a phone's cut-off) carry no decays


@functools.cache
def _mel_bank() -> np.ndarray:
    """Triangular filters equally spaced on the (HTK) mel scale from 100 Hz to 7 kHz, unnormalised."""
    import librosa

    return librosa.filters.mel(
        sr=RATE, n_fft=N_FFT, n_mels=N_BANDS, fmin=100.0, fmax=7000.0, htk=True, norm=None, dtype=np.float64
    )


def band_envelopes_db(x: np.ndarray, sr: int) -> np.ndarray:
    """Smoothed log energy per mel band, (bands, frames) at 125 frames per second."""
    from scipy.ndimage import uniform_filter1d
    from scipy.signal import stft

    y = resample(np.asarray(x, np.float32), sr, RATE)
    if len(y) < N_FFT:
        return np.zeros((N_BANDS, 0))
    _, _, z = stft(y, RATE, nperseg=N_FFT, noverlap=N_FFT - HOP, boundary=None, padded=False)
    p = 10 * np.log10(_mel_bank() @ (np.abs(z) ** 2) + 1e-12)
    return uniform_filter1d(p, SMOOTH_FRAMES, axis=1)


def decay_rates(x: np.ndarray, sr: int) -> np.ndarray:
    """Slope (dB/s, positive) of every free decay: a run of falling frames long and deep enough."""
    env = band_envelopes_db(x, sr)
    if env.shape[1] < 2 * MIN_FRAMES:
        return np.zeros(0)
    tops = np.percentile(env, 99, axis=1)
    frame_s = HOP / RATE
    rates = []
    for band, top in zip(env, tops, strict=True):
        if top < tops.max() - EMPTY_BAND_DB:
            continue
        falling = np.diff(band) < 0
        # Boundaries of runs of consecutive falling frames.
        edges = np.flatnonzero(np.diff(np.concatenate([[0], falling.astype(np.int8), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            seg = band[start : stop + 1]
            if stop - start >= MIN_FRAMES and seg[0] - seg[-1] >= MIN_DROP_DB and seg[0] > top - TOP_RANGE_DB:
                t = np.arange(len(seg)) * frame_s
                rates.append(-np.polyfit(t, seg, 1)[0])
    return np.asarray(rates)


def decay_rate(x: np.ndarray, sr: int, min_decays: int = 20) -> float | None:
    """Median free-decay steepness in dB/s (dry speech ~260-560, a room with RT60 >= 0.4 s ~130-220);
    None when the clip has too few clear decays to judge."""
    rates = decay_rates(x, sr)
    return float(np.median(rates)) if len(rates) >= min_decays else None


def room_impulse_response(rt60_s: float, sr: int, *, seed: int = 0) -> np.ndarray:
    """A synthetic room: Gaussian noise whose energy falls 60 dB in ``rt60_s`` (Schroeder's statistical
    model of a diffuse tail), peak-normalised; for testing the estimate, never applied to uploads."""
    n = int(rt60_s * 1.2 * sr)
    t = np.arange(n) / sr
    h = np.random.default_rng(seed).standard_normal(n) * np.exp(-3 * np.log(10) * t / rt60_s)
    return (h / np.max(np.abs(h))).astype(np.float32)


def add_reverb(x: np.ndarray, sr: int, rt60_s: float, *, seed: int = 0) -> np.ndarray:
    """``x`` as heard in a room with the given RT60, its tail kept and its peak level unchanged."""
    from scipy.signal import fftconvolve

    y = fftconvolve(x, room_impulse_response(rt60_s, sr, seed=seed))[: len(x) + int(0.3 * sr)]
    return (y * (np.max(np.abs(x)) / (np.max(np.abs(y)) + 1e-12))).astype(np.float32)
