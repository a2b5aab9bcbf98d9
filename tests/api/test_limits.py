"""The render line and the job slots: bounded waits, and refusals that say when to come back."""

from __future__ import annotations

import threading
import time

import pytest

from realvoice.api.errors import ApiError
from realvoice.api.limits import RenderQueue
from realvoice.jobs import JobSlots


def _hold(queue: RenderQueue, started: threading.Event, release: threading.Event, **kw: bool) -> threading.Thread:
    def run() -> None:
        with queue.slot(**kw):
            started.set()
            release.wait(30)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_full_line_is_turned_away_at_once_with_retry_after():
    queue = RenderQueue(workers=1, max_waiting=1, max_wait_s=30)
    running, release = threading.Event(), threading.Event()
    first = _hold(queue, running, release)
    assert running.wait(10)
    waiting = threading.Event()
    second = _hold(queue, waiting, release)  # waits in line: the line holds one
    for _ in range(1000):  # until the second one is in line
        if queue._waiting:
            break
        threading.Event().wait(0.01)
    with pytest.raises(ApiError) as refused, queue.slot():
        pass
    assert (refused.value.status, refused.value.code) == (503, "server_busy")
    assert int(refused.value.headers["Retry-After"]) >= 1
    release.set()
    first.join(10)
    second.join(10)
    assert waiting.is_set()  # the one in line got its turn


def test_a_wait_past_the_bound_is_turned_away_but_an_admitted_stream_waits_on():
    queue = RenderQueue(workers=1, max_waiting=5, max_wait_s=0.2)
    running, release = threading.Event(), threading.Event()
    holder = _hold(queue, running, release)
    assert running.wait(10)
    with pytest.raises(ApiError, match="busy"), queue.slot():
        pass
    admitted, done = threading.Event(), threading.Event()
    later = _hold(queue, admitted, done, admitted=True)
    assert not admitted.wait(0.5)  # past max_wait_s, still in line rather than refused
    release.set()
    assert admitted.wait(10)
    done.set()
    holder.join(10)
    later.join(10)


def test_job_slots_refuse_the_extra_job_with_a_retry_after_from_job_times(tmp_path):
    from realvoice.errors import BusyError
    from realvoice.store import Database, JobRow

    db = Database(f"sqlite:///{tmp_path / 'slots.db'}")
    slots, other = JobSlots(db, per_user=1, typical_s=70.0), JobSlots(db, per_user=1, typical_s=70.0)
    job = slots.reserve("alice", "voice")
    with pytest.raises(BusyError) as refused:
        other.reserve("alice", "voice")  # another process's view of the same database
    assert refused.value.code == "too_many_jobs"
    assert 60 <= int(refused.value.headers["Retry-After"]) <= 70
    other.reserve("bob", "voice")  # another user has their own slots
    with db.session() as s:
        s.get(JobRow, job).status = "done"  # a job gives its slot back by ending
    other.reserve("alice", "speech")
    assert slots.active("alice") == 1 and slots.active("carol") == 0
    dropped = slots.reserve("carol", "voice")
    slots.cancel(dropped)
    assert slots.active("carol") == 0


def test_a_rate_limit_is_one_budget_for_every_process_sharing_the_database(tmp_path):
    from realvoice.api.limits import RateLimiter
    from realvoice.store import Database
    from realvoice.store.rates import DbRateCounts

    db = Database(f"sqlite:///{tmp_path / 'rates.db'}")
    # two API processes: each its own limiter and connection, one table between them
    first, second = (RateLimiter(5, window_s=3600, counts=DbRateCounts(db)) for _ in range(2))
    for n in range(5):
        (first if n % 2 else second).hit("key")
    with pytest.raises(ApiError) as refused:
        first.hit("key")
    assert refused.value.code == "rate_limited" and 1 <= int(refused.value.headers["Retry-After"]) <= 7200
    with pytest.raises(ApiError):
        second.check("key")
    second.hit("another key")  # keys have their own budgets
    assert DbRateCounts(db).get("key", int(time.time() / 3600)) == 5  # refusals are not counted


def test_the_window_slides_rather_than_resetting_at_once():
    from realvoice.api.limits import RateLimiter

    now = [1000.0]
    limiter = RateLimiter(4, window_s=60.0, clock=lambda: now[0])
    for _ in range(4):
        limiter.hit("k")
    with pytest.raises(ApiError) as refused:
        limiter.hit("k")
    assert 35 <= int(refused.value.headers["Retry-After"]) <= 36  # 15 s into the next window (it starts at 1020 s)
    now[0] = 1021.0  # just into the next window: almost all of the last one still counts
    with pytest.raises(ApiError) as refused:
        limiter.hit("k")
    assert 14 <= int(refused.value.headers["Retry-After"]) <= 15  # when 4 x (1 - share) leaves room for one
    now[0] = 1036.0  # a quarter of the earlier window has faded: room for one more, not two
    limiter.hit("k")
    with pytest.raises(ApiError):
        limiter.hit("k")
