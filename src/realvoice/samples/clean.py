"""Clean an accepted sample: DC and rumble out, noise gated, silence trimmed, loudness and rate unified."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from ..audio import Audio, loudness_lufs, normalize_loudness, resample
from .vad import speech_mask, speech_segments
from .validate import estimate_snr

INTERNAL_RATE = 24000  # the synthesis engine's rate: everything downstream works at it
TARGET_LUFS = -23.0  # EBU R128
MARGIN_S = 0.15
DENOISE_BELOW_SNR_DB = 30.0  # clean studio speech is left alone; gating only where noise is audible


@dataclass(frozen=True)
class CleanedSample:
    """A cleaned, trimmed, normalised sample at the internal rate, with its speech regions."""

    name: str
    samples: np.ndarray
    sample_rate: int
    segments: list[tuple[float, float]]
    lufs: float
    snr_db: float
    denoised: bool

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def _highpass(x: np.ndarray, sr: int, hz: float = 70.0) -> np.ndarray:
    sos = butter(4, hz, btype="highpass", fs=sr, output="sos")
    return sosfiltfilt(sos, x).astype(np.float32)


def _denoise(x: np.ndarray, sr: int, noise: np.ndarray | None) -> np.ndarray:
    import noisereduce as nr

    kwargs = {"y_noise": noise} if noise is not None and len(noise) >= sr * 0.25 else {}
    return nr.reduce_noise(y=x, sr=sr, stationary=True, prop_decrease=0.85, n_jobs=1, **kwargs).astype(np.float32)


def _trim(x: np.ndarray, sr: int, segments: list[tuple[float, float]]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    if not segments:
        return x, segments
    start = max(0.0, segments[0][0] - MARGIN_S)
    end = min(len(x) / sr, segments[-1][1] + MARGIN_S)
    shifted = [(a - start, b - start) for a, b in segments]
    return x[int(start * sr) : int(end * sr)], shifted


def clean(audio: Audio, name: str, segments: list[tuple[float, float]], snr_db: float) -> CleanedSample:
    """Return the cleaned version of a sample that passed validation."""
    x = audio.samples - np.mean(audio.samples)
    x = resample(x, audio.sample_rate, INTERNAL_RATE)
    sr = INTERNAL_RATE
    x = _highpass(x, sr)
    denoised = False
    if snr_db < DENOISE_BELOW_SNR_DB:
        mask = speech_mask(len(x), sr, segments)
        noise = x[~mask] if (~mask).sum() > sr * 0.25 else None
        x = _denoise(x, sr, noise)
        denoised = True
        segments = speech_segments(x, sr) or segments
    x, segments = _trim(x, sr, segments)
    x = normalize_loudness(x, sr, TARGET_LUFS)
    mask = speech_mask(len(x), sr, segments)
    return CleanedSample(
        name=name,
        samples=x.astype(np.float32),
        sample_rate=sr,
        segments=segments,
        lufs=round(loudness_lufs(x, sr), 2),
        snr_db=round(estimate_snr(x, sr, mask), 2),
        denoised=denoised,
    )
