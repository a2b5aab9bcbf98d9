"""A voice's enrollment as stages with typed records: request, samples, analysis, voice model, result.

The service runs the stages in order (``RealVoiceCloningService.create_voice``) and owns what has side
effects: the job row, consent, duplicates and saving. Progress is shared between the stages here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .analysis import characterise, content_hash, extract_features, score_voice, voice_features
from .analysis.features import VoiceFeatures
from .analysis.score import QualityScore
from .analysis.transcribe import transcribe
from .config import Settings
from .consent import Heard, check_speaker
from .engines import EnrollSample, VoiceModel
from .errors import InvalidInputError, InvalidSampleError, LimitExceededError, NotEnoughSamplesError
from .models import CloneResult, ConsentRecord, SampleReport, VoiceCharacteristics, quality_tier
from .progress import Progress, Stages
from .samples import take_in
from .samples.intake import IntakeResult
from .samples.rule import recording_rule
from .verdict import fit_verdict

Embed = Callable[..., np.ndarray]


def enrollment_stages(progress: Progress | None) -> Stages:
    """The bar of one voice build: the fit takes the largest share."""
    return Stages(progress, intake=0.5, analyse=0.05, transcribe=0.05, build=0.32, save=0.08)


@dataclass(frozen=True)
class VoiceRequest:
    """A checked request to build a voice."""

    name: str
    files: list[str | Path]
    labels: Sequence[str] | None


@dataclass(frozen=True)
class Analysis:
    """What the accepted samples say about the voice, before any model is fitted."""

    intake: IntakeResult
    features: VoiceFeatures
    transcripts: list[str]
    characteristics: VoiceCharacteristics
    quality: QualityScore
    fingerprint: str
    centroid: np.ndarray  # the samples' mean speaker embedding, unit length
    consent: ConsentRecord


MAX_NAME_CHARS, MAX_DESCRIPTION_CHARS = 100, 2000


def check_voice_name(voice_name: str) -> str:
    """The name without surrounding spaces; 1-100 characters, at creation and at a rename alike."""
    name = (voice_name or "").strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidInputError(f"the voice name must be 1-{MAX_NAME_CHARS} characters", code="bad_voice_name")
    return name


def check_description(description: str) -> str:
    """The description without surrounding spaces; at most 2000 characters."""
    text = (description or "").strip()
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise InvalidInputError(
            f"the description must be at most {MAX_DESCRIPTION_CHARS} characters", code="bad_description"
        )
    return text


def check_request(
    voice_name: str, audio_files: Sequence[str | Path] | str | Path, labels: Sequence[str] | None, max_samples: int
) -> VoiceRequest:
    name = check_voice_name(voice_name)
    files = [audio_files] if isinstance(audio_files, (str, Path)) else list(audio_files)
    if len(files) > max_samples:
        raise LimitExceededError(f"{len(files)} files given; at most {max_samples} per voice", code="too_many_files")
    if labels is not None and len(labels) != len(files):
        raise InvalidInputError("one label per file is needed", code="bad_labels")
    return VoiceRequest(name, files, labels)


def take_samples(request: VoiceRequest, settings: Settings, embed: Embed, progress: Progress) -> IntakeResult:
    """Decode, check and clean every upload; every file gets a report, usable or not."""
    return take_in(
        request.files,
        max_bytes=settings.max_upload_bytes,
        max_seconds=settings.max_sample_seconds,
        min_speech_s=settings.min_speech_seconds,
        embed=embed,
        progress=progress,
        names=request.labels,
    )


def refuse_unusable(intake: IntakeResult, min_samples: int) -> None:
    """A voice of two people, or too few usable samples, goes no further."""
    if intake.mixed is not None:
        one, other = (", ".join(group) for group in intake.mixed)
        raise InvalidSampleError(
            f"These recordings are of two people: {one} sound like one person, {other} like another. "
            "A voice is one speaker: upload recordings of yourself only.",
            code="mixed_speakers",
        )
    if len(intake.accepted) < min_samples:
        raise NotEnoughSamplesError(not_enough_message(intake.reports, min_samples))


def analyse(
    intake: IntakeResult,
    consent: tuple[ConsentRecord, Heard | None],
    embed: Embed,
    min_samples: int,
    stages: Stages,
) -> Analysis:
    """Features, transcripts, the recordings' score and fingerprint; the consent's speaker checked."""
    stages.begin("analyse", "analysing the voice")
    accepted = intake.accepted
    features = voice_features([extract_features(s.samples, s.sample_rate) for s in accepted])
    stages.begin("transcribe", "transcribing the samples")
    transcripts = [transcribe(s.samples, s.sample_rate) for s in accepted]
    embeddings = [intake.embeddings[s.name] for s in accepted]
    centroid = np.mean(embeddings, axis=0)
    centroid /= np.linalg.norm(centroid) + 1e-9
    agreed, heard = consent
    if heard is not None:
        agreed = check_speaker(agreed, heard, centroid, embed)
    return Analysis(
        intake=intake,
        features=features,
        transcripts=transcripts,
        characteristics=characterise(features, words_per_s=_words_per_second(transcripts, accepted)),
        quality=score_voice(intake.reports, embeddings, features, min_samples),
        fingerprint=content_hash([s.samples for s in accepted]),
        centroid=centroid,
        consent=agreed,
    )


def enroll_samples(analysis: Analysis) -> list[EnrollSample]:
    intake = analysis.intake
    return [
        EnrollSample(s.name, s.samples, s.sample_rate, intake.embeddings[s.name], t)
        for s, t in zip(intake.accepted, analysis.transcripts, strict=True)
    ]


def clone_result(name: str, model: VoiceModel, analysis: Analysis) -> CloneResult:
    """The user's report: the recordings' score capped by how the fit went, and every warning."""
    reports = analysis.intake.reports
    verdict = fit_verdict(model)
    warnings = [verdict.message] if verdict.message else []
    warnings += [f"{r.file}: {i.message}" for r in reports for i in r.issues if i.severity == "warning"]
    score = verdict.cap(analysis.quality.score)
    return CloneResult(
        success=True,
        name=name,
        method=model.method,
        engine=f"{model.engine} {model.engine_version}",
        quality_score=score,
        quality_tier=quality_tier(score),
        quality_breakdown=analysis.quality.breakdown,
        fit_outcome=verdict.outcome,
        warning_codes=[verdict.code] if verdict.code else [],
        refine_advised=verdict.refine_advised,
        characteristics=analysis.characteristics,
        sample_reports=reports,
        total_speech_s=analysis.intake.total_speech_s,
        validation=dict(model.metrics),
        fingerprint=analysis.fingerprint,
        warnings=warnings,
        recommendations=analysis.quality.recommendations,
        consent=analysis.consent.model_copy(update={"checked_at": datetime.now(UTC)}),
    )


def _words_per_second(transcripts: list[str], samples: Sequence) -> float:
    """Speaking rate from Whisper's transcripts over the samples' speech time."""
    words = sum(len(t.split()) for t in transcripts)
    speech = sum(sum(b - a for a, b in s.segments) for s in samples)
    return words / speech if speech > 0 else 0.0


def not_enough_message(reports: list[SampleReport], needed: int) -> str:
    good = sum(r.accepted for r in reports)
    lines = [f"Only {good} of {len(reports)} samples are usable; a voice needs at least {needed}."]
    for r in reports:
        if not r.accepted:
            lines.append(f"- {r.file}: {'; '.join(r.reasons) or 'rejected'}")
    lines.append(f"Record {needed - good} more in a quiet room. {recording_rule()}")
    return "\n".join(lines)


def fix_advice(reports: list[SampleReport]) -> list[str]:
    return [f"Replace {r.file}: {r.reasons[0]}" for r in reports if not r.accepted and r.reasons]
