"""Enrollment by fitting: the start voice, the fit, validation's choice of what to keep, the voice model.

Validation tries the fit's end point, then its earlier point, then blends toward the start voice
(``BLEND_SHARES``), so that a fit which moved a long way is not thrown away whole; only when none
passes is the start voice kept, and the model says so. A pitch scale that costs words is dropped
before the fit is judged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ...analysis import SpeakerEncoder, median_f0
from ...audio import resample
from ...deadline import Deadline
from ...progress import Progress, Stages
from ..base import EnrollSample, VoiceModel
from .assets import SAMPLE_RATE
from .validation import WER_TOLERANCE, Point, Validation, first_passing

if TYPE_CHECKING:
    from .engine import KokoroEngine
    from .fitting import FitConfig, FitPoint, FitResult, FitStats

EQ_ARRAY = "eq_db"  # voice-model array: the voice's spectral correction, dB per bin of audio.spectrum
ADAPTER_PREFIX = "adain."  # voice-model arrays holding AdaIN bias offsets, one per decoder layer
# When neither of the fit's own points passes, points this far from the start voice toward the fit
# are tried in turn: a voice partly like the speaker instead of a stranger.
BLEND_SHARES = (0.6, 0.35)
# Median speaking pitch of adults: men about 85-155 Hz, women about 165-255 Hz.
FEMALE_FROM_HZ = 160.0
MALE_BELOW_HZ = 150.0
# What follows the fit (validation, the pitch scale, the EQ: syntheses, Whisper, embeddings), and
# the shortest fit worth running when an enrollment deadline is tight (docs/cloning.md).
VALIDATION_SECONDS = 5.5
MIN_FIT_SECONDS = 30.0


@dataclass(frozen=True)
class Baseline:
    """The start voice and its validation score: what a fitted voice must beat."""

    name: str
    row: np.ndarray  # the style row the fit starts from
    similarity: float
    wer: float

    @property
    def max_wer(self) -> float:
        return self.wer + WER_TOLERANCE


@dataclass(frozen=True)
class Choice:
    """What validation kept: ``point`` None means the start voice."""

    point: Point | None
    end: Point
    earlier: Point | None
    tried: tuple[Point, ...]
    f0_scale: float


def fit_voice(
    engine: KokoroEngine,
    samples: Sequence[EnrollSample],
    mode: str,
    progress: Progress | None = None,
    deadline: Deadline | None = None,
) -> VoiceModel:
    """Fit the voice to the samples and keep what validates, ending by ``deadline`` if one is given."""
    from . import fitting

    stages = Stages(progress, load=0.05, fit=0.85, validate=0.06, tone=0.04)
    stages.begin("load", "loading the fitting model")
    model = engine.torch_model()
    target = mean_embedding(samples)
    pairs = [(s.audio, engine.phonemize(s.transcript)) for s in samples if s.transcript]
    sample_f0s = [median_f0(s.audio, s.sample_rate) for s in samples]
    check = Validation(engine, target)
    baseline = _baseline(engine, model, check, pairs, sample_f0s)
    # the baseline's first measurement (cached per machine) is taken before the budget is set, so it
    # cannot push the enrollment past the deadline
    cfg = fitting.config_for("fast" if mode == "adapters" else mode)  # type: ignore[arg-type]
    cfg = replace(cfg, time_budget_s=fit_budget(cfg, deadline.seconds_left() if deadline else None))
    speaker = fitting.Speaker(SpeakerEncoder.load().module, target)
    with engine._fit_lock:  # one fit at a time: each takes every core and gigabytes
        result = fitting.fit_style(
            model,
            pairs,
            baseline.row,
            cfg,
            progress=stages.within("fit"),
            synthesize=engine._synthesize_with_durations,
            speaker=speaker,
        )
    stages.begin("validate", "validating the fitted voice")
    choice = choose(check, result, baseline, sample_f0s, lambda row: _as_table(engine, baseline.name, row))
    stages.begin("tone", "matching the voice's tone")
    spoken = choice.point.spoken if choice.point is not None else check.speak(engine._stock[baseline.name])
    recordings = [resample(s.audio, s.sample_rate, SAMPLE_RATE) for s in samples]
    eq, sim_eq, wer_eq = check.spectral_correction(recordings, spoken, baseline.max_wer)
    stages.done("voice fitted" if choice.point is not None else "fit rejected; keeping the start voice")
    summary = _summary(choice, baseline, result.stats)
    summary.update(
        eq_applied=eq is not None,
        eq_similarity=round(sim_eq, 4),
        eq_wer=round(wer_eq, 3),
        eq_range_db=round(float(np.ptp(eq)), 1) if eq is not None else 0.0,
    )
    return _voice_model(engine, mode, choice, baseline, summary, eq)


def fit_budget(cfg: FitConfig, seconds_left: float | None) -> float | None:
    """The fit's time budget: what the deadline leaves after validation's share, within bounds; a
    thorough fit, or one without a deadline, keeps its mode's budget."""
    if seconds_left is None or cfg.mode == "thorough" or cfg.time_budget_s is None:
        return cfg.time_budget_s
    return float(np.clip(seconds_left - VALIDATION_SECONDS, MIN_FIT_SECONDS, cfg.time_budget_s))


