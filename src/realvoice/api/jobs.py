"""Voices are built off the event loop, in a small worker pool; each build is a job row the API can read."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..consent import ConsentRecording
from ..models import CloneResult
from ..service import RealVoiceCloningService
from ..store import JobRow
from ..store.blobs import new_id
from .limits import JobSlots
from .schemas import SpeechJobRequest
from .uploads import UploadForm

log = logging.getLogger("realvoice.api")
KIND = "voice"
SPEECH_KIND = "speech"


class JobRunner:
    """Starts voice builds in a thread pool, records their progress in the jobs table, frees the slot at the end."""

    def __init__(self, service: RealVoiceCloningService, slots: JobSlots, workers: int) -> None:
        self.service, self.slots, self.workers = service, slots, max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._running: set[Future[None]] = set()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="realvoice-job")
            return self._pool

    def start_voice(
        self,
        user_id: str,
        name: str,
        description: str,
        form: UploadForm,
        *,
        allow_duplicate: bool = False,
        consent: ConsentRecording | None = None,
    ) -> str:
        """Queue a build (the caller holds the user's slot, which the job gives back); returns the job id."""
        job_id = new_id()
        lease = self.service.leases.hold(f"job-{job_id}")
        with self.service.db.session() as s:
            s.add(JobRow(id=job_id, user_id=user_id, kind=KIND, status="queued", progress=0.0, message="queued"))
        future = self._executor().submit(
            self._build, job_id, user_id, name, description, form, allow_duplicate, consent
        )
        future.add_done_callback(lambda _f: lease.release())
        self._running.add(future)
        future.add_done_callback(self._running.discard)
        return job_id

    def _build(
        self,
        job_id: str,
        user_id: str,
        name: str,
        description: str,
        form: UploadForm,
        allow_duplicate: bool,
        consent: ConsentRecording | None,
    ) -> None:
        try:
            self._update(job_id, status="running", message="starting")
            result = self.service.create_voice(
                user_id,
                name,
                [f.path for f in form.files],
                description,
                progress=self._progress(job_id),
                allow_duplicate=allow_duplicate,
                labels=[f.label for f in form.files],
                record_job=False,
                consent=consent,
            )
            relabel(result, form)
            self._update(
                job_id,
                status="done" if result.success else "failed",
                progress=1.0,
                message="voice ready"
                if result.success
                else (result.errors[0].splitlines()[0] if result.errors else ""),
                result=result.model_dump(mode="json"),
            )
        except Exception as exc:  # a bug, not a bad upload: the job must still end
            log.exception("voice job %s failed", job_id)
            failed = CloneResult(success=False, name=name, errors=[f"internal error: {type(exc).__name__}"])
            failed.error_code = "internal_error"
            self._update(job_id, status="failed", progress=1.0, message="internal error", result=failed.model_dump())
        finally:
            form.cleanup()
            self.slots.give_back(user_id)

    def start_speech(self, user_id: str, voice_id: str, body: SpeechJobRequest) -> str:
        """Queue a long render in one of the user's job slots; returns the job id."""
        self.slots.take(user_id)
        job_id = new_id()
        lease = self.service.leases.hold(f"job-{job_id}")
        try:
            with self.service.db.session() as s:
                s.add(
                    JobRow(
                        id=job_id,
                        user_id=user_id,
                        kind=SPEECH_KIND,
                        status="queued",
                        progress=0.0,
                        message="queued",
                        result={"voice_id": voice_id},
                    )
                )
            future = self._executor().submit(self._render, job_id, user_id, voice_id, body)
        except BaseException:
            self.slots.give_back(user_id, ran=False)
            lease.release()
            raise
        future.add_done_callback(lambda _f: lease.release())
        self._running.add(future)
        future.add_done_callback(self._running.discard)
        return job_id

    def _render(self, job_id: str, user_id: str, voice_id: str, body: SpeechJobRequest) -> None:
        folder = self.service.settings.renders_dir / job_id
        try:
            self._update(job_id, status="running", message="speaking")
            folder.mkdir(parents=True, exist_ok=True)
            result = self.service.render(
                voice_id,
                body.text,
                user_id,
                output_path=folder / f"speech.{body.format}",
                speed=body.speed,
                pitch_semitones=body.pitch_semitones,
                background_music=body.background_music,
                effects=body.effects,
                progress=self._progress(job_id),
                max_chars=self.service.settings.max_job_text_chars,
            )
            if not result.success:
                shutil.rmtree(folder, ignore_errors=True)
            speech = result.model_dump(mode="json", exclude={"audio_path"})
            self._update(
                job_id,
                status="done" if result.success else "failed",
                progress=1.0,
                message="speech ready" if result.success else (result.errors[0] if result.errors else "failed"),
                result={"voice_id": voice_id, "speech": speech, "audio_file": f"speech.{body.format}"},
            )
        except Exception:  # a bug: the job must still end, and leave no file
            log.exception("speech job %s failed", job_id)
            shutil.rmtree(folder, ignore_errors=True)
            failed = {"success": False, "errors": ["internal error"], "error_code": "internal_error"}
            self._update(
                job_id,
                status="failed",
                progress=1.0,
                message="internal error",
                result={"voice_id": voice_id, "speech": failed},
            )
        finally:
            self.slots.give_back(user_id)

    def _progress(self, job_id: str) -> Callable[[float, str], None]:
        """A progress callback that writes the job row at most every 0.25 s (and always at the end)."""
        last = [0.0]

        def progress(fraction: float, message: str) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.25 or fraction >= 1.0:
                last[0] = now
                self._update(job_id, progress=min(max(float(fraction), 0.0), 1.0), message=message[:200])

        return progress

    def _update(self, job_id: str, **values: Any) -> None:
        with self.service.db.session() as s:
            job = s.get(JobRow, job_id)
            if job is not None:
                for key, value in values.items():
                    setattr(job, key, value)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def relabel(result: CloneResult, form: UploadForm) -> None:
    """Show each sample under the name the client gave the file, not the name we saved it as."""
    for report, upload in zip(result.sample_reports, form.files, strict=False):
        report.file = upload.label

    def swap(text: str) -> str:
        for upload in form.files:
            text = text.replace(upload.path.name, upload.label)
        return text

    result.errors = [swap(t) for t in result.errors]
    result.warnings = [swap(t) for t in result.warnings]
    result.recommendations = [swap(t) for t in result.recommendations]
