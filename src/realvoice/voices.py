"""The voice store: each voice's rows and files, who owns it, duplicates, saving and deleting every trace."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select, update

from .analysis.plots import voice_report_png
from .audio import write_wav
from .config import Settings
from .engines import Engine, VoiceModel
from .enrollment import Analysis, VoiceRequest, check_description, check_voice_name
from .errors import DuplicateVoiceError, InvalidInputError, ModelFileError, StorageError, VoiceNotFoundError
from .models import (
    CloneResult,
    ConsentRecord,
    FitOutcome,
    SampleReport,
    VoiceCharacteristics,
    VoiceDetail,
    VoiceSummary,
)
from .store import ConsentRow, Database, FileBlobStore, JobRow, SampleRow, VoiceRow
from .store.blobs import check_id, new_id
from .store.leases import Leases
from .verdict import STOCK_METHOD
from .voice_cache import VoiceModels

_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MODEL_FILE = "voice.rvm.npz"  # the first version of a voice; a refinement writes voice.v2.rvm.npz, and so on
_VERSIONED = re.compile(r"^voice\.v(\d{1,6})\.rvm\.npz$")
PLOT_FILE = "report.png"


def model_version(model_file: str) -> int:
    """The version a voice's model file holds: 1 for the file a build wrote, n for ``voice.vn.rvm.npz``."""
    found = _VERSIONED.match(model_file)
    return int(found.group(1)) if found else 1


def model_file_for(version: int) -> str:
    return MODEL_FILE if version <= 1 else f"voice.v{version}.rvm.npz"


def refine_lease(voice_id: str) -> str:
    """The lease a refinement of the voice holds while it runs: one at a time, and the janitor leaves
    the version it is writing alone (see store/janitor.py)."""
    return f"refine-{check_id(voice_id)}"


@dataclass(frozen=True)
class StoredSample:
    """One accepted recording as the voice keeps it: cleaned audio, and what was said in it (None: not kept,
    a voice made before transcripts were kept)."""

    name: str
    audio: np.ndarray
    sample_rate: int
    transcript: str | None


def check_user(user_id: str) -> str:
    if not isinstance(user_id, str) or not _USER.match(user_id):
        raise InvalidInputError("malformed user id: 1-64 letters, digits, '_', '.', '@' or '-'", code="bad_user_id")
    return user_id


