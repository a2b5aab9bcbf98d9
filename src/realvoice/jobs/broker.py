"""The Celery side: one task, ``realvoice.run_job(job_id)``, and the ``realvoice worker`` process.

A task is acknowledged only when it has finished (``acks_late``), and a task whose worker process
died is handed out again (``task_reject_on_worker_lost``; with Redis, after the visibility timeout).
Running a job twice is harmless (see ``work.py``): a job that ended is skipped, and one still running
elsewhere is asked for again later.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery, Task

from ..config import Settings

TASK = "realvoice.run_job"
QUEUE = "realvoice"
log = logging.getLogger("realvoice.jobs")
_work: Any = None
_work_lock = threading.Lock()


def celery_app(settings: Settings) -> Celery:
    app = Celery("realvoice", broker=settings.broker_url, set_as_current=False)
    visibility = float(settings.task_visibility_s)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a build is minutes of CPU: never hold one back behind another
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # the job's row is the result
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        broker_transport_options={
            "visibility_timeout": visibility,
            # look for the unacknowledged tasks of dead workers often enough to honour the timeout
            "unacked_restore_interval": max(1, int(visibility / 4)),
            "unacked_restore_throttle": 1,
        },
    )
    app.task(name=TASK, bind=True, max_retries=None)(_run_job)
    return app


def _run_job(task: Task, job_id: str) -> str:
    from .work import Outcome

    outcome = _worker_jobs().run(job_id)
    if outcome is Outcome.BUSY:  # another live worker has it (a redelivery while it runs): look again later
        settings = _worker_jobs().service.settings
        raise task.retry(countdown=max(5.0, settings.task_visibility_s / 2))
    return outcome.value


def _worker_jobs():
    """One service per worker process, made on its first task (models load once, then stay)."""
    global _work
    with _work_lock:
        if _work is None:
            from ..service import RealVoiceCloningService
            from .work import JobWork

            _work = JobWork(RealVoiceCloningService())
        return _work


def run_worker(concurrency: int = 1, loglevel: str = "INFO") -> None:
    """Run a worker until it is stopped: one process per job at a time (``solo``) for one job at once,
    else a pool of ``concurrency`` processes, each with its own models."""
    app = celery_app(Settings())
    pool = "solo" if concurrency <= 1 else "prefork"
    argv = ["worker", f"--pool={pool}", f"--concurrency={max(1, concurrency)}", f"--loglevel={loglevel}"]
    argv += ["--queues", QUEUE, "--without-gossip", "--without-mingle", "--without-heartbeat"]
    app.worker_main(argv)
