"""Which files and jobs belong to a live process: a lock file held for as long as the work runs.

The kernel drops a process's locks with its file descriptors, kill -9 included. So at start-up a
piece of work whose lease can be taken is abandoned and is cleaned up at once, whatever its age,
while the live work of another process on the same data folder (a CLI build beside the server,
several API processes) keeps its lease and is left alone. A lease is taken before the work creates
anything and given back only after the work's last write, so a missing lease file means abandoned.
"""

from __future__ import annotations

import contextlib
import re
import threading
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import StorageError

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


class Lease:
    """One held lock; ``release`` gives it back and removes its file (safe to call twice)."""

    def __init__(self, lock: FileLock) -> None:
        self._lock, self._released = lock, threading.Event()

    def release(self) -> None:
        if self._released.is_set():
            return
        self._released.set()
        self._lock.release(force=True)
        Path(self._lock.lock_file).unlink(missing_ok=True)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class HeldElsewhere:
    """The lease of a job that a parent process holds for the child running it: nothing to give back here."""

    def release(self) -> None:
        return None


class Leases:
    """Lease files in one folder, named by what they guard (``job-<id>``, ``staging-<id>``…)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ValueError(f"bad lease name {name!r}")
        return self.folder / f"{name}.lock"

    def hold(self, name: str) -> Lease:
        # thread_local=False: a job's lease is taken by the request's thread and given back by the worker's
        lock = FileLock(self._path(name), thread_local=False, is_singleton=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise StorageError(f"{name} is already held by another process") from None
        return Lease(lock)

    def abandoned(self, name: str) -> bool:
        """True when no live process holds the lease (its file is missing, or its lock can be taken)."""
        path = self._path(name)
        if not path.exists():
            return True
        lock = FileLock(path, thread_local=False, is_singleton=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return False
        lock.release(force=True)
        return True

    def clear(self, name: str) -> bool:
        """If the lease is abandoned, remove its file and answer True; names are unique to one piece of
        work, so no live process can be taking this lease again."""
        if not self.abandoned(name):
            return False
        with contextlib.suppress(OSError):
            self._path(name).unlink()
        return True