class VoiceStore:
    """Rows in the database, files in the blob store; every read checks that the voice is the user's."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        blobs: FileBlobStore,
        leases: Leases,
        engine: Callable[[], Engine],
        models: VoiceModels,
    ) -> None:
        self.settings, self.db, self.blobs, self.leases = settings, db, blobs, leases
        self._engine, self.models = engine, models

    def row(self, voice_id: str, user_id: str) -> VoiceRow:
        """The user's voice, or VoiceNotFoundError; another user's voice reads exactly as missing."""
        check_user(user_id)
        try:
            check_id(voice_id)
        except InvalidInputError:
            raise VoiceNotFoundError(f"voice {voice_id!r} not found") from None
        with self.db.session() as s:
            row = s.scalar(select(VoiceRow).where(VoiceRow.id == voice_id, VoiceRow.user_id == user_id))
            if row is None:
                raise VoiceNotFoundError(f"voice {voice_id!r} not found")
            s.expunge(row)
            return row

    def model(self, row: VoiceRow) -> VoiceModel:
        """The voice's loaded model, from the shared least-recently-used cache.

        A refinement that publishes a new version between reading the row and loading its file removes
        the file the row named: the row is read again, once."""
        try:
            return self._load(row)
        except ModelFileError:
            fresh = self.row(row.id, row.user_id)
            if fresh.model_file == row.model_file:
                raise
            return self._load(fresh)

    def _load(self, row: VoiceRow) -> VoiceModel:
        path = self.blobs.voice_dir(row.id) / row.model_file
        return self.models.get(row.id, lambda: self._engine().load_voice(path), row.model_file)

    def refuse_duplicate(self, user_id: str, fingerprint: str) -> None:
        with self.db.session() as s:
            other = s.scalar(select(VoiceRow).where(VoiceRow.user_id == user_id, VoiceRow.fingerprint == fingerprint))
            if other is not None:
                raise DuplicateVoiceError(
                    f"you already have a voice made from these recordings ({other.name!r}, id {other.id}); "
                    "pass allow_duplicate=True to make another"
                )

    def save(
        self,
        user_id: str,
        request: VoiceRequest,
        description: str,
        model: VoiceModel,
        result: CloneResult,
        analysis: Analysis,
        consent_file: Path | None = None,
        voice_id: str | None = None,
    ) -> str:
        """Write every file into a staging folder, rename it into place, then commit the rows."""
        voice_id = voice_id or new_id()
        lease = self.leases.hold(f"staging-{voice_id}")  # until the row is committed: see store/janitor.py
        stage = self.blobs.staging(voice_id)
        try:
            samples = _stage_samples(stage, request, result, analysis)
            title = f"{request.name} — {result.quality_score:.0f}/100"
            voice_report_png(stage / PLOT_FILE, analysis.features.f0_values, result.sample_reports, title)
            kept_consent = _keep_consent_recording(stage, consent_file)
            model.save(stage / MODEL_FILE)
            self._engine().load_voice(stage / MODEL_FILE)  # validate what was written before it goes live
            self.blobs.publish(voice_id)
            row = _voice_row(voice_id, user_id, request.name, description, model, result, analysis)
            row.samples = samples
            row.consent = ConsentRow(record=_consent_json(result), recording_file=kept_consent)
            with self.db.session() as s:
                s.add(row)
        except BaseException:
            self.blobs.discard(voice_id)
            raise
        finally:
            lease.release()
        return voice_id

    def stored_samples(self, row: VoiceRow) -> list[StoredSample]:
        """The voice's accepted recordings as it keeps them (cleaned), in upload order."""
        import soundfile as sf

        folder = self.blobs.voice_dir(row.id)
        with self.db.session() as s:
            files = s.scalars(
                select(SampleRow.cleaned_file)
                .where(SampleRow.voice_id == row.id, SampleRow.accepted.is_(True))
                .order_by(SampleRow.position)
            ).all()
        kept = []
        for name in files:
            if not name or not (folder / name).is_file():
                raise StorageError(
                    f"voice {row.id} no longer has its cleaned recordings; create the voice again to refine it",
                    code="no_stored_samples",
                )
            path = folder / name
            audio, rate = sf.read(path, dtype="float32", always_2d=False)  # our own mono 16-bit WAV
            text = path.with_suffix(".txt")
            transcript = text.read_text(encoding="utf-8") if text.is_file() else None
            kept.append(StoredSample(Path(name).stem, audio, int(rate), transcript))
        return kept

    def publish_version(self, row: VoiceRow, model: VoiceModel, changes: dict[str, Any]) -> int:
        """Make ``model`` the voice's next version: its file is written beside the current one and checked,
        then one update points the row at it (only if the row still names the version this one replaces),
        and only then is the previous file removed. A crash at any step leaves the previous version in use;
        a file left behind is the janitor's (the caller holds :func:`refine_lease` meanwhile).

        ``changes``: the row's other fields that describe the new version (method, score, report)."""
        version = model_version(row.model_file) + 1
        name = model_file_for(version)
        folder = self.blobs.voice_dir(row.id)
        if not folder.is_dir():
            raise VoiceNotFoundError(f"voice {row.id!r} not found (it was deleted while it was refined)")
        path = folder / name
        try:
            model.save(path)  # atomic: a temporary file renamed into place
            self._engine().load_voice(path)  # validate what was written before it goes live
            with self.db.session() as s:
                done = s.execute(
                    update(VoiceRow)
                    .where(VoiceRow.id == row.id, VoiceRow.model_file == row.model_file)
                    .values(model_file=name, **changes)
                )
                if getattr(done, "rowcount", 0) != 1:
                    raise VoiceNotFoundError(f"voice {row.id!r} was deleted or changed while it was refined")
        except BaseException:
            path.unlink(missing_ok=True)
            if not self._exists(row.id):
                self.blobs.discard(row.id)  # deleted meanwhile: saving may have made its folder again
            raise
        (folder / row.model_file).unlink(missing_ok=True)  # the previous version, once the new one is live
        self.models.forget(row.id)
        (self.settings.home / "previews" / f"{row.id}.wav").unlink(missing_ok=True)  # spoken by the old version
        return version

    def _exists(self, voice_id: str) -> bool:
        with self.db.session() as s:
            return s.get(VoiceRow, voice_id) is not None

    def summaries(self, user_id: str) -> list[VoiceSummary]:
        check_user(user_id)
        with self.db.session() as s:
            rows = s.scalars(
                select(VoiceRow).where(VoiceRow.user_id == user_id).order_by(VoiceRow.created_at.desc())
            ).all()
            ids = [r.id for r in rows]
            used = dict(
                s.execute(
                    select(SampleRow.voice_id, func.count())
                    .where(SampleRow.voice_id.in_(ids), SampleRow.accepted.is_(True))
                    .group_by(SampleRow.voice_id)
                ).all()
            )
            consents: dict[str, dict[str, Any]] = {
                voice: record
                for voice, record in s.execute(
                    select(ConsentRow.voice_id, ConsentRow.record).where(ConsentRow.voice_id.in_(ids))
                )
            }
            return [_summary(r, used.get(r.id, 0), _consent(consents.get(r.id))) for r in rows]

    def detail(self, voice_id: str, user_id: str) -> VoiceDetail:
        row = self.row(voice_id, user_id)
        with self.db.session() as s:
            samples = s.scalars(
                select(SampleRow).where(SampleRow.voice_id == row.id).order_by(SampleRow.position)
            ).all()
            reports = [SampleReport.model_validate(x.report) for x in samples]
            consent = s.get(ConsentRow, row.id)
            record = _consent(consent.record if consent is not None else None)
        return VoiceDetail(
            **dict(_summary(row, sum(r.accepted for r in reports), record)),
            sample_reports=reports,
            warnings=row.report.get("warnings", []),
            recommendations=row.report.get("recommendations", []),
            validation=row.report.get("validation", {}),
            fingerprint=row.fingerprint,
            consent_record=record,
        )

    def update(
        self, voice_id: str, user_id: str, *, name: str | None = None, description: str | None = None
    ) -> VoiceDetail:
        """Rename the voice or change its description (None leaves a field as it is), checked as at creation."""
        row = self.row(voice_id, user_id)  # another user's voice reads as missing, here as everywhere
        changes: dict[str, str] = {}
        if name is not None:
            changes["name"] = check_voice_name(name)
        if description is not None:
            changes["description"] = check_description(description)
        with self.db.session() as s:
            stored = s.get(VoiceRow, row.id)
            for field, value in changes.items():
                setattr(stored, field, value)
        return self.detail(row.id, user_id)

    def report_plot(self, voice_id: str, user_id: str) -> Path:
        row = self.row(voice_id, user_id)
        path = self.blobs.voice_dir(row.id) / PLOT_FILE
        if not path.exists():
            raise VoiceNotFoundError(f"voice {voice_id!r} has no report plot")
        return path

    def delete(self, voice_id: str, user_id: str) -> bool:
        """Remove the voice's rows, every file, its preview and its jobs; False if the user has no such voice."""
        try:
            row = self.row(voice_id, user_id)
        except VoiceNotFoundError:
            return False
        with self.db.session() as s:
            obj = s.get(VoiceRow, row.id)
            if obj is not None:
                s.delete(obj)
        self.blobs.discard(row.id)
        self.models.forget(row.id)
        (self.settings.home / "previews" / f"{row.id}.wav").unlink(missing_ok=True)  # made by the API or CLI
        self._delete_jobs_of(user_id, row.id)
        return True

    def _delete_jobs_of(self, user_id: str, voice_id: str) -> None:
        """The voice's job rows (its build report, its speech renders) and the rendered files go with it."""
        with self.db.session() as s:
            for job in s.scalars(select(JobRow).where(JobRow.user_id == user_id)).all():
                # a finished job names the voice in its result; one still queued, in its request
                if voice_id in ((job.result or {}).get("voice_id"), (job.request or {}).get("voice_id")):
                    shutil.rmtree(self.settings.renders_dir / check_id(job.id), ignore_errors=True)
                    s.delete(job)


