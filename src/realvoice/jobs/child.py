"""One job in a child process of the API server: ``python -m realvoice.jobs.child JOB_ID PARENT_PID``,
with the parent's settings as JSON on standard input.

The parent holds the job's lease while the child runs, and the child dies with its parent (Linux's
parent-death signal), so a killed server never leaves a build running that nobody owns.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel for SIGKILL when the parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(70)


def main(argv: list[str]) -> int:
    job_id, parent_pid = argv[1], int(argv[2])
    die_with_parent(parent_pid)
    from ..config import Settings
    from ..service import RealVoiceCloningService
    from ..store.blobs import check_id
    from ..store.leases import HeldElsewhere
    from .work import JobWork

    settings = Settings.model_validate_json(sys.stdin.buffer.read())
    service = RealVoiceCloningService(settings=settings)
    try:
        JobWork(service).run(check_id(job_id, "job id"), lease=HeldElsewhere())
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