def mean_embedding(samples: Sequence[EnrollSample]) -> np.ndarray:
    """The samples' mean speaker embedding, unit length: what validation compares a voice with."""
    target = np.mean([s.embedding for s in samples], axis=0)
    return target / (np.linalg.norm(target) + 1e-9)


def _baseline(
    engine: KokoroEngine,
    model: Any,
    check: Validation,
    pairs: list[tuple[np.ndarray, str]],
    sample_f0s: list[float],
) -> Baseline:
    """The stock voice of the speaker's gender nearest in pitch, and its validation score."""
    from .fitting import choose_start_style

    voiced = [f for f in sample_f0s if f > 0]
    stock = start_voices(engine._stock, float(np.median(voiced or [0])))
    name, row = choose_start_style(model, pairs, {k: v[:, None, :] for k, v in stock.items()})
    similarity, wer = check.stock(name)
    return Baseline(name, row, similarity, wer)


def choose(
    check: Validation,
    result: FitResult,
    baseline: Baseline,
    sample_f0s: Sequence[float],
    as_table: Any,
) -> Choice:
    """Score the end point (with the pitch scale, unless it costs words), then walk toward the start voice."""
    end, f0_scale = _end_point(check, result.end, baseline, sample_f0s, as_table)
    earlier = _fit_point("earlier", result.earlier, as_table) if result.earlier else None
    start = np.asarray(baseline.row, np.float32)
    blends = [
        Point(
            f"blend {share:g}",
            share,
            0,
            as_table(start + share * (result.end.style - start)),
            _scaled(result.end.adapter, share),
        )
        for share in BLEND_SHARES
    ]
    chosen, tried = first_passing(check, [end, earlier, *blends], baseline.similarity, baseline.max_wer)
    if chosen is not None and chosen is not end:
        f0_scale = 1.0  # the pitch scale was measured on the end point
    return Choice(chosen, end, earlier, tuple(tried), f0_scale)


def _fit_point(label: str, point: FitPoint, as_table: Any) -> Point:
    """One of the fit's own points; only an earlier point keeps its update count (the end point's is 0)."""
    step = point.step if label == "earlier" else 0
    return Point(label, 1.0, step, as_table(point.style), point.adapter)


def _end_point(
    check: Validation, fitted: FitPoint, baseline: Baseline, sample_f0s: Sequence[float], as_table: Any
) -> tuple[Point, float]:
    end = _fit_point("end", fitted, as_table)
    plain = check.speak(end.table, end.adapter)
    f0_scale = pitch_correction(sample_f0s, median_f0(plain, SAMPLE_RATE))
    spoken = check.speak(end.table, end.adapter, f0_scale) if f0_scale != 1.0 else plain
    end.spoken = spoken
    end.similarity, end.wer = check.score(spoken)
    if f0_scale != 1.0 and end.wer > baseline.max_wer:
        # a large pitch move can blur words; the fit without it may still be worth keeping
        end.spoken, f0_scale = plain, 1.0
        end.similarity, end.wer = check.score(plain)
    return end, f0_scale


