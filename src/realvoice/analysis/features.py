"""Acoustic features per sample with Praat (parselmouth): pitch, formants, HNR, jitter, shimmer, rate,
and the spectral centroid and tilt of the voiced frames."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..audio import loudness_lufs


@dataclass(frozen=True)
class SampleFeatures:
    f0_median: float
    f0_p5: float
    f0_p95: float
    f0_std_semitones: float
    f1: float
    f2: float
    f3: float
    hnr_db: float
    jitter_percent: float
    shimmer_percent: float
    centroid_hz: float
    syllables_per_s: float
    loudness_lufs: float
    voiced_s: float
    tilt_db_per_octave: float = 0.0
    f0_values: tuple[float, ...] = ()

    def as_dict(self) -> dict[str, float]:
        d = asdict(self)
        d.pop("f0_values")
        return d


@dataclass(frozen=True)
class VoiceFeatures:
    """Features pooled over a voice's samples (medians resist a single odd sample)."""

    per_sample: list[SampleFeatures]
    f0_median: float
    f0_p5: float
    f0_p95: float
    formants: tuple[float, float, float]
    hnr_db: float
    jitter_percent: float
    shimmer_percent: float
    centroid_hz: float
    syllables_per_s: float
    loudness_lufs: float
    f0_values: np.ndarray
    tilt_db_per_octave: float = 0.0


def _nanmed(values, default: float = 0.0) -> float:
    arr = np.asarray([v for v in values if v is not None and np.isfinite(v) and v > 0], float)
    return float(np.median(arr)) if arr.size else default


def extract_features(x: np.ndarray, sr: int, *, floor: float = 60.0, ceiling: float = 500.0) -> SampleFeatures:
    """Praat's standard measures on one clip."""
    import parselmouth
    from parselmouth.praat import call

    snd = parselmouth.Sound(np.asarray(x, np.float64), sampling_frequency=sr)
    pitch = snd.to_pitch_ac(time_step=0.01, pitch_floor=floor, pitch_ceiling=ceiling)
    f0 = pitch.selected_array["frequency"]
    voiced = f0[f0 > 0]
    if voiced.size:
        semis = 12 * np.log2(voiced / np.median(voiced))
        f0_med, f0_p5, f0_p95 = (float(np.percentile(voiced, q)) for q in (50, 5, 95))
        f0_std = float(np.std(semis))
    else:
        f0_med = f0_p5 = f0_p95 = f0_std = 0.0
    formant = snd.to_formant_burg(
        time_step=0.01, max_number_of_formants=5, maximum_formant=5000 if f0_med < 165 else 5500
    )
    times = pitch.xs()[f0 > 0]
    fs = [[formant.get_value_at_time(k, t) for t in times] for k in (1, 2, 3)]
    f1, f2, f3 = (_nanmed(v) for v in fs)
    hnr = call(snd.to_harmonicity_cc(time_step=0.01, minimum_pitch=floor), "Get mean", 0, 0)
    points = call(snd, "To PointProcess (periodic, cc)", floor, ceiling)
    try:
        jitter = call(points, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3) * 100
        shimmer = call([snd, points], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6) * 100
    except Exception:  # Praat refuses on clips with too few periods
        jitter = shimmer = float("nan")
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) if len(x) else np.zeros(1)
    freqs = np.fft.rfftfreq(len(x), 1 / sr) if len(x) else np.zeros(1)
    centroid = float(np.sum(freqs * spec) / (np.sum(spec) + 1e-9))
    return SampleFeatures(
        f0_median=f0_med,
        f0_p5=f0_p5,
        f0_p95=f0_p95,
        f0_std_semitones=f0_std,
        f1=f1,
        f2=f2,
        f3=f3,
        hnr_db=float(hnr) if np.isfinite(hnr) else 0.0,
        jitter_percent=float(jitter) if np.isfinite(jitter) else 0.0,
        shimmer_percent=float(shimmer) if np.isfinite(shimmer) else 0.0,
        centroid_hz=centroid,
        syllables_per_s=_syllable_rate(snd, voiced.size * 0.01),
        loudness_lufs=loudness_lufs(x, sr),
        voiced_s=voiced.size * 0.01,
        tilt_db_per_octave=spectral_tilt(x, sr, times),
        f0_values=tuple(float(v) for v in voiced[::2]),
    )


# Octave-wide bands at 1/3-octave steps (IEC 61260 centres), spanning 445 Hz to 3.5 kHz: above F0 for any
# adult voice, below a telephone's 3.4 kHz edge (a phone-band upload must not read as a dull voice), and
# each wide enough to hold two harmonics of a 250 Hz voice, so a band never falls between harmonics.
TILT_BANDS_HZ = (630.0, 800.0, 1000.0, 1250.0, 1600.0, 2000.0, 2500.0)


