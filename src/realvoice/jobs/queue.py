"""Who runs a job: this process, in child processes (the embedded default) or threads, or a Celery worker."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, Protocol

from ..service import RealVoiceCloningService
from ..store.leases import Lease
from .work import JobWork

log = logging.getLogger("realvoice.jobs")


class JobQueue(Protocol):
    owner: Literal["local", "broker"]

    def submit(self, job_id: str, lease: Lease) -> None:
        """Hand over a job whose row holds its request; ``lease`` is held until the job is safe elsewhere."""

    def shutdown(self) -> None: ...


class ThreadQueue:
    """A small thread pool in this process; the job keeps the caller's lease until it ends, so a process
    that starts beside this one sees the job as alive even while it waits for a thread."""

    owner: Literal["local", "broker"] = "local"

    def __init__(self, service: RealVoiceCloningService, workers: int) -> None:
        self.service, self.work, self.workers = service, JobWork(service), max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, job_id: str, lease: Lease) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="realvoice-job")
            future = self._pool.submit(self._run, job_id, lease)
        future.add_done_callback(lambda _f: lease.release())

    def _run(self, job_id: str, lease: Lease) -> None:
        """Run the job on a pool thread (a subclass runs it elsewhere)."""
        self.work.run(job_id, lease)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class BrokerQueue:
    """Celery: the job's id goes to the broker, and whichever ``realvoice worker`` is free runs it."""

    owner: Literal["local", "broker"] = "broker"

    def __init__(self, service: RealVoiceCloningService) -> None:
        from .broker import celery_app

        self.app = celery_app(service.settings)

    def submit(self, job_id: str, lease: Lease) -> None:
        from .broker import TASK

        try:
            self.app.send_task(TASK, args=[job_id])
        finally:
            lease.release()  # the broker owns the job now; the worker that runs it takes the lease

    def shutdown(self) -> None:
        return None


def make_queue(service: RealVoiceCloningService, workers: int, in_child_processes: bool = True) -> JobQueue:
    """A task queue's workers where a broker is set; else this process runs the jobs, each in a child
    process (the default: see ``process.py``) or in its own threads."""
    if service.settings.broker_url:
        return BrokerQueue(service)
    if in_child_processes:
        from .process import ProcessQueue

        return ProcessQueue(service, workers)
    return ThreadQueue(service, workers)
