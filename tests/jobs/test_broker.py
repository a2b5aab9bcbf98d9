"""Voice builds on a real task queue: Redis, PostgreSQL, two `realvoice worker` processes and two API
processes. Builds use the nearest-stock mode (the whole pipeline but the fit) to keep the test short."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from realvoice.store import Database, JobRow, VoiceRow
from realvoice.store.users import create_key

from ..servers import free_port, fresh_database, redis_server

pytestmark = pytest.mark.slow
REALVOICE = str(Path(sys.executable).with_name("realvoice"))


@dataclass
class Cluster:
    home: Path
    env: dict[str, str]
    db: Database
    procs: list[subprocess.Popen] = field(default_factory=list)

    def worker(self) -> subprocess.Popen:
        proc = subprocess.Popen([REALVOICE, "worker"], env=self.env, stdout=self._log(), stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def api(self) -> str:
        port = free_port()
        cmd = [REALVOICE, "serve", "--port", str(port), "--no-require-consent"]
        proc = subprocess.Popen(cmd, env=self.env, stdout=self._log(), stderr=subprocess.STDOUT)
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                return url
            except httpx.HTTPError:
                assert proc.poll() is None, "the API process exited at start-up"
                time.sleep(0.2)
        raise AssertionError("the API process did not start")

    def _log(self):
        """Each process's output in a file beside the data folder, to read when a test fails."""
        return open(self.home.parent / f"process-{len(self.procs)}.log", "wb")  # noqa: SIM115

    def key(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_key(self.db, name)}"}

    def wait_ended(self, job_ids: list[str], timeout: float) -> dict[str, JobRow]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.session() as s:
                rows = {r.id: r for r in s.scalars(select(JobRow).where(JobRow.id.in_(job_ids)))}
            if len(rows) == len(job_ids) and all(r.status in ("done", "failed") for r in rows.values()):
                return rows
            assert all(p.poll() is None for p in self.procs if p.returncode is None)
            time.sleep(0.5)
        raise AssertionError(f"jobs still unfinished after {timeout:.0f} s")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


@pytest.fixture
def cluster(tmp_path, postgres_url) -> Iterator[Cluster]:
    with redis_server(tmp_path / "redis") as broker:
        url = fresh_database(postgres_url, f"queue_{uuid.uuid4().hex[:8]}")
        env = os.environ | {
            "REALVOICE_HOME": str(tmp_path / "home"),
            "REALVOICE_DATABASE_URL": url,
            "REALVOICE_BROKER_URL": broker,
            "REALVOICE_TASK_VISIBILITY_S": "8",
            "REALVOICE_FIT_MODE": "nearest-stock",
            "REALVOICE_THREADS": "1",
            "REALVOICE_API_JOBS_PER_USER": "2",
            "REALVOICE_API_REQUESTS_PER_MINUTE": "12",
        }
        db = Database(url)
        cluster = Cluster(tmp_path / "home", env, db)
        try:
            yield cluster
        finally:
            cluster.stop()
            db.dispose()


def upload(api: str, headers: dict[str, str], samples: list[Path]) -> httpx.Response:
    files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in samples]
    form = {"name": "Joe", "consent": "true", "allow_duplicate": "true"}
    return httpx.post(f"{api}/v1/voices", data=form, files=files, headers=headers, timeout=60)


def test_four_builds_from_two_users_on_two_workers_and_two_api_processes(cluster, piper_samples):
    workers = [cluster.worker(), cluster.worker()]
    apis = [cluster.api(), cluster.api()]
    users = [cluster.key(f"queue-user-{n}") for n in range(2)]
    jobs = []
    for headers in users:
        for api in apis:  # one build through each API process
            r = upload(api, headers, piper_samples)
            assert r.status_code == 202, r.text
            jobs.append(r.json()["job_id"])
    # both of the first user's slots are taken, whichever process is asked
    refused = upload(apis[0], users[0], piper_samples)
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_jobs"
    assert int(refused.headers["retry-after"]) >= 5

    # progress is read from the database, so another API process streams the events of this job
    with httpx.stream("GET", f"{apis[1]}/v1/jobs/{jobs[0]}/events", headers=users[0], timeout=600) as events:
        lines = [line for line in events.iter_lines() if line.startswith("event:")]
    assert lines[-1] == "event: done"

    rows = cluster.wait_ended(jobs, timeout=600)
    assert all(p.poll() is None for p in workers)
    assert [rows[j].status for j in jobs] == ["done"] * 4, [rows[j].message for j in jobs]
    voice_ids = [rows[j].result["voice_id"] for j in jobs]
    with cluster.db.session() as s:
        assert s.scalar(select(func.count()).select_from(VoiceRow)) == 4 == len(set(voice_ids))
    assert sorted(p.name for p in (cluster.home / "voices").iterdir()) == sorted(voice_ids)
    assert not list((cluster.home / "jobs").iterdir())  # each build's uploads went with it

    # one request budget per key, whichever process counts it: 12 a minute in all, not 12 each
    headers = cluster.key("queue-rate")
    codes = [httpx.get(f"{apis[n % 2]}/v1/voices", headers=headers).status_code for n in range(14)]
    assert codes.count(200) == 12 and codes[-1] == 429


def test_a_killed_worker_hands_its_build_to_another(cluster, piper_samples):
    first = cluster.worker()
    api = cluster.api()
    headers = cluster.key("queue-killed")
    r = upload(api, headers, piper_samples)
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    deadline = time.monotonic() + 300
    while True:  # kill -9 the worker once the build is well under way
        with cluster.db.session() as s:
            job = s.get(JobRow, job_id)
            assert job is not None
        if job.status == "running" and job.progress >= 0.1:
            break
        assert job.status in ("queued", "running") and time.monotonic() < deadline, job.message
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    cluster.worker()

    with httpx.stream("GET", f"{api}/v1/jobs/{job_id}/events", headers=headers, timeout=600) as events:
        data = [json.loads(line[5:]) for line in events.iter_lines() if line.startswith("data:")]
    assert any("attempt 2" in d.get("message", "") for d in data), [d.get("message") for d in data]
    done = data[-1]
    assert done["status"] == "done" and done["attempts"] == 2, done
    with cluster.db.session() as s:
        voices = s.scalars(select(VoiceRow.id)).all()
        assert s.get(JobRow, job_id).attempts == 2
    assert voices == [done["voice_id"]]
    assert [p.name for p in (cluster.home / "voices").iterdir()] == voices
    assert not list((cluster.home / "staging").iterdir())
