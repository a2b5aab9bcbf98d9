"""Job rows: one store for the jobs of the CLI, the Python API and the REST API."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from ..errors import RealVoiceError
from ..progress import Progress
from .blobs import check_id, new_id
from .db import Database, JobRow
from .leases import Lease, Leases

JobStatus = Literal["queued", "running", "done", "failed"]
STATUSES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class JobRecord:
    """A job as its owner sees it."""

    job_id: str
    kind: str  # "clone" (CLI, Python), "voice" and "speech" (REST), "refine" (all)
    status: JobStatus
    progress: float  # 0-1
    message: str
    result: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    request: dict[str, Any] = field(default_factory=dict)  # what it was asked to do (a jobs.records model)
    created_at: datetime | None = None


def add_job(
    s: Session, user_id: str, kind: str, status: JobStatus, message: str, result: dict[str, Any] | None = None
) -> str:
    """Insert a new job row in the caller's session (so a caller holding a lock adds it under that lock)."""
    job_id = new_id()
    s.add(JobRow(id=job_id, user_id=user_id, kind=kind, status=status, progress=0.0, message=message, result=result))
    return job_id


def fail_unfinished(db: Database, job_id: str, message: str) -> bool:
    """End the job as failed unless it has already ended, in one statement (its owner may be ending it
    at the same moment); True if this call ended it."""
    with db.session() as s:
        done = s.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status.in_(("queued", "running")))
            .values(status="failed", progress=1.0, message=message[:200])
        )
        return bool(getattr(done, "rowcount", 0))


class JobStore:
    def __init__(self, db: Database, leases: Leases, renders_dir: Path) -> None:
        self.db, self.leases, self.renders_dir = db, leases, renders_dir
        self._leases: dict[str, Lease] = {}

    def start(self, user_id: str, kind: str, result: dict[str, Any] | None = None) -> tuple[str, Progress]:
        """A running job, held by this process until :meth:`finish`, and its progress writer; ``result``:
        what is known from the start (a refinement names its voice, so deleting the voice finds the job)."""
        with self.db.session() as s:
            job_id = add_job(s, user_id, kind, "running", "queued", result)
            self._leases[job_id] = self.leases.hold(f"job-{job_id}")
        return job_id, self.progress_writer(job_id, every_s=0.5)

    def progress_writer(self, job_id: str, every_s: float, suffix: str = "") -> Progress:
        """Writes progress at most every ``every_s`` seconds (and always at the end)."""
        last = [0.0]

        def update(fraction: float, message: str) -> None:
            now = time.monotonic()
            if now - last[0] < every_s and fraction < 1.0:
                return
            last[0] = now
            text = message[:200] + (suffix if fraction < 1.0 else "")
            self.update(job_id, progress=round(min(max(float(fraction), 0.0), 1.0), 3), message=text)

        return update

    def update(self, job_id: str, **values: Any) -> bool:
        """Set the row's fields; False if the job is gone (deleted with its voice, or by its owner)."""
        with self.db.session() as s:
            job = s.get(JobRow, job_id)
            if job is None:
                return False
            for key, value in values.items():
                setattr(job, key, value)
            return True

    def finish(self, job_id: str, ok: bool, result: dict[str, Any]) -> None:
        with self.db.session() as s:
            job = s.get(JobRow, job_id)
            if job is not None:
                job.status, job.progress, job.result = ("done" if ok else "failed"), 1.0, result
                if not ok:
                    job.message = str(result.get("error", "failed"))[:200]
        lease = self._leases.pop(job_id, None)
        if lease is not None:
            lease.release()

    def fail_unfinished(self, job_id: str, message: str) -> bool:
        """End the job as failed unless it has already ended; True if this call ended it."""
        return fail_unfinished(self.db, job_id, message)

    def get(self, job_id: str, user_id: str) -> JobRecord:
        """The user's job; another user's job reads exactly as a missing one."""
        with self.db.session() as s:
            job = s.get(JobRow, job_id)
            if job is None or job.user_id != user_id:
                raise RealVoiceError(f"job {job_id!r} not found", code="job_not_found")
            return _record(job)

    def recent(self, user_id: str, kind: str, limit: int) -> list[JobRecord]:
        """The user's newest jobs of one kind, newest first."""
        with self.db.session() as s:
            return [_record(job) for job in s.scalars(_newest(user_id, kind).limit(limit)).all()]

    def prune(self, user_id: str, kind: str, keep: int) -> int:
        """Delete the user's ended jobs of one kind, with their files, beyond the newest ``keep``;
        unfinished ones are never touched. Returns how many went."""
        with self.db.session() as s:
            old = s.scalars(_newest(user_id, kind).offset(keep)).all()
            ended = [job for job in old if job.status in ("done", "failed")]
            for job in ended:
                shutil.rmtree(self.renders_dir / check_id(job.id, "job id"), ignore_errors=True)
                s.delete(job)
            return len(ended)

    def delete(self, job_id: str, user_id: str) -> bool:
        """Remove the user's job row and anything it rendered; False if the user has no such job."""
        with self.db.session() as s:
            job = s.get(JobRow, job_id)
            if job is None or job.user_id != user_id:
                return False
            shutil.rmtree(self.renders_dir / check_id(job.id, "job id"), ignore_errors=True)
            s.delete(job)
            return True


def _newest(user_id: str, kind: str) -> Select[JobRow]:
    """The user's jobs of one kind, newest first."""
    return (
        select(JobRow)
        .where(JobRow.user_id == user_id, JobRow.kind == kind)
        .order_by(JobRow.created_at.desc(), JobRow.id.desc())
    )


def _record(job: JobRow) -> JobRecord:
    return JobRecord(
        job_id=job.id,
        kind=job.kind,
        status=cast(JobStatus, job.status if job.status in STATUSES else "running"),
        progress=float(job.progress or 0.0),
        message=job.message or "",
        result=dict(job.result or {}),
        attempts=int(job.attempts or 0),
        request=dict(job.request or {}),
        created_at=job.created_at,
    )
