"""Start-up clears what a dead process left (uploads, staging, unpublished voices, unfinished jobs)
and leaves alone what a live process still holds."""

from __future__ import annotations

import pytest

from realvoice import RealVoiceCloningService
from realvoice.errors import StorageError
from realvoice.store import JobRow
from realvoice.store.blobs import new_id
from realvoice.store.leases import Leases


def _litter(home, job_status: str = "running") -> dict[str, str]:
    """What a process killed mid-work leaves: an upload, a staging folder, a published voice folder
    without its row, and a job still marked running."""
    ids = {k: new_id() for k in ("upload", "staging", "orphan", "job")}
    (home / "uploads" / f"upload-{ids['upload']}").mkdir(parents=True)
    (home / "uploads" / f"upload-{ids['upload']}" / "take1.wav").write_bytes(b"RIFF")
    (home / "staging" / ids["staging"]).mkdir(parents=True, exist_ok=True)
    (home / "staging" / ids["staging"] / "model.npz").write_bytes(b"half a model")
    (home / "voices" / ids["orphan"]).mkdir(parents=True, exist_ok=True)
    (home / "voices" / ids["orphan"] / "model.npz").write_bytes(b"model")
    (home / "renders" / ids["job"]).mkdir(parents=True, exist_ok=True)
    return ids


def _add_job(service: RealVoiceCloningService, job_id: str, kind: str = "clone") -> None:
    with service.db.session() as s:
        s.add(JobRow(id=job_id, user_id="alice", kind=kind, status="running", progress=0.4, message="fitting"))


def test_startup_clears_what_a_dead_process_left(tmp_path):
    home = tmp_path / "home"
    first = RealVoiceCloningService(home)
    ids = _litter(home)
    _add_job(first, ids["job"], kind="speech")
    first.close()

    again = RealVoiceCloningService(home)
    try:
        assert list((home / "uploads").iterdir()) == []
        assert list((home / "staging").iterdir()) == []
        assert list((home / "voices").iterdir()) == []
        assert not (home / "renders" / ids["job"]).exists()
        with again.db.session() as s:
            job = s.get(JobRow, ids["job"])
            assert job is not None
            assert (job.status, job.progress) == ("failed", 1.0)
            assert job.message == "interrupted: the process stopped before the speech was rendered"
    finally:
        again.close()


def test_startup_leaves_live_work_alone(tmp_path):
    """Another process on the same data folder (the server beside a CLI command) keeps its work."""
    home = tmp_path / "home"
    first = RealVoiceCloningService(home)
    ids = _litter(home)
    _add_job(first, ids["job"])
    live = Leases(home / "leases")  # a second holder of the same lock files, as another process would be
    held = [
        live.hold(f"upload-{ids['upload']}"),
        live.hold(f"staging-{ids['staging']}"),
        live.hold(f"staging-{ids['orphan']}"),
        live.hold(f"job-{ids['job']}"),
    ]
    try:
        other = RealVoiceCloningService(home)
        try:
            assert (home / "uploads" / f"upload-{ids['upload']}" / "take1.wav").exists()
            assert (home / "staging" / ids["staging"] / "model.npz").exists()
            assert (home / "voices" / ids["orphan"] / "model.npz").exists()
            with other.db.session() as s:
                assert s.get(JobRow, ids["job"]).status == "running"
        finally:
            other.close()
    finally:
        for lease in held:
            lease.release()
    first.close()
    assert list((home / "leases").iterdir()) == []  # a given-back lease leaves no file


def test_a_lease_is_held_once(tmp_path):
    leases = Leases(tmp_path)
    with leases.hold("job-abc"):
        with pytest.raises(StorageError, match="already held"):
            leases.hold("job-abc")
        assert not leases.abandoned("job-abc")
    assert leases.abandoned("job-abc")
    with pytest.raises(ValueError, match="bad lease name"):
        leases.hold("../escape")
