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

from ..store.leases import Lease
from .queue import ThreadQueue

log = logging.getLogger("realvoice.jobs")


class ProcessQueue(ThreadQueue):
    """At most ``workers`` jobs at once, each in a new child process; this process holds each job's
    lease until its child has exited, then ends a job the child left unfinished (a crash)."""

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
