"""Characteristics from features by documented rules, each with an honest confidence.

Rules (adult speech norms, Hillenbrand et al. 1995; Titze 1994):
- gender: median F0 (men ~85-155 Hz, women ~165-255 Hz), corroborated by F1-F3 (women's ~15 % higher);
- age band: children speak above ~250 Hz with high formants; raised jitter/shimmer and low HNR
  suggest an older voice; otherwise an adult, and young-adult vs adult is barely separable from
  acoustics, so its confidence stays low;
- tone: warm/bright from spectral tilt, the slope of the voiced long-term spectrum over 0.45-3.5 kHz
  (features.spectral_tilt): "bright" above -7 dB/octave (strong upper harmonics: pressed, forward
  voice), "warm" below -10 dB/octave (energy held in the low harmonics), neither in between. Dev speakers
  (VCC2016, LJ Speech) read -5 to -11, median -8.6. Tilt, unlike the spectral centroid, ignores hiss
  and pitch (every dev voice has a centroid above the old 1400 Hz cut and read "bright"); the centroid
  decides only where no voiced frames gave a tilt. Breathy/clear from HNR, calm/energetic from pitch
  variation and speaking rate.
"""

from __future__ import annotations

import math

from ..models import VoiceCharacteristics
from .features import VoiceFeatures


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def gender_probability(f0: float, formants: tuple[float, float, float]) -> float:
    """Probability the voice is female, from F0 (in semitones around 165 Hz) and mean formant height."""
    if f0 <= 0:
        return 0.5
    z = 12 * math.log2(f0 / 165.0) / 1.6
    f1, f2, f3 = formants
    if f1 > 0 and f2 > 0 and f3 > 0:
        # Mean of formants normalised by adult male norms (~500, 1500, 2500 Hz); women's sit ~1.15.
        ratio = (f1 / 500 + f2 / 1500 + f3 / 2500) / 3
        z += (ratio - 1.08) / 0.05 * 0.5
    return _sigmoid(z)


BRIGHT_TILT = -7.0  # dB/octave
WARM_TILT = -10.0


def brightness(tilt_db_per_octave: float, centroid_hz: float) -> str | None:
    """Bright, warm or None (balanced) from spectral tilt; from the centroid where tilt is unknown (0)."""
    if not tilt_db_per_octave:
        return "bright" if centroid_hz > 1400 else "warm"
    if tilt_db_per_octave > BRIGHT_TILT:
        return "bright"
    return "warm" if tilt_db_per_octave < WARM_TILT else None


def characterise(v: VoiceFeatures, words_per_s: float = 0.0) -> VoiceCharacteristics:
    p_female = gender_probability(v.f0_median, v.formants)
    gender = "female" if p_female >= 0.5 else "male"
    gender_conf = round(abs(p_female - 0.5) * 2, 2)
    if gender_conf < 0.2:
        gender = "unknown"

    if v.f0_median > 255 and v.formants[1] > 1900:
        age, age_conf = "child", 0.5
    elif v.jitter_percent > 1.8 and v.shimmer_percent > 6.0 and v.hnr_db < 12:
        age, age_conf = "senior", 0.4
    elif v.jitter_percent < 1.0 and v.hnr_db > 15:
        age, age_conf = "young adult", 0.35
    else:
        age, age_conf = "adult", 0.35

    tone: list[str] = []
    if shade := brightness(v.tilt_db_per_octave, v.centroid_hz):
        tone.append(shade)
    tone.append("breathy" if v.hnr_db < 10 else "clear")
    pitch_span = 12 * math.log2(v.f0_p95 / v.f0_p5) if v.f0_p5 > 0 and v.f0_p95 > 0 else 0.0
    fast = words_per_s > 3.2 if words_per_s else v.syllables_per_s > 5.0  # ~2.5 words/s is conversational
    tone.append("energetic" if pitch_span > 12 or fast else "calm")
    if v.f0_median > 0:
        tone.append("deep" if v.f0_median < 110 else "high" if v.f0_median > 240 else "mid-pitched")

    return VoiceCharacteristics(
        gender=gender,  # type: ignore[arg-type]
        gender_confidence=gender_conf,
        age_band=age,  # type: ignore[arg-type]
        age_confidence=age_conf,
        tone=tone,
        # whole hertz: every front end shows it so, and JavaScript and Python round a half differently
        pitch_hz=float(round(v.f0_median)),
        pitch_range_semitones=round(pitch_span, 1),
        formants_hz=[round(f, 0) for f in v.formants],
        hnr_db=round(v.hnr_db, 1),
        jitter_percent=round(v.jitter_percent, 2),
        shimmer_percent=round(v.shimmer_percent, 2),
        spectral_centroid_hz=round(v.centroid_hz, 0),
        spectral_tilt_db_per_octave=round(v.tilt_db_per_octave, 1),
        speaking_rate_sps=round(v.syllables_per_s, 2),
        speaking_rate_wps=round(words_per_s, 2),
        loudness_lufs=round(v.loudness_lufs, 1),
    )
