"""Jobs in child processes: the server's default without a task queue.

A voice build loads gigabytes (the fit's PyTorch copy of the model, the recogniser, the speaker
encoders) that a process keeps once it has them. Run in a child, all of it goes back to the system
when the job ends, and the API process stays the size that serving speech needs.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from ..service import RealVoiceCloningService
from ..store.leases import Lease

log = logging.getLogger("realvoice.jobs")


class ProcessQueue:
    """At most ``workers`` jobs at once, each in a new child process; this process holds each job's
    lease until its child has exited, then ends a job the child left unfinished (a crash)."""

    owner: Literal["local", "broker"] = "local"

    def __init__(self, service: RealVoiceCloningService, workers: int) -> None:
        self.service, self.workers = service, max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, job_id: str, lease: Lease) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="realvoice-job")
            future = self._pool.submit(self._run, job_id, lease)
        future.add_done_callback(lambda _f: lease.release())

    def _run(self, job_id: str, lease: Lease) -> None:
        try:
            code = self._child(job_id)
        except Exception:  # the child could not even start (no memory, no such interpreter): the job ends
            log.exception("job %s: its process could not be started", job_id)
            self._end_crashed(job_id, lease, "could not be started")
            return
        if code != 0:
            self._end_crashed(job_id, lease, f"was killed (signal {-code})" if code < 0 else f"stopped ({code})")

    def _child(self, job_id: str) -> int:
        # started from this pool thread, which waits for it: the child's parent-death signal follows the
        # thread that started it, and this one lives exactly as long as the child
        child = subprocess.Popen(
            [sys.executable, "-m", "realvoice.jobs.child", job_id, str(os.getpid())], stdin=subprocess.PIPE
        )
        assert child.stdin is not None
        with child.stdin:
            child.stdin.write(self.service.settings.model_dump_json().encode())
        return child.wait()

    def _end_crashed(self, job_id: str, lease: Lease, how: str) -> None:
        log.error("the process running job %s %s", job_id, how)
        self.service.jobs.fail_unfinished(job_id, f"interrupted: the process running the job {how}")
        lease.release()
        self.service.sweep()  # its half-saved voice, its uploads

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
