"""Spectral tilt reads a known slope on generated voices, and decides warm against bright."""

from __future__ import annotations

import numpy as np
import pytest

from realvoice.analysis import characterise, extract_features, voice_features
from realvoice.analysis.features import spectral_tilt
from realvoice.audio import resample


def _pulses(f0: float, seconds: float, sr: int) -> np.ndarray:
    """A glottal pulse train with slight vibrato: every harmonic at the same level (a flat spectrum)."""
    t = np.arange(int(seconds * sr)) / sr
    phase = np.cumsum(f0 * (1 + 0.003 * np.sin(2 * np.pi * 0.7 * t)) / sr)
    return (np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64)


def _tilted(x: np.ndarray, sr: int, db_per_octave: float) -> np.ndarray:
    """``x`` through a filter whose gain falls ``db_per_octave`` per doubling of frequency, exactly."""
    f = np.fft.rfftfreq(len(x), 1 / sr)
    gain = (np.maximum(f, 50.0) / 1000.0) ** (db_per_octave / (20 * np.log10(2)))
    y = np.fft.irfft(np.fft.rfft(x) * gain, len(x))
    return (y / np.max(np.abs(y)) * 0.5).astype(np.float32)


@pytest.mark.parametrize("sr", [16000, 24000])
@pytest.mark.parametrize("f0", [110.0, 220.0])
def test_tilt_of_filtered_pulse_trains(f0, sr):
    x = _pulses(f0, 2.0, sr)
    shallow = extract_features(_tilted(x, sr, -6.0), sr).tilt_db_per_octave
    steep = extract_features(_tilted(x, sr, -12.0), sr).tilt_db_per_octave
    assert shallow > steep
    assert shallow == pytest.approx(-6.0, abs=1.0)
    assert steep == pytest.approx(-12.0, abs=1.0)


def test_phone_band_audio_keeps_its_tilt():
    """The fit stops below 3.5 kHz, so losing everything above 4 kHz does not make a voice read dull."""
    y = _tilted(_pulses(150.0, 2.0, 24000), 24000, -9.0)
    phone = resample(resample(y, 24000, 8000), 8000, 24000)
    assert spectral_tilt(phone, 24000) == pytest.approx(spectral_tilt(y, 24000), abs=1.0)


def test_tilt_decides_bright_and_warm():
    x = _pulses(150.0, 2.0, 24000)

    def tone(slope):
        feats = extract_features(_tilted(x, 24000, slope), 24000)
        return characterise(voice_features([feats]))

    bright, middle, warm = tone(-5.0), tone(-8.5), tone(-13.0)
    assert "bright" in bright.tone and "warm" not in bright.tone
    assert "warm" in warm.tone and "bright" not in warm.tone
    assert not {"warm", "bright"} & set(middle.tone)
    assert bright.spectral_tilt_db_per_octave > middle.spectral_tilt_db_per_octave > warm.spectral_tilt_db_per_octave


def test_unvoiced_audio_has_no_tilt():
    noise = np.random.default_rng(0).standard_normal(24000).astype(np.float32) * 0.1
    assert extract_features(noise, 24000).tilt_db_per_octave == 0.0
