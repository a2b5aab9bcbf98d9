"""The 0-100 quality score from consistency, sample quality, duration adequacy and variety."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..models import QualityBreakdown, SampleReport, quality_tier
from ..samples.rule import GOOD_SPEECH_S, more_sentences
from .features import VoiceFeatures

WEIGHTS = {"consistency": 0.35, "sample_quality": 0.30, "duration_adequacy": 0.20, "variety": 0.15}
CONSISTENT_SIM = 0.80  # Resemblyzer: two clips of one speaker typically score 0.75-0.90
STRANGER_SIM = 0.55  # two different speakers typically score 0.40-0.65
DIFFERENT_PAIR = 0.65  # a pair of clips below this probably holds two different people


@dataclass
class QualityScore:
    score: float
    tier: str
    breakdown: QualityBreakdown
    recommendations: list[str] = field(default_factory=list)


def _consistency(embeddings: list[np.ndarray]) -> tuple[float, list[float]]:
    """Mean pairwise similarity of the samples (a centroid would include each sample and flatter it),
    and each sample's mean similarity to the others, to find the odd one out."""
    if len(embeddings) < 2:
        return 50.0, [1.0] * len(embeddings)
    e = np.stack(embeddings)
    pair = e @ e.T
    n = len(e)
    per_sample = (pair.sum(axis=1) - np.diag(pair)) / (n - 1)
    mean = float(per_sample.mean())
    by_mean = float(np.clip((mean - STRANGER_SIM) / (CONSISTENT_SIM - STRANGER_SIM), 0, 1) * 100)
    # Two speakers in a set show up as a block of low pairs even when the mean looks fine.
    low = float(np.mean(pair[np.triu_indices(n, 1)] < DIFFERENT_PAIR))
    by_pairs = float(np.clip(1 - 2 * low, 0, 1) * 100)
    return min(by_mean, by_pairs), per_sample.tolist()


def _variety(v: VoiceFeatures, durations: list[float]) -> float:
    """Spread across samples: different pitch levels, pitch movement and lengths teach more prosody."""
    if len(v.per_sample) < 2:
        return 30.0
    med = np.array([s.f0_median for s in v.per_sample if s.f0_median > 0])
    spread = float(np.std(12 * np.log2(med / np.median(med)))) if med.size > 1 else 0.0
    movement = float(np.median([s.f0_std_semitones for s in v.per_sample]))
    dur_cv = float(np.std(durations) / (np.mean(durations) + 1e-9))
    return float(np.clip(spread / 1.5 * 35 + movement / 3.0 * 40 + dur_cv / 0.4 * 25, 0, 100))


def score_voice(
    reports: list[SampleReport], embeddings: list[np.ndarray], features: VoiceFeatures, min_samples: int
) -> QualityScore:
    accepted = [r for r in reports if r.accepted]
    consistency, sims = _consistency(embeddings)
    sample_q = float(np.mean([r.quality for r in accepted])) if accepted else 0.0
    speech = sum(r.metrics.speech_s for r in accepted)
    count_factor = min(1.0, len(accepted) / max(1, min_samples))
    duration = float(np.clip(speech / GOOD_SPEECH_S, 0, 1) * 100 * (0.5 + 0.5 * count_factor))
    variety = _variety(features, [r.metrics.speech_s for r in accepted])
    b = QualityBreakdown(
        consistency=round(consistency, 1),
        sample_quality=round(sample_q, 1),
        duration_adequacy=round(duration, 1),
        variety=round(variety, 1),
    )
    score = recordings_score(b)
    return QualityScore(score, quality_tier(score), b, _advice(b, accepted, sims, speech, min_samples, reports))


def recordings_score(b: QualityBreakdown) -> float:
    """The 0-100 score of the recordings from its parts (before a fit's verdict caps it)."""
    # Samples of different people make every other merit moot: consistency also scales the whole score.
    # So do noisy or echoing samples, which the fit learns: with sample quality only in the weighted mean,
    # sets at 12 dB SNR or RT60 0.7 s scored 80-96 yet gave the worst clones (bench/score_vs_clone.py).
    total = sum(getattr(b, k) * w for k, w in WEIGHTS.items())
    total *= (0.5 + 0.5 * b.consistency / 100) * (0.5 + 0.5 * b.sample_quality / 100)
    return round(float(np.clip(total, 0, 100)), 1)


def _advice(
    b: QualityBreakdown,
    accepted: list[SampleReport],
    sims: list[float],
    speech: float,
    min_samples: int,
    reports: list[SampleReport],
) -> list[str]:
    tips: list[str] = []
    more = more_sentences(speech)
    if more:
        tips.append(
            f"Record {more} more sentence{'s' if more > 1 else ''} ({speech:.0f} s of speech so far; "
            f"{GOOD_SPEECH_S:.0f} s in all gives the best voice)."
        )
    noisy = [r.file for r in accepted if r.metrics.snr_db < 25]
    if noisy:
        tips.append(f"Re-record {', '.join(noisy)} in a quieter room (background noise is audible).")
    if len(sims) == len(accepted) and len(sims) >= 3:
        worst = int(np.argmin(sims))
        if sims[worst] < 0.70 or sims[worst] < float(np.median(sims)) - 0.08:
            tips.append(f"{accepted[worst].file} sounds least like the others; replace it with a new recording.")
    if b.variety < 50:
        tips.append("Add variety: a question, an excited sentence and a calm one, at your natural pitch.")
    rejected = [r for r in reports if not r.accepted]
    if rejected:
        tips.append(f"{len(rejected)} file(s) were rejected; see each sample's reasons and record replacements.")
    if len(accepted) < min_samples:
        tips.append(f"A voice needs at least {min_samples} good samples; you have {len(accepted)}.")
    return tips
