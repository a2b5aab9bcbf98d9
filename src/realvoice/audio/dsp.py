"""Small signal helpers over well-kept libraries: soxr for rates, pyloudnorm for EBU R128."""

from __future__ import annotations

import numpy as np


def db(x: float, floor: float = -120.0) -> float:
    return float(max(floor, 20.0 * np.log10(max(float(x), 1e-12))))


def rms_dbfs(x: np.ndarray) -> float:
    return db(float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0)


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return np.asarray(x, np.float32)
    import soxr

    return soxr.resample(np.asarray(x, np.float32), sr_in, sr_out, quality="HQ").astype(np.float32)


def loudness_lufs(x: np.ndarray, sr: int) -> float:
    """Integrated loudness (ITU-R BS.1770); clips shorter than one 400 ms block are padded."""
    import pyloudnorm

    y = np.asarray(x, np.float64)
    if len(y) < int(0.45 * sr):
        y = np.pad(y, (0, int(0.45 * sr) - len(y)))
    value = pyloudnorm.Meter(sr).integrated_loudness(y)
    return float(value) if np.isfinite(value) else -70.0


def normalize_loudness(x: np.ndarray, sr: int, target_lufs: float = -20.0, peak_db: float = -1.0) -> np.ndarray:
    """Bring a clip to ``target_lufs``, never letting its peak pass ``peak_db``."""
    current = loudness_lufs(x, sr)
    if current <= -70.0:
        return np.asarray(x, np.float32)
    gain = 10 ** ((target_lufs - current) / 20.0)
    y = np.asarray(x, np.float32) * gain
    return peak_normalize(y, peak_db, only_down=True)


def peak_normalize(x: np.ndarray, peak_db: float = -1.0, only_down: bool = False) -> np.ndarray:
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak <= 0:
        return np.asarray(x, np.float32)
    target = 10 ** (peak_db / 20.0)
    if only_down and peak <= target:
        return np.asarray(x, np.float32)
    return (np.asarray(x, np.float32) * (target / peak)).astype(np.float32)