def _summary(choice: Choice, baseline: Baseline, stats: FitStats) -> dict[str, Any]:
    """The figures kept in the voice model's metrics."""
    kept, end, earlier = choice.point, choice.end, choice.earlier
    shown = kept if kept is not None else end
    earlier_scored = earlier is not None and any(p is earlier for p in choice.tried)
    return {
        "validation_similarity": round(kept.similarity if kept is not None else baseline.similarity, 4),
        "start_similarity": round(baseline.similarity, 4),
        "fitted_similarity": round(shown.similarity, 4),
        "start_wer": round(baseline.wer, 3),
        "fitted_wer": round(shown.wer, 3),
        "fit_seconds": round(stats.seconds, 1),
        "timbre_steps": float(stats.timbre_steps),
        "fallback_step": float(kept.step if kept is not None else 0),
        "fit_share": kept.share if kept is not None else 0.0,
        "points_tried": float(len(choice.tried)),
        "end_similarity": round(end.similarity, 4),
        "end_wer": round(end.wer, 3),
        # -1: the earlier point was not scored
        "earlier_similarity": round(earlier.similarity, 4) if earlier_scored and earlier else -1.0,
        "earlier_wer": round(earlier.wer, 3) if earlier_scored and earlier else -1.0,
        "fit_logmel_start": round(stats.val_logmel_start or 0.0, 3),
        "fit_logmel_end": round(stats.val_logmel_end or 0.0, 3),
        "f0_scale": choice.f0_scale,
        "adapter_rms": round(stats.adapter_rms, 4),
    }


def _voice_model(
    engine: KokoroEngine,
    mode: str,
    choice: Choice,
    baseline: Baseline,
    summary: dict[str, Any],
    eq: np.ndarray | None,
) -> VoiceModel:
    kept = choice.point
    params = {
        "start_voice": baseline.name,
        "mode": mode,
        "fit_kept": kept is not None,
        "fit_share": kept.share if kept is not None else 0.0,
    }
    extra = {EQ_ARRAY: eq} if eq is not None else {}
    if kept is None:
        arrays = {"style": engine._stock[baseline.name].copy(), **extra}
        return VoiceModel(engine.name, engine.version, "nearest-stock", arrays, params, summary)
    arrays = {"style": kept.table, **{ADAPTER_PREFIX + k: v for k, v in kept.adapter.items()}, **extra}
    method = f"fitted-{'adapter' if kept.adapter else 'style'}-{'thorough' if mode == 'thorough' else 'fast'}"
    return VoiceModel(engine.name, engine.version, method, arrays, {**params, "f0_scale": choice.f0_scale}, summary)


def _as_table(engine: KokoroEngine, start_name: str, row: np.ndarray) -> np.ndarray:
    """One fitted row for every token length, as the stock voices' tables have."""
    return np.repeat(np.asarray(row, np.float32)[None, :], len(engine._stock[start_name]), axis=0)


def _scaled(adapter: dict[str, np.ndarray], share: float) -> dict[str, np.ndarray]:
    return {k: (share * v).astype(np.float32) for k, v in adapter.items()}


def start_voices(stock: dict[str, np.ndarray], f0_hz: float) -> dict[str, np.ndarray]:
    """The stock voices a fit may start from: those of the speaker's gender as told by pitch.

    A start voice of the other gender must be pulled across the whole pitch and formant range by a
    one-minute fit (a 172 Hz woman's fit started from the one male voice). Stock names carry the
    gender in their second letter (``jf_``, ``jm_``); between the two bounds both are allowed.
    """
    if f0_hz >= FEMALE_FROM_HZ:
        wanted = "f"
    elif 0 < f0_hz < MALE_BELOW_HZ:
        wanted = "m"
    else:
        return stock
    chosen = {k: v for k, v in stock.items() if k[1:2] == wanted}
    return chosen or stock


def pitch_correction(sample_f0s: Sequence[float], fitted_f0: float, limit: float = 0.18) -> float:
    """Scale for the fitted voice's predicted pitch so its median matches the person's samples.

    A one-minute prosody fit leaves the pitch a few percent off (docs/cloning.md); a difference under
    1.5 % is left alone, and the scale never exceeds ``limit`` (±18 %: about 3 semitones).
    """
    voiced = [f for f in sample_f0s if f > 0]
    if not voiced or fitted_f0 <= 0:
        return 1.0
    ratio = float(np.median(voiced)) / fitted_f0
    if abs(math.log(ratio)) < math.log(1.015):
        return 1.0
    return round(float(np.clip(ratio, 1 / (1 + limit), 1 + limit)), 4)
