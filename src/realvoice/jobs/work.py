"""Running one job from its id: what a worker thread or a ``realvoice worker`` process does.

A job holds its lease (``job-<id>``) for as long as it runs, so a second delivery of the same job
(the task queue hands it out again when a worker dies, or after its visibility timeout) finds it busy
and waits, and a job that has ended is never run again. A build publishes the voice id chosen when
the job was made, so a build that runs twice yields one voice.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..consent import ConsentRecording
from ..consent.check import Challenge
from ..errors import RealVoiceError, StorageError
from ..models import CloneResult, RefineResult
from ..service import RealVoiceCloningService
from ..store import JobRow, VoiceRow
from ..store.leases import HeldElsewhere, Lease
from .records import REQUEST, SpeechRender, VoiceBuild, VoiceRefine

log = logging.getLogger("realvoice.jobs")
ENDED = ("done", "failed")


class Outcome(Enum):
    RAN = "ran"
    ENDED_BEFORE = "ended before"  # a redelivery of a job that has finished: nothing to do
    BUSY = "busy"  # another live process runs it now: ask again later


class JobWork:
    """Runs jobs for one service; every step is written to the job's row, which the API reads."""

    def __init__(self, service: RealVoiceCloningService) -> None:
        self.service = service

    def folder(self, job_id: str) -> Path:
        """Where the job's inputs live (its uploads): in the data folder every worker shares."""
        return self.service.settings.jobs_dir / job_id

    def run(self, job_id: str, lease: Lease | HeldElsewhere | None = None) -> Outcome:
        """Run the job unless it has ended; ``lease``: the caller already holds it (in-process threads),
        or the parent process does (a job's child process)."""
        if lease is None:
            try:
                lease = self.service.leases.hold(f"job-{job_id}")
            except StorageError:
                return Outcome.BUSY
        try:
            with self.service.db.session() as s:
                row = s.get(JobRow, job_id)
                if row is None or row.status in ENDED or row.request is None:
                    ended = True
                else:
                    ended, request, attempt = False, REQUEST.validate_python(row.request), row.attempts + 1
                    row.attempts, row.status = attempt, "running"
                    row.message = "starting" if attempt == 1 else f"started again (attempt {attempt}): a worker stopped"
            if ended:
                shutil.rmtree(self.folder(job_id), ignore_errors=True)
                return Outcome.ENDED_BEFORE
            if isinstance(request, VoiceBuild):
                self._build(job_id, request, attempt)
            elif isinstance(request, VoiceRefine):
                self._refine(job_id, request, attempt)
            else:
                self._render(job_id, request, attempt)
            return Outcome.RAN
        finally:
            lease.release()

    # --- a voice ------------------------------------------------------------------------------------

    def _build(self, job_id: str, req: VoiceBuild, attempt: int) -> None:
        folder = self.folder(job_id)
        try:
            result = self._published(req) or self._create(job_id, req, folder, attempt)
            relabel(result, req, folder)
            message = "voice ready" if result.success else (result.errors[0].splitlines()[0] if result.errors else "")
            self.update(
                job_id,
                status="done" if result.success else "failed",
                progress=1.0,
                message=message,
                result=result.model_dump(mode="json"),
            )
        except Exception as exc:  # a bug, not a bad upload: the job must still end
            log.exception("voice job %s failed", job_id)
            failed = CloneResult(success=False, name=req.name, errors=[f"internal error: {type(exc).__name__}"])
            failed.error_code = "internal_error"
            self.update(job_id, status="failed", progress=1.0, message="internal error", result=failed.model_dump())
        shutil.rmtree(folder, ignore_errors=True)

    def _published(self, req: VoiceBuild) -> CloneResult | None:
        """The voice an earlier attempt of this job published before its worker died, if it got that far."""
        with self.service.db.session() as s:
            row = s.scalar(select(VoiceRow).where(VoiceRow.id == req.voice_id))
        if row is None:
            self.service.blobs.discard(req.voice_id)  # files an attempt left before its row: not a voice
            return None
        detail = self.service.get_user_voice(req.voice_id, row.user_id)
        stored = {
            **row.report,
            "success": True,
            "voice_id": req.voice_id,
            "name": detail.name,
            "sample_reports": [r.model_dump(mode="json") for r in detail.sample_reports],
            "characteristics": detail.characteristics.model_dump(mode="json"),
            "consent": detail.consent_record.model_dump(mode="json"),
        }
        return CloneResult.model_validate(stored)

    def _create(self, job_id: str, req: VoiceBuild, folder: Path, attempt: int) -> CloneResult:
        with self.service.db.session() as s:
            user_id = s.get(JobRow, job_id).user_id  # type: ignore[union-attr]
        consent = None
        if req.consent is not None:
            try:
                consent = self._consent(job_id, user_id, req, folder)
            except RealVoiceError as exc:
                return CloneResult(success=False, name=req.name, errors=[exc.message], error_code=exc.code)
        return self.service.create_voice(
            user_id,
            req.name,
            [folder / f.file for f in req.files],
            req.description,
            progress=self.progress(job_id, attempt),
            allow_duplicate=req.allow_duplicate,
            labels=[f.label for f in req.files],
            record_job=False,
            consent=consent,
            voice_id=req.voice_id,
        )

    def _consent(self, job_id: str, user_id: str, req: VoiceBuild, folder: Path) -> ConsentRecording:
        """Redeem the consent code once, and keep what it gave in the job, so a second attempt can check it."""
        given = req.consent
        assert given is not None
        if given.code is None:
            challenge = self.service.consent_challenges.redeem(user_id, given.challenge_id)
            given.speaker_name, given.code = challenge.speaker_name, challenge.code
            self.update(job_id, request=req.model_dump(mode="json"))
        return ConsentRecording(
            given.challenge_id,
            folder / given.recording,
            redeemed=Challenge(speaker_name=given.speaker_name or "", code=given.code or ""),
        )

    # --- a refinement ---------------------------------------------------------------------------------

    def _refine(self, job_id: str, req: VoiceRefine, attempt: int) -> None:
        """Refine the voice; the job ends done whether or not the voice improved (the result says which).
        A second attempt starts over: the voice is as the first left it, its old or its new version."""
        with self.service.db.session() as s:
            user_id = s.get(JobRow, job_id).user_id  # type: ignore[union-attr]
        try:
            result = self.service.refine(
                req.voice_id, user_id, progress=self.progress(job_id, attempt), record_job=False
            )
        except Exception as exc:  # a bug: the job must still end
            log.exception("refine job %s failed", job_id)
            result = RefineResult(
                success=False, voice_id=req.voice_id, errors=[f"internal error: {type(exc).__name__}"]
            )
            result.error_code = "internal_error"
        failure = result.errors[0] if result.errors else "failed"
        message = result.message if result.success else failure
        self.update(
            job_id,
            status="done" if result.success else "failed",
            progress=1.0,
            message=message[:200],
            result={"voice_id": req.voice_id, "refinement": result.model_dump(mode="json")},
        )

    # --- a long render --------------------------------------------------------------------------------

    def _render(self, job_id: str, req: SpeechRender, attempt: int) -> None:
        folder = self.service.settings.renders_dir / job_id
        with self.service.db.session() as s:
            user_id = s.get(JobRow, job_id).user_id  # type: ignore[union-attr]
        try:
            self.update(job_id, message="speaking")
            shutil.rmtree(folder, ignore_errors=True)  # what an attempt that died had written
            folder.mkdir(parents=True)
            result = self.service.render(
                req.voice_id,
                req.text,
                user_id,
                output_path=folder / f"speech.{req.format}",
                speed=req.speed,
                pitch_semitones=req.pitch_semitones,
                pause_scale=req.pause_scale,
                background_music=req.background_music,
                effects=req.effects,
                progress=self.progress(job_id, attempt),
                max_chars=self.service.settings.max_job_text_chars,
            )
            if not result.success:
                shutil.rmtree(folder, ignore_errors=True)
            speech = result.model_dump(mode="json", exclude={"audio_path"})
            kept = self.update(
                job_id,
                status="done" if result.success else "failed",
                progress=1.0,
                message="speech ready" if result.success else (result.errors[0] if result.errors else "failed"),
                result={"voice_id": req.voice_id, "speech": speech, "audio_file": f"speech.{req.format}"},
            )
            if not kept:  # the voice (and with it this job) was deleted while it spoke: no trace stays
                shutil.rmtree(folder, ignore_errors=True)
        except Exception:  # a bug: the job must still end, and leave no file
            log.exception("speech job %s failed", job_id)
            shutil.rmtree(folder, ignore_errors=True)
            failed = {"success": False, "errors": ["internal error"], "error_code": "internal_error"}
            self.update(
                job_id,
                status="failed",
                progress=1.0,
                message="internal error",
                result={"voice_id": req.voice_id, "speech": failed},
            )

    # --- the job's row ----------------------------------------------------------------------------------

    def progress(self, job_id: str, attempt: int = 1) -> Callable[[float, str], None]:
        """A progress callback that writes the job row at most every 0.25 s (and always at the end); on a
        second attempt each message says so, since the progress starts again from the beginning."""
        again = f" (attempt {attempt}: a worker stopped, another took over)" if attempt > 1 else ""
        return self.service.jobs.progress_writer(job_id, every_s=0.25, suffix=again)

    def update(self, job_id: str, **values: Any) -> bool:
        return self.service.jobs.update(job_id, **values)


def relabel(result: CloneResult, req: VoiceBuild, folder: Path) -> None:
    """Show each sample under the name the client gave the file, not the name we saved it as."""
    for report, upload in zip(result.sample_reports, req.files, strict=False):
        report.file = upload.label

    def swap(text: str) -> str:
        for upload in req.files:
            text = text.replace(upload.file, upload.label)
        return text

    result.errors = [swap(t) for t in result.errors]
    result.warnings = [swap(t) for t in result.warnings]
    result.recommendations = [swap(t) for t in result.recommendations]
