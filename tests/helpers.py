"""Signals and paths shared by the tests. All audio is generated here or read from ../shared/speech-dev."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

SPEECH_DEV = Path(os.environ.get("REALVOICE_SPEECH_DEV", Path(__file__).resolve().parents[2] / "shared" / "speech-dev"))


def speech_dev_or_skip() -> Path:
    if not (SPEECH_DEV / "MANIFEST.tsv").exists():
        pytest.skip(f"real recordings not available: {SPEECH_DEV} is absent (set REALVOICE_SPEECH_DEV)")
    return SPEECH_DEV


def manifest() -> list[dict[str, str]]:
    root = speech_dev_or_skip()
    with open(root / "MANIFEST.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def speaker_files(speaker: str, n: int | None = None) -> list[Path]:
    root = speech_dev_or_skip()
    rows = [r for r in manifest() if r["speaker"] == speaker]
    paths = sorted(root / r["path"] for r in rows)
    return paths[:n] if n else paths


def vowel(f0: float, seconds: float, sr: int = 24000, formants=(700, 1200, 2600)) -> np.ndarray:
    """A glottal pulse train at ``f0`` through three formant resonators: a synthetic /a/."""
    from scipy.signal import lfilter

    n = int(seconds * sr)
    t = np.arange(n) / sr
    jitter = 1 + 0.003 * np.sin(2 * np.pi * 0.7 * t)
    phase = np.cumsum(f0 * jitter / sr)
    pulses = (np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64)
    y = pulses
    for f, bw in zip(formants, (80, 90, 120), strict=True):
        r = np.exp(-np.pi * bw / sr)
        y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], y)
    y = y / (np.max(np.abs(y)) + 1e-9) * 0.5
    return y.astype(np.float32)


def pitch_shift_semitones(plain: np.ndarray, shifted: np.ndarray, sr: int) -> tuple[float, float]:
    """The shift between two renders of one text, and the share of voiced frames that agree on it.

    The pitch control moves pitch inside the model and keeps the timing, so the renders line up frame by
    frame. A low voice has stretches of creak where the tracker reads the same rough period in both
    (ratio 1) and octave jumps (ratio 2 or 1/2); together they pulled a median over all frames a whole
    semitone off on CI. The shift is the median of the densest one-semitone band of the frame ratios.
    """
    from realvoice.analysis import f0_track

    fa, fc = f0_track(plain, sr), f0_track(shifted, sr)
    n = min(len(fa), len(fc))
    both = (fa[:n] > 0) & (fc[:n] > 0)
    if both.sum() < 50:
        return float("nan"), 0.0
    semitones = 12 * np.log2(fc[:n][both] / fa[:n][both])
    near = np.array([np.sum(np.abs(semitones - s) <= 0.5) for s in semitones])
    shift = float(np.median(semitones[np.abs(semitones - semitones[near.argmax()]) <= 0.5]))
    return shift, float(near.max() / len(semitones))


# What validation says of a stock voice and of a fit, in the refinement's stand-ins (conftest.fake_refinement).
STOCK_SIMILARITY, FITTED_SIMILARITY = 0.55, 0.78


def voice_row(service, voice_id: str):
    """The voice's row as stored now (detached from its session)."""
    from realvoice.store import VoiceRow

    with service.db.session() as s:
        row = s.get(VoiceRow, voice_id)
        s.expunge(row)
        return row
