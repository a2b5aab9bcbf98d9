"""kill -9 of a real server (and of a CLI build) at the upload, the fit and the save: after the next
start-up no voice half-exists, no upload or staging file survives, and every job has ended."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from realvoice import RealVoiceCloningService
from realvoice.config import Settings
from realvoice.store import JobRow
from realvoice.store.db import Database
from realvoice.store.users import create_key

pytestmark = pytest.mark.slow

# A real server process.
SERVER = """
import sys
from realvoice.api.server import serve
serve("127.0.0.1", int(sys.argv[1]))
"""

# Imported by every Python process started with it on PYTHONPATH, the server's job processes included:
# with KILL_AT_SAVE, the process that saves a voice dies by SIGKILL halfway through writing the model file.
KILL_AT_SAVE = """
import os, signal
if os.environ.get("KILL_AT_SAVE"):
    from realvoice.engines import VoiceModel
    def die(self, path):
        path.write_bytes(b"half a model")
        os.kill(os.getpid(), signal.SIGKILL)
    VoiceModel.save = die
"""

# A CLI-style build (the service's own "clone" job) that dies by SIGKILL once the fit has started.
CLI_BUILD = """
import os, signal, sys
from sqlalchemy import select

from realvoice import RealVoiceCloningService
from realvoice.config import Settings
from realvoice.store import JobRow
from realvoice.store.db import Database
def progress(fraction, message):
    if fraction >= 0.6:
        os.kill(os.getpid(), signal.SIGKILL)
