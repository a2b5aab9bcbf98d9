"""Measure one decoded sample and turn the measurements into issues a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..audio import Audio, db, rms_dbfs
from ..models import Issue, SampleMetrics
from .reverb import decay_rate
from .vad import speech_mask, speech_segments

# Thresholds, each with the reason for its value.
CLIP_ERROR = 0.005  # 0.5 % of samples at full scale: audibly distorted
CLIP_WARN = 0.0005
SILENT_PEAK_DB = -50.0  # nothing above -50 dBFS: a muted or disconnected microphone
QUIET_RMS_DB = -42.0
NOISY_ERROR_DB = 8.0  # speech barely above the noise: the model would learn the noise
NOISY_WARN_DB = 18.0
NOT_SPEECH_RATIO = 0.15  # loud audio of which under 15 % is speech: music or noise
LOW_RATE = 16000
NARROW_BAND_HZ = 4500.0  # telephone audio stops near 3.4-4 kHz
# Sound dies away slower than this (dB/s, median over free decays): a reverberant room. Dry dev speech
# (all 332 VCC2016 and LJ Speech clips) never falls below ~250; in a synthetic room with RT60 0.4-1.0 s
# the same clips stay below ~220 (bench/intake.py --detectors).
REVERB_DECAY_DB_S = 235.0


@dataclass
class Measured:
    """A sample's measurements, its speech regions, and the issues found in it."""

    metrics: SampleMetrics
    segments: list[tuple[float, float]]
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)


def _frame_energies(x: np.ndarray, sr: int, frame_s: float = 0.02) -> np.ndarray:
    n = max(1, int(frame_s * sr))
    k = len(x) // n
    if k == 0:
        return np.array([np.mean(np.square(x)) + 1e-12])
    return np.mean(np.square(x[: k * n].reshape(k, n), dtype=np.float64), axis=1) + 1e-12


def estimate_snr(x: np.ndarray, sr: int, mask: np.ndarray) -> float:
    """Speech power over noise power, in dB; noise from pauses, or the quietest frames if none."""
    speech = x[mask]
    noise = x[~mask]
    if len(speech) < sr * 0.1:
        return 0.0
    p_speech = float(np.mean(np.square(speech, dtype=np.float64))) + 1e-12
    if len(noise) >= sr * 0.2:
        p_noise = float(np.percentile(_frame_energies(noise, sr), 50))
    else:
        p_noise = float(np.percentile(_frame_energies(x, sr), 5))
    return float(np.clip(10 * np.log10(p_speech / max(p_noise, 1e-12)), -10.0, 80.0))


def estimate_bandwidth(x: np.ndarray, sr: int) -> float:
    """Highest frequency whose power is within 60 dB of the spectrum's peak (phone audio stops near 4 kHz)."""
    if len(x) < 2048:
        return sr / 2.0
    from scipy.signal import welch

    f, p = welch(x, sr, nperseg=2048)
    if p.max() <= 0:
        return 0.0
    above = np.flatnonzero(p > p.max() * 1e-6)
    return float(f[above[-1]])


def measure(audio: Audio, *, min_speech_s: float) -> Measured:
    """Measure levels, clipping, speech, SNR and bandwidth, and list what is wrong."""
    x, dc, segments, speech_s, m = _metrics(audio)
    return Measured(m, segments, _issues(m, x, dc, speech_s, bool(segments), min_speech_s))


def _metrics(audio: Audio) -> tuple[np.ndarray, float, list[tuple[float, float]], float, SampleMetrics]:
    """The recording without its DC offset, the offset, its speech segments, seconds of speech and its
    measurements."""
    sr = audio.sample_rate
    dc = float(np.mean(audio.samples)) if len(audio.samples) else 0.0
    x = audio.samples - dc  # levels and SNR are judged without the offset, which cleaning removes
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    segments = speech_segments(x, sr) if peak > 10 ** (SILENT_PEAK_DB / 20) else []
    mask = speech_mask(len(x), sr, segments)
    speech_s = float(mask.sum()) / sr
    m = SampleMetrics(
        duration_s=round(audio.duration_s, 3),
        speech_s=round(speech_s, 3),
        sample_rate=sr,
        channels=audio.channels,
        format=audio.format,
        rms_dbfs=round(rms_dbfs(x), 2),
        peak_dbfs=round(db(peak), 2),
        clipped_ratio=float(np.mean(np.abs(audio.samples) >= 0.999)) if len(x) else 0.0,
        snr_db=round(estimate_snr(x, sr, mask), 2),
        bandwidth_hz=round(estimate_bandwidth(x, sr), 1),
    )
    if segments:
        rate = decay_rate(x, sr)
        m.decay_rate_db_s = round(rate, 1) if rate is not None else None
    return x, dc, segments, speech_s, m