def spectral_tilt(x: np.ndarray, sr: int, voiced_times: np.ndarray | None = None) -> float:
    """Slope of the long-term average spectrum of the voiced frames in dB/octave (0 if none).

    Each band's level is its mean power density, not its total: harmonics are evenly spaced in Hz, so a
    band's total grows 3 dB/octave with its width whatever the voice. A steep negative slope is a dark,
    warm voice (soft glottal closure); a shallow one a bright, pressed one (Hammarberg et al. 1980).
    """
    from scipy.signal import stft

    n = 1 << int(np.ceil(np.log2(0.04 * sr)))  # >= 40 ms: resolves harmonics of a 100 Hz voice
    if len(x) < n or sr < 2 * TILT_BANDS_HZ[-1] * 2**0.5 + 1:
        return 0.0
    f, t, z = stft(np.asarray(x, np.float64), sr, nperseg=n, noverlap=n - n // 4, boundary=None, padded=False)
    power = np.abs(z) ** 2
    if voiced_times is not None:  # only the voiced frames: pauses and fricatives would flatten the slope
        near = np.zeros(len(t), bool)
        if len(voiced_times):
            near = np.min(np.abs(t[:, None] - np.asarray(voiced_times)[None, :]), axis=1) <= 0.01
        power = power[:, near]
    if power.shape[1] == 0:
        return 0.0
    ltas = power.mean(axis=1)
    levels = []
    for fc in TILT_BANDS_HZ:
        band = (f >= fc / 2**0.5) & (f < fc * 2**0.5)
        levels.append(10 * np.log10(ltas[band].mean() + 1e-20))
    return float(np.polyfit(np.log2(TILT_BANDS_HZ), levels, 1)[0])


def _syllable_rate(snd, voiced_s: float) -> float:
    """Syllable nuclei per second of speech: intensity peaks that stand out (after de Jong & Wempe, 2009)."""
    from scipy.signal import find_peaks

    intensity = snd.to_intensity(minimum_pitch=50, time_step=0.01)
    values = intensity.values[0]
    if values.size < 5:
        return 0.0
    threshold = max(np.percentile(values, 50), np.max(values) - 25)
    peaks, _ = find_peaks(values, height=threshold, prominence=2.0, distance=8)
    span = snd.duration
    active = np.sum(values > threshold) * 0.01
    return float(len(peaks) / max(active, voiced_s, 0.2 * span, 0.3))


def voice_features(per_sample: list[SampleFeatures]) -> VoiceFeatures:
    f0_all = np.concatenate([np.asarray(s.f0_values) for s in per_sample]) if per_sample else np.zeros(0)
    f0_all = f0_all[f0_all > 0]
    tilts = [s.tilt_db_per_octave for s in per_sample if s.tilt_db_per_octave]  # 0: nothing voiced to measure
    return VoiceFeatures(
        per_sample=per_sample,
        f0_median=float(np.median(f0_all)) if f0_all.size else 0.0,
        f0_p5=float(np.percentile(f0_all, 5)) if f0_all.size else 0.0,
        f0_p95=float(np.percentile(f0_all, 95)) if f0_all.size else 0.0,
        formants=(
            _nanmed(s.f1 for s in per_sample),
            _nanmed(s.f2 for s in per_sample),
            _nanmed(s.f3 for s in per_sample),
        ),
        hnr_db=_nanmed(s.hnr_db for s in per_sample),
        jitter_percent=_nanmed(s.jitter_percent for s in per_sample),
        shimmer_percent=_nanmed(s.shimmer_percent for s in per_sample),
        centroid_hz=_nanmed(s.centroid_hz for s in per_sample),
        tilt_db_per_octave=float(np.median(tilts)) if tilts else 0.0,
        syllables_per_s=_nanmed(s.syllables_per_s for s in per_sample),
        loudness_lufs=float(np.median([s.loudness_lufs for s in per_sample])) if per_sample else 0.0,
        f0_values=f0_all,
    )


def f0_track(x: np.ndarray, sr: int, *, floor: float = 60.0, ceiling: float = 500.0) -> np.ndarray:
    """Pitch in Hz every 10 ms (0 where unvoiced)."""
    import parselmouth

    pitch = parselmouth.Sound(np.asarray(x, np.float64), sampling_frequency=sr).to_pitch_ac(
        time_step=0.01, pitch_floor=floor, pitch_ceiling=ceiling
    )
    return np.asarray(pitch.selected_array["frequency"], np.float64)


def median_f0(x: np.ndarray, sr: int) -> float:
    """Median pitch of the voiced frames in Hz (0 where nothing is voiced)."""
    f0 = f0_track(x, sr)
    f0 = f0[f0 > 0]
    return float(np.median(f0)) if f0.size else 0.0
