"""A voice's refinement as stages: its stored recordings, a thorough fit, the comparison, a new version.

The fast build gives a voice within the minute; a refinement fits again from the same cleaned recordings
with the thorough mode, measures the voice as it is and the new fit with the build's own validation in
the same run, and publishes the fit as the voice's next version only if it validates better
(``verdict.refine_verdict``; publishing: ``VoiceStore.publish_version``). The service
(``RealVoiceCloningService.refine``) owns the rest of the side effects: the lease and the job row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .analysis.score import recordings_score
from .engines import Engine, EnrollSample, VoiceCheck, VoiceModel
from .models import QualityBreakdown, RefineResult, ValidationScore, quality_tier
from .progress import Progress, Stages
from .store import VoiceRow
from .verdict import FitVerdict, RefineVerdict, fit_verdict, refine_verdict
from .voices import StoredSample, VoiceStore, model_version

REFINE_MODE = "thorough"  # minutes on two cores, with progress: see docs/cloning.md
Embed = Callable[..., np.ndarray]


def refine_stored(
    voices: VoiceStore, engine: Engine, row: VoiceRow, embed: Embed, progress: Progress | None, mode: str = REFINE_MODE
) -> RefineResult:
    """Fit the voice again from its stored recordings, compare, and publish the fit only if it is better."""
    stages = refine_stages(progress)
    stages.begin("samples", "reading the voice's recordings")
    current = voices.model(row)
    samples = enroll_stored(voices.stored_samples(row), embed, stages.within("samples"))
    stages.begin("fit", "refining the voice (a thorough fit)")
    model = engine.enroll(samples, progress=stages.within("fit"), mode=mode)
    model.sample_hashes = current.sample_hashes
    stages.begin("compare", "comparing with the voice as it is")
    before = scored(engine.validate(current, samples), fit_verdict(current))
    verdict = fit_verdict(model)
    after = scored(engine.validate(model, samples), verdict)
    decision = refine_verdict(before, after)
    version, changes = model_version(row.model_file), None
    if decision.improved:
        stages.begin("save", "saving the refined voice")
        changes = refined_row(row, model, verdict, refinement_record(version + 1, before, after))
        version = voices.publish_version(row, model, changes)
    stages.done("voice refined" if decision.improved else "voice kept as it was")
    return refine_result(row, decision, before, after, changes, version)


def refine_stages(progress: Progress | None) -> Stages:
    """The bar of one refinement: the fit takes nearly all of it."""
    return Stages(progress, samples=0.04, fit=0.86, compare=0.08, save=0.02)


def enroll_stored(
    stored: Sequence[StoredSample], embed: Embed, progress: Progress, transcribe: Callable[..., str] | None = None
) -> list[EnrollSample]:
    """The stored recordings as an engine takes them; a voice made before transcripts were kept is heard
    again (``transcribe``: Whisper, by default)."""
    if transcribe is None:
        from .analysis.transcribe import transcribe as whisper

        transcribe = whisper
    samples = []
    for i, s in enumerate(stored):
        text = s.transcript if s.transcript is not None else transcribe(s.audio, s.sample_rate)
        samples.append(EnrollSample(s.name, s.audio, s.sample_rate, embed(s.audio, s.sample_rate), text))
        progress((i + 1) / len(stored), "reading the voice's recordings")
    return samples


def scored(check: VoiceCheck, verdict: FitVerdict) -> ValidationScore:
    return ValidationScore(similarity=check.similarity, wer=check.wer, fit_outcome=verdict.outcome)


def refined_row(row: VoiceRow, model: VoiceModel, verdict: FitVerdict, record: dict[str, Any]) -> dict[str, Any]:
    """The row's fields for the refined version: method, the score under the new verdict's cap, and the
    report with the new verdict's warning in place of the old one's."""
    report = dict(row.report)
    breakdown = report.get("quality_breakdown")
    base = recordings_score(QualityBreakdown.model_validate(breakdown)) if breakdown else row.quality_score
    score = verdict.cap(base)
    warnings = list(report.get("warnings", []))
    if report.get("fit_outcome", "fitted") != "fitted" and warnings:
        warnings = warnings[1:]  # the old verdict's message leads the warnings (enrollment.clone_result)
    report.update(
        method=model.method,
        engine=f"{model.engine} {model.engine_version}",
        fit_outcome=verdict.outcome,
        warning_codes=[verdict.code] if verdict.code else [],
        refine_advised=verdict.refine_advised,
        warnings=([verdict.message] if verdict.message else []) + warnings,
        validation=dict(model.metrics),
        quality_score=score,
        quality_tier=quality_tier(score),
        refinement=record,
    )
    return {
        "method": model.method,
        "engine": model.engine,
        "engine_version": model.engine_version,
        "quality_score": score,
        "quality_tier": quality_tier(score),
        "report": report,
    }


def refinement_record(version: int, before: ValidationScore, after: ValidationScore) -> dict[str, Any]:
    """What the voice's report keeps about the refinement that made its current version."""
    return {
        "version": version,
        "before": before.model_dump(),
        "after": after.model_dump(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def refine_result(
    row: VoiceRow,
    decision: RefineVerdict,
    before: ValidationScore,
    after: ValidationScore,
    now: dict[str, Any] | None,
    version: int,
) -> RefineResult:
    """The user's report; ``now`` is the row's new fields when a version was published, else None."""
    fields = now or {"quality_score": row.quality_score, "quality_tier": row.quality_tier, "report": row.report}
    report = fields["report"]
    return RefineResult(
        success=True,
        voice_id=row.id,
        improved=decision.improved,
        version=version,
        previous_version=model_version(row.model_file),
        before=before,
        after=after,
        message=decision.message,
        fit_outcome=report.get("fit_outcome", after.fit_outcome if now else before.fit_outcome),
        quality_score=fields["quality_score"],
        quality_tier=fields["quality_tier"],
        warnings=list(report.get("warnings", [])),
    )