def _issues(
    m: SampleMetrics, x: np.ndarray, dc: float, speech_s: float, has_speech: bool, min_speech_s: float
) -> list[Issue]:
    """What is wrong with a recording, from its measurements."""
    sr, segments = m.sample_rate, has_speech
    issues: list[Issue] = []

    def add(code: str, severity: str, message: str) -> None:
        issues.append(Issue(code=code, severity=severity, message=message))  # type: ignore[arg-type]

    if m.peak_dbfs <= SILENT_PEAK_DB:
        add("silent", "error", "The recording is silent; check that the microphone is on and not muted.")
        return issues
    loud_s = float(np.sum(_frame_energies(x, sr) > 10 ** (QUIET_RMS_DB / 10))) * 0.02
    if speech_s < 0.3 and loud_s > 1.0 or (loud_s > 2.0 and speech_s < NOT_SPEECH_RATIO * loud_s):
        add(
            "not_speech",
            "error",
            "No speech was found: this sounds like music, a tone or noise. Record yourself talking.",
        )
    elif speech_s < min_speech_s:
        add(
            "too_short",
            "error",
            f"Only {speech_s:.1f} s of speech; each recording needs at least {min_speech_s:g} s. Read a full sentence.",
        )
    if m.clipped_ratio >= CLIP_ERROR:
        add(
            "clipped", "error", "The recording is distorted (clipped); move away from the microphone or lower its gain."
        )
    elif m.clipped_ratio >= CLIP_WARN:
        add("slightly_clipped", "warning", "A few peaks are clipped; lower the microphone gain a little.")
    if m.rms_dbfs < QUIET_RMS_DB and not issues:
        add("too_quiet", "warning", "The recording is very quiet; speak closer to the microphone.")
    if abs(dc) > 0.05:
        add("dc_offset", "warning", "The signal has a DC offset (a faulty input); it was removed during cleaning.")
    if segments and m.snr_db < NOISY_ERROR_DB:
        add("noisy", "error", f"Too much background noise (SNR {m.snr_db:.0f} dB); record in a quieter room.")
    elif segments and m.snr_db < NOISY_WARN_DB:
        add(
            "some_noise",
            "warning",
            f"Audible background noise (SNR {m.snr_db:.0f} dB); a quieter room will sound better.",
        )
    if m.decay_rate_db_s is not None and m.decay_rate_db_s < REVERB_DECAY_DB_S:
        add(
            "reverberant",
            "warning",
            "The room echoes (reverberation); record in a smaller room with soft furnishings, "
            "closer to the microphone.",
        )
    if sr < LOW_RATE:
        add(
            "low_sample_rate", "warning", f"Sample rate {sr} Hz is low; record at 16 kHz or more (44.1/48 kHz is best)."
        )
    elif m.bandwidth_hz < NARROW_BAND_HZ:
        add(
            "narrow_bandwidth",
            "warning",
            "The audio sounds like a phone call (no high frequencies); use a better microphone.",
        )
    return issues


def sample_quality(m: SampleMetrics, issues: list[Issue]) -> float:
    """0-100: how good a sample is as material for a voice, from its measured levels."""
    if any(i.severity == "error" for i in issues):
        return 0.0
    score = 100.0
    score -= float(np.clip((35.0 - m.snr_db) * 2.0, 0, 45))
    score -= float(np.clip(m.clipped_ratio / CLIP_ERROR * 20, 0, 20))
    # Echo, like noise, is learnt by the voice fit: at RT60 0.7 s clones lost as much identity as at 12 dB
    # SNR (bench/score_vs_clone.py), so 0.5 points per dB/s below the threshold, up to 40.
    if m.decay_rate_db_s is not None:
        score -= float(np.clip((REVERB_DECAY_DB_S - m.decay_rate_db_s) * 0.5, 0, 40))
    score -= 15.0 if m.sample_rate < LOW_RATE else 0.0
    score -= 10.0 if m.bandwidth_hz < NARROW_BAND_HZ else 0.0
    score -= float(np.clip((3.0 - m.speech_s) * 5.0, 0, 10))
    score -= 5.0 if m.rms_dbfs < QUIET_RMS_DB else 0.0
    return round(max(0.0, score), 1)
