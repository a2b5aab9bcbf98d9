"""Per-user job slots that every API process and worker sees: a slot is a job row still queued or running.

Taking a slot inserts the job's row, so the count and the row are one step under one lock (an advisory
lock on PostgreSQL, a lock file beside SQLite); a job gives its slot back by ending, and a job whose
process died is ended by the janitor (local jobs) or run again by another worker (queued ones).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy import delete, func, select

from ..errors import BusyError
from ..store import JobRow
from ..store.db import Database
from ..store.jobs import add_job

ACTIVE = ("queued", "running")


class JobSlots:
    """At most ``per_user`` unfinished jobs per user; one more is refused with a wait from recent jobs' times."""

    def __init__(self, db: Database, per_user: int, typical_s: float = 90.0) -> None:
        self.db, self.per_user, self.typical_s = db, per_user, typical_s

    def reserve(self, user_id: str, kind: str, message: str = "queued", *, voice_id: str | None = None) -> str:
        """Make the job's row (queued) in one of the user's slots; returns its id.

        ``voice_id`` (a refinement): the job works on this voice, and its row names it from the start
        (deleting the voice finds the job); while one is unfinished, another is refused."""
        with self.db.locked(f"slots:{user_id}") as s:
            active = s.execute(
                select(JobRow.created_at, JobRow.kind, JobRow.result).where(
                    JobRow.user_id == user_id, JobRow.status.in_(ACTIVE)
                )
            ).all()
            started = [at for at, _, _ in active]
            if voice_id is not None and any(k == kind and (r or {}).get("voice_id") == voice_id for _, k, r in active):
                raise BusyError(
                    "this voice is already being refined; follow that job, or wait for it to end",
                    code="refine_running",
                    retry_after_s=60,
                )
            if len(started) >= self.per_user:
                retry = max(5, math.ceil(self._typical(s) - _age(min(started))))
                raise BusyError(
                    f"you already have {len(started)} job(s) running (voice builds or long renders); "
                    f"wait for one to finish (at most {self.per_user} at once), about {retry} s",
                    code="too_many_jobs",
                    retry_after_s=retry,
                )
            job_id = add_job(s, user_id, kind, "queued", message, {"voice_id": voice_id} if voice_id else None)
        return job_id

    def cancel(self, job_id: str) -> None:
        """Drop a job that never started (its upload failed): the slot is free again, nothing is left."""
        with self.db.session() as s:
            s.execute(delete(JobRow).where(JobRow.id == job_id, JobRow.status == "queued"))

    def active(self, user_id: str) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).where(JobRow.user_id == user_id, JobRow.status.in_(ACTIVE))) or 0)

    def _typical(self, s) -> float:
        """The mean time of the last jobs that ended well (from queued to done), or the default."""
        rows = s.execute(
            select(JobRow.created_at, JobRow.updated_at)
            .where(JobRow.status == "done", JobRow.kind.in_(("voice", "speech")))
            .order_by(JobRow.updated_at.desc())
            .limit(10)
        ).all()
        took = [(_utc(end) - _utc(start)).total_seconds() for start, end in rows if start and end]
        return sum(took) / len(took) if took else self.typical_s


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _age(moment: datetime) -> float:
    return (datetime.now(UTC) - _utc(moment)).total_seconds()
