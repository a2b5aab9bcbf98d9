"""One fit at a time on a data folder: a CLI build and a server's build take turns across processes, the one
that waits says so, its deadline starts when it has the cores, and a dead holder blocks nobody."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from realvoice.build_lock import WAITING, BuildLock
from realvoice.errors import BusyError

HOLD = """
import sys
from pathlib import Path
from realvoice.build_lock import BuildLock
with BuildLock(Path(sys.argv[1]), 600).hold():
    print("held", flush=True)
    sys.stdin.readline()  # holds until the test closes stdin
"""


class Holder:
    """Another process holding the folder's build lock, as a build in its fit does."""

    def __init__(self, folder: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout and self.proc.stdout.readline().strip() == "held"
        self.released_at = 0.0

    def release(self) -> None:
        self.released_at = time.perf_counter()
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(30)

    def release_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.release)
        timer.start()
        return timer


@pytest.fixture
def holder(tmp_path) -> Iterator[Holder]:
    h = Holder(tmp_path)
    yield h
    if h.proc.poll() is None:
        h.proc.kill()
        h.proc.wait(30)


def test_a_build_waits_for_another_process_and_says_so(tmp_path, holder):
    said: list[float] = []
    holder.release_after(2.0)
    with BuildLock(tmp_path, 60).hold(said.append) as waited:
        got_it = time.perf_counter()
    assert got_it >= holder.released_at > 0
    assert waited >= 1.9 and len(said) >= 2 and said == sorted(said)  # about once a second while it waits


def test_a_build_gives_up_after_the_longest_wait(tmp_path, holder):
    started = time.perf_counter()
    with pytest.raises(BusyError) as refused, BuildLock(tmp_path, 1.5).hold():
        pass
    assert refused.value.code == "build_wait_timeout" and time.perf_counter() - started >= 1.5


def test_a_killed_holder_blocks_nobody(tmp_path, holder):
    os.kill(holder.proc.pid, signal.SIGKILL)
    holder.proc.wait(30)
    said: list[float] = []
    with BuildLock(tmp_path, 60).hold(said.append) as waited:
        pass
    assert waited < 0.5 and said == []


def test_two_builds_in_one_process_take_turns(tmp_path):
    spans: list[tuple[float, float]] = []

    def build() -> None:
        with BuildLock(tmp_path, 60).hold():
            start = time.perf_counter()
            time.sleep(0.5)
            spans.append((start, time.perf_counter()))

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    (a_start, a_end), (b_start, b_end) = sorted(spans)
    assert a_end <= b_start


@pytest.mark.slow
def test_the_cli_waits_for_a_build_in_another_process(tmp_path, piper_samples):
    """``voices create`` beside a server whose build is fitting: it says it waits, then builds."""
    from realvoice.build_lock import BuildLock

    home = tmp_path / "home"
    env = os.environ | {"REALVOICE_FIT_MODE": "nearest-stock", "PYTHONPATH": os.pathsep.join(sys.path)}
    args = ["voices", "create", *map(str, piper_samples), "--name", "CLI voice", "--home", str(home)]
    with BuildLock(home, 600).hold():  # the other build's fit (this test process)
        cli = subprocess.Popen(
            [sys.executable, "-c", "from realvoice.cli import main; main()", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert cli.stdout
        lines = []
        for line in cli.stdout:
            lines.append(line)
            if WAITING in line:
                break
        assert any(WAITING in line for line in lines), "".join(lines)
        time.sleep(1.0)
        assert cli.poll() is None  # still waiting while the other build has the cores
    out, _ = cli.communicate(timeout=300)
    assert cli.returncode == 0, "".join(lines) + out
    assert "voice ready" in out


@pytest.mark.slow
@pytest.mark.parametrize("lock_dir", [None, "machine-locks"])
def test_a_server_build_waits_for_the_cli_and_keeps_its_whole_deadline(tmp_path, piper_samples, monkeypatch, lock_dir):
    """A REST build while another process (the CLI's build) fits: the job says it waits; its deadline
    counts from when it has the cores. The lock is in the data folder, or where build_lock_dir says."""
    from realvoice import RealVoiceCloningService, Settings
    from realvoice.store.users import create_key

    from .api.conftest import as_files, make_client, voice_form, wait_for_job

    home = tmp_path / "home"
    locks = tmp_path / lock_dir if lock_dir else None
    service = RealVoiceCloningService(settings=Settings(home=home, fit_mode="nearest-stock", build_lock_dir=locks))
    user = f"lock-{uuid.uuid4().hex[:6]}"
    headers = {"Authorization": f"Bearer {create_key(service.db, user)}"}
    deadlines: list[float] = []
    enroll = service.engine.enroll

    def timed_enroll(*args, deadline=None, **kwargs):
        deadlines.append(deadline.at)
        return enroll(*args, deadline=deadline, **kwargs)

    monkeypatch.setattr(service.engine, "enroll", timed_enroll)
    holder = Holder(locks or home)
    try:
        with make_client(service) as client:
            asked = time.perf_counter()
            accepted = client.post("/v1/voices", data=voice_form(), files=as_files(piper_samples), headers=headers)
            assert accepted.status_code == 202, accepted.text
            job_url = f"/v1/jobs/{accepted.json()['job_id']}"
            deadline = time.monotonic() + 300
            while WAITING not in (job := client.get(job_url, headers=headers).json())["message"]:
                assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
                time.sleep(0.2)
            waiting_seen = time.perf_counter()
            time.sleep(3.0)  # the other build fits on
            assert client.get(job_url, headers=headers).json()["status"] == "running" and not deadlines
            holder.release()
            job = wait_for_job(client, accepted.json()["job_id"], headers, timeout=300)
            assert job["status"] == "done", job
    finally:
        if holder.proc.poll() is None:
            holder.proc.kill()
        service.close()
    # The deadline is enroll_seconds after the build started, plus what it waited; counted from the build's
    # start alone it would fall within the upload's second or so of ``asked``, not 3 s and more after it.
    (at,) = deadlines
    assert at - service.settings.enroll_seconds - asked >= holder.released_at - waiting_seen >= 3.0