RealVoiceCloningService(sys.argv[1]).create_voice("crash", "Killed", sys.argv[2:], progress=progress)
"""


class Server:
    def __init__(self, home: Path, **env: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        environ = os.environ | {"REALVOICE_HOME": str(home), "REALVOICE_API_REQUESTS_PER_MINUTE": "100000"} | env
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=environ)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return
            except httpx.HTTPError:
                assert self.proc.poll() is None, "the server exited at start-up"
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


@pytest.fixture
def home(tmp_path) -> Iterator[tuple[Path, dict[str, str]]]:
    service = RealVoiceCloningService(tmp_path / "home")
    key = create_key(service.db, "crash")
    service.close()
    yield tmp_path / "home", {"Authorization": f"Bearer {key}"}


def multipart(paths: list[Path]) -> tuple[bytes, str]:
    request = httpx.Request(
        "POST",
        "http://x/",
        data={"name": "Crash", "consent": "true"},
        files=[("files", (p.name, p.read_bytes(), "audio/wav")) for p in paths],
    )
    return request.read(), request.headers["content-type"]


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError(f"never saw {what}")


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def assert_nothing_left(home: Path, headers: dict[str, str], jobs: list[str]) -> None:
    """Start the server again, then: no upload, no staging, no voice without its row, no lease, every job ended."""
    server = Server(home)
    try:
        assert files_under(home / "uploads") == []
        assert files_under(home / "staging") == []
        assert files_under(home / "jobs") == []
        assert files_under(home / "leases") == []
        voices = httpx.get(f"{server.url}/v1/voices", headers=headers).json()
        assert sorted(p.name for p in (home / "voices").iterdir()) == sorted(v["voice_id"] for v in voices)
        for job_id in jobs:
            job = httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=headers).json()
            assert job["status"] == "failed" and "interrupted" in job["message"], job
    finally:
        server.stop()
    db = Database(Settings(home=home).db_url, migrate=False)
    try:
        with db.session() as s:
            unfinished = s.scalars(select(JobRow.id).where(JobRow.status.in_(("queued", "running")))).all()
        assert unfinished == [], "every job has ended, the ones reserved for an upload included"
    finally:
        db.dispose()


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def test_killed_during_the_upload(home, piper_samples):
    folder, headers = home
    body, content_type = multipart(piper_samples)
    server = Server(folder)
    sent_half = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield body[: len(body) // 2]
        sent_half.set()
        time.sleep(60)  # the server is killed while it waits for the rest
        yield body[len(body) // 2 :]

    def post() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(f"{server.url}/v1/voices", content=slow_body(), headers=headers | {"content-type": content_type})

    threading.Thread(target=post, daemon=True).start()
    wait_until(lambda: sent_half.is_set() and files_under(folder / "uploads"), 60, "the upload on disk")
    server.kill()
    assert files_under(folder / "uploads")  # what the kill left behind, for the start-up to clear
    assert_nothing_left(folder, headers, [])


def test_killed_during_the_fit(home, piper_samples):
    """The server dies mid-fit: its job process dies with it, and the next start-up ends the job."""
    folder, headers = home
    body, content_type = multipart(piper_samples)
    server = Server(folder, REALVOICE_FIT_MODE="fast")
    r = httpx.post(f"{server.url}/v1/voices", content=body, headers=headers | {"content-type": content_type})
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]

    def fitting() -> bool:
        return httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=headers).json()["progress"] >= 60  # percent

    wait_until(fitting, 300, "the fit start")
    builders = children_of(server.proc.pid)
    assert builders, "the build runs in a child process of the server"
    server.kill()
    wait_until(lambda: not any(alive(pid) for pid in builders), 30, "the job process die with the server")
    assert_nothing_left(folder, headers, [job_id])


def test_a_job_process_killed_during_the_save(home, piper_samples, tmp_path):
    """The process building the voice dies halfway through writing it: the server stays up, ends the job
    and clears the half-saved voice at once, with no restart."""
    folder, headers = home
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(KILL_AT_SAVE)
    path = os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")])
    server = Server(folder, REALVOICE_FIT_MODE="nearest-stock", KILL_AT_SAVE="1", PYTHONPATH=path)
    try:
        body, content_type = multipart(piper_samples)
        r = httpx.post(f"{server.url}/v1/voices", content=body, headers=headers | {"content-type": content_type})
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]

        def ended() -> bool:
            return httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=headers).json()["status"] == "failed"

        wait_until(ended, 300, "the job end")
        job = httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=headers).json()
        assert "interrupted" in job["message"] and "signal 9" in job["message"], job
        assert server.proc.poll() is None, "the server survives its job process"
        assert files_under(folder / "staging") == [] and files_under(folder / "jobs") == []
        assert httpx.get(f"{server.url}/v1/voices", headers=headers).json() == []
    finally:
        server.stop()
    assert_nothing_left(folder, headers, [job_id])


def test_a_killed_cli_build_ends_its_job(home, piper_samples):
    folder, _ = home
    proc = subprocess.run([sys.executable, "-c", CLI_BUILD, str(folder), *map(str, piper_samples)], timeout=600)
    assert proc.returncode == -signal.SIGKILL
    service = RealVoiceCloningService(folder)  # the next start-up, as the next CLI command would do it
    try:
        with service.db.session() as s:
            jobs = s.scalars(select(JobRow)).all()
        assert [(j.kind, j.status) for j in jobs] == [("clone", "failed")]
        assert "interrupted" in jobs[0].message
        assert service.get_user_voices("crash") == []
        assert files_under(folder / "staging") == [] and files_under(folder / "leases") == []
    finally:
        service.close()


def test_killed_during_a_stream(home, piper_samples, monkeypatch):
    folder, headers = home
    monkeypatch.setenv("REALVOICE_FIT_MODE", "nearest-stock")
    service = RealVoiceCloningService(folder)
    try:
        voice_id = service.create_voice("crash", "Streamed", piper_samples).voice_id
    finally:
        service.close()
    before = sorted(p.relative_to(folder) for p in files_under(folder / "voices"))
    server = Server(folder)
    text = " ".join(["This sentence keeps the stream busy while the server is killed."] * 20)
    with httpx.stream(
        "POST", f"{server.url}/v1/voices/{voice_id}/speech/stream", json={"text": text}, headers=headers, timeout=120
    ) as r:
        assert r.status_code == 200
        next(r.iter_bytes())  # audio has started to flow
        server.kill()
    assert sorted(p.relative_to(folder) for p in files_under(folder / "voices")) == before
    assert_nothing_left(folder, headers, [])
    service = RealVoiceCloningService(folder)
    try:
        spoken = service.render(
            voice_id, "Still here after the crash.", "crash", output_path=folder.parent / "after.wav"
        )
        assert spoken.success and spoken.duration_s > 1.0, spoken
    finally:
        service.close()
