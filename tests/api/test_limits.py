"""The render line and the job slots: bounded waits, and refusals that say when to come back."""

from __future__ import annotations

import threading

import pytest

from realvoice.api.errors import ApiError
from realvoice.api.limits import JobSlots, RenderQueue


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


def test_job_slots_refuse_the_extra_job_with_a_retry_after_from_job_times():
    slots = JobSlots(per_user=1, typical_s=70.0)
    slots.take("alice")
    with pytest.raises(ApiError) as refused:
        slots.take("alice")
    assert (refused.value.status, refused.value.code) == (429, "too_many_jobs")
    assert 60 <= int(refused.value.headers["Retry-After"]) <= 70
    slots.take("bob")  # another user has their own slots
    slots.give_back("alice")
    slots.take("alice")
    assert slots.active("alice") == 1 and slots.active("carol") == 0
