"""At start-up, clear what a process that died (kill -9, power cut) left: uploads, staging folders,
voice folders it published without their rows, model versions a refinement wrote but never made the
voice's (or replaced without removing), and jobs it would never finish.

Only work whose lease nobody holds is touched (see ``leases.py``), so another live process on the
same data folder keeps its uploads, its half-built voice and its running jobs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from .blobs import FileBlobStore
from .db import Database, JobRow, VoiceRow
from .jobs import fail_unfinished
from .leases import Leases

INTERRUPTED = {
    "voice": "the voice was built",
    "clone": "the voice was built",
    "speech": "the speech was rendered",
    "refine": "the voice was refined (the voice is as it was before)",
}


@dataclass
class Swept:
    uploads: int = 0
    staging: int = 0
    orphans: int = 0
    versions: int = 0
    jobs: int = 0


def sweep_abandoned(
    db: Database, blobs: FileBlobStore, leases: Leases, uploads: Path, renders: Path, jobs: Path
) -> Swept:
    swept = Swept()
    swept.uploads = _sweep_folders(uploads, leases)
    swept.staging = _sweep_folders(blobs.staging_dir, leases, prefix="staging-")
    swept.orphans = _sweep_orphans(db, blobs, leases)
    swept.versions = _sweep_versions(db, blobs, leases)
    swept.jobs = _fail_abandoned_jobs(db, leases, renders)
    swept.uploads += _sweep_job_folders(db, jobs)
    return swept


def _sweep_folders(parent: Path, leases: Leases, prefix: str = "") -> int:
    """Folders under ``parent`` whose lease (``prefix`` + the folder's name) nobody holds."""
    if not parent.is_dir():
        return 0
    count = 0
    for path in parent.iterdir():
        name = prefix + path.name
        if _leasable(name) and leases.abandoned(name):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            leases.clear(name)
            count += 1
    return count


def _sweep_orphans(db: Database, blobs: FileBlobStore, leases: Leases) -> int:
    """Voice folders without a row: the process died between publishing the files and committing the row."""
    with db.session() as s:
        known = set(s.scalars(select(VoiceRow.id)).all())
    count = 0
    for path in blobs.orphans(known):
        if leases.abandoned(f"staging-{path.name}"):
            shutil.rmtree(path, ignore_errors=True)
            count += 1
    return count


def _sweep_versions(db: Database, blobs: FileBlobStore, leases: Leases) -> int:
    """Model files no row names, in voices that no live refinement holds (``refine-<id>``)."""
    with db.session() as s:
        rows = s.execute(select(VoiceRow.id, VoiceRow.model_file)).all()
    count = 0
    for voice_id, in_use in rows:
        stray = blobs.stray_versions(voice_id, in_use)
        if stray and leases.abandoned(f"refine-{voice_id}"):
            for path in stray:
                path.unlink(missing_ok=True)
                count += 1
    return count


def _fail_abandoned_jobs(db: Database, leases: Leases, renders: Path) -> int:
    """Unfinished jobs no live process holds, except those a task queue owns: the broker hands a dead
    worker's job to another worker, so their lease is free whenever they wait in the queue."""
    with db.session() as s:
        rows = s.execute(
            select(JobRow.id, JobRow.kind, JobRow.request).where(JobRow.status.in_(("queued", "running")))
        ).all()
    count = 0
    for job_id, kind, request in rows:
        if (request or {}).get("queue") == "broker" or not leases.abandoned(f"job-{job_id}"):
            continue
        what = INTERRUPTED.get(kind, "the job finished")
        # only if still unfinished: its owner may have ended it (and let go) since the select
        ended = fail_unfinished(db, job_id, f"interrupted: the process stopped before {what}")
        leases.clear(f"job-{job_id}")
        if ended:
            shutil.rmtree(renders / job_id, ignore_errors=True)
            count += 1
    return count


def _sweep_job_folders(db: Database, jobs: Path) -> int:
    """A job's inputs once its job has ended or is gone (a worker died after the end, before removing them)."""
    if not jobs.is_dir():
        return 0
    with db.session() as s:
        live = set(s.scalars(select(JobRow.id).where(JobRow.status.in_(("queued", "running")))).all())
    count = 0
    for path in jobs.iterdir():
        if path.name not in live:
            shutil.rmtree(path, ignore_errors=True)
            count += 1
    return count


def _leasable(name: str) -> bool:
    return name.replace("-", "").replace("_", "").isalnum() and len(name) <= 100
