"""One voice fit at a time on a data folder: the CLI, the server's jobs and its workers take turns.

A fit is bound by its deadline and uses every core it is given, so two fits at once each do a fraction of
their work in their time, and both reports still praise the result (issue 24). So a build waits while
another fits, saying so, and its deadline counts from when it has the cores. The lock is a file in the
data folder, which the kernel drops with its holder (kill -9 included): a dead build never blocks the next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import BusyError

WAITING = "waiting for another build to finish"
_POLL_S = 1.0  # how often a waiting build says it is still waiting (a job row keeps the last word)


class BuildLock:
    """``with lock.hold(waiting) as waited:`` runs the block once no other build on the folder is fitting."""

    def __init__(self, folder: Path, max_wait_s: float) -> None:
        self.path = folder / "build.lock"
        self.max_wait_s = max_wait_s

    @contextmanager
    def hold(self, waiting: Callable[[float], None] | None = None) -> Iterator[float]:
        """Hold the lock for the block, which gets the seconds spent waiting for it; ``waiting(seconds)`` is
        called about every second while another build has it. After ``max_wait_s`` the build is refused."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # is_singleton=False and one object per call: two builds in one process (threads) take turns too
        lock = FileLock(self.path, thread_local=False, is_singleton=False)
        start = time.perf_counter()
        timeout = 0.0
        while True:
            try:
                lock.acquire(timeout=timeout)
                break
            except Timeout:
                waited = time.perf_counter() - start
                if waited >= self.max_wait_s:
                    raise BusyError(
                        f"another voice build has been running for over {waited:.0f} s on this data folder; "
                        "try again when it has finished",
                        code="build_wait_timeout",
                        retry_after_s=60,
                    ) from None
                if waiting is not None:
                    waiting(waited)
                timeout = _POLL_S
        try:
            yield time.perf_counter() - start
        finally:
            lock.release(force=True)