def _stage_samples(stage: Path, request: VoiceRequest, result: CloneResult, analysis: Analysis) -> list[SampleRow]:
    """Each upload's row; the accepted ones' original and cleaned audio copied into the staging folder."""
    rows = []
    cleaned = {s.name: s for s in analysis.intake.accepted}
    heard = {s.name: t for s, t in zip(analysis.intake.accepted, analysis.transcripts, strict=True)}
    for pos, (path, rep) in enumerate(zip(request.files, result.sample_reports, strict=True)):
        original = cleaned_file = None
        if rep.accepted:
            ext = re.sub(r"[^a-z0-9]", "", Path(path).suffix.lower())[:5] or "bin"
            original = f"originals/{pos:02d}.{ext}"
            (stage / "originals").mkdir(exist_ok=True)
            shutil.copyfile(path, stage / original)
            cleaned_file = f"cleaned/{pos:02d}.wav"
            c = cleaned[rep.file]
            write_wav(stage / cleaned_file, c.samples, c.sample_rate)
            # what was said, so that a refinement fits from the same words without transcribing again
            (stage / cleaned_file).with_suffix(".txt").write_text(heard.get(rep.file, ""), encoding="utf-8")
        rows.append(
            SampleRow(
                position=pos,
                filename=rep.file[:255],
                accepted=rep.accepted,
                original_file=original,
                cleaned_file=cleaned_file,
                report=rep.model_dump(mode="json"),
            )
        )
    return rows


