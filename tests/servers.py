"""Real servers for the tests, from Debian's packages (``make services`` installs them): each is
started in a temporary folder on a free port and stopped afterwards; where the package is missing
the tests that need it skip and say how to install it."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; the Debian package's ``postgres`` account runs it then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _wait_for_port(port: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start listening on port {port} within {timeout_s:.0f} s")


def _stop_when_gone(pid: int, stop: list[str], folder: Path) -> None:
    """Run ``stop`` and remove ``folder`` once process ``pid`` has ended, however it ended (a killed
    test run included)."""
    watch = (
        f"while kill -0 {pid} 2>/dev/null; do sleep 1; done; "
        f"{shlex.join(stop)} >/dev/null 2>&1; rm -rf {shlex.quote(str(folder))}"
    )
    subprocess.Popen(["sh", "-c", watch], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def postgres_server(folder: Path) -> Iterator[str]:
    """A PostgreSQL server with an empty ``realvoice`` database; yields its SQLAlchemy URL."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; `make services` installs it)")
    bin_dir = Path(bins[-1]).parent
    data = folder / "pgdata"
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    subprocess.run(
        _as_postgres_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    stop = _as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
    _stop_when_gone(os.getpid(), stop, folder)  # before the start, so no moment leaves a server behind
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} -c fsync=off"
    log = folder / "postgres.log"
    subprocess.run(
        _as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        _wait_for_port(port, 30, "PostgreSQL")
        subprocess.run(
            _as_postgres_user(
                [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "realvoice"]
            ),
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/realvoice"
    finally:
        subprocess.run(stop, capture_output=True)


def fresh_database(url: str, name: str) -> str:
    """A new, empty database on the same server (one per test that needs a clean schema)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A Redis server (no persistence) on a free port; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("Redis is not installed (Debian package redis-server; `make services` installs it)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _stop_when_gone(os.getpid(), ["kill", "-9", str(server.pid)], folder)
    try:
        _wait_for_port(port, 30, "Redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait(10)