def _voice_row(
    voice_id: str,
    user_id: str,
    name: str,
    description: str,
    model: VoiceModel,
    result: CloneResult,
    analysis: Analysis,
) -> VoiceRow:
    return VoiceRow(
        id=voice_id,
        user_id=user_id,
        name=name,
        description=(description or "")[:2000],
        engine=model.engine,
        engine_version=model.engine_version,
        method=model.method,
        quality_score=result.quality_score,
        quality_tier=result.quality_tier,
        fingerprint=result.fingerprint,
        embedding=[round(float(v), 6) for v in analysis.centroid],
        characteristics=(result.characteristics or VoiceCharacteristics()).model_dump(),
        # the consent lives in its own table, the one source of it
        report=result.model_dump(mode="json", exclude={"sample_reports", "characteristics", "consent"}),
        model_file=MODEL_FILE,
    )


def _consent_json(result: CloneResult) -> dict[str, Any]:
    return (result.consent or ConsentRecord(method="none")).model_dump(mode="json")


def _consent(record: dict[str, Any] | None) -> ConsentRecord:
    """A voice's consent as its row in the consents table holds it; no row (a voice from before
    consent existed) reads "none"."""
    return ConsentRecord.model_validate(record or {"method": "none"})


def _summary(row: VoiceRow, sample_count: int, consent: ConsentRecord) -> VoiceSummary:
    return VoiceSummary(
        voice_id=row.id,
        name=row.name,
        description=row.description,
        quality_score=row.quality_score,
        quality_tier=row.quality_tier,
        method=row.method,
        engine=row.engine,
        created_at=row.created_at,
        sample_count=sample_count,
        fit_outcome=_outcome(row),
        warning_codes=row.report.get("warning_codes", []),
        consent=consent.method,
        version=model_version(row.model_file),
        refine_advised=_outcome(row) != "fitted",
        characteristics=VoiceCharacteristics.model_validate(row.characteristics),
    )


def _outcome(row: VoiceRow) -> FitOutcome:
    return row.report.get("fit_outcome", "stock" if row.method == STOCK_METHOD else "fitted")


def _keep_consent_recording(stage: Path, recording: Path | None) -> str | None:
    """Copy the consent recording into the voice's folder (it is deleted with the voice)."""
    if recording is None:
        return None
    ext = re.sub(r"[^a-z0-9]", "", recording.suffix.lower())[:5] or "bin"
    (stage / "consent").mkdir(exist_ok=True)
    shutil.copyfile(recording, stage / f"consent/recording.{ext}")
    return f"consent/recording.{ext}"
