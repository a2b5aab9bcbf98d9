"""Per-key request rate (a sliding one-minute window) and per-user job slots, kept in this process."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ApiError


class RateLimiter:
    """At most ``per_minute`` requests per key in any 60 s; the refusal says when to try again."""

    def __init__(
        self, per_minute: int, window_s: float = 60.0, what: str = "requests in a minute with this key"
    ) -> None:
        self.per_minute, self.window_s, self.what = per_minute, window_s, what
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count one request, or refuse it (429) when the window is full."""
        self._count(key, add=True)

    def check(self, key: str) -> None:
        """Refuse (429) when the window is full, without counting this request."""
        self._count(key, add=False)

    def _count(self, key: str, add: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > 10_000:  # bounded: forget keys and addresses idle for a whole window
                for old in [k for k, h in self._hits.items() if not h or now - h[-1] >= self.window_s]:
                    del self._hits[old]
            hits = self._hits[key]
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.per_minute:
                retry = max(1, math.ceil(self.window_s - (now - hits[0])))
                raise ApiError(
                    429,
                    f"more than {self.per_minute} {self.what}; try again in {retry} s",
                    code="rate_limited",
                    headers={"Retry-After": str(retry)},
                )
            if add:
                hits.append(now)
            elif not hits:
                del self._hits[key]  # a check alone must not grow the table


class JobSlots:
    """How many jobs each user runs now; one more than ``per_user`` is refused with 429 and a
    Retry-After from how long jobs here have taken (a running mean) less the oldest one's age."""

    def __init__(self, per_user: int, typical_s: float = 90.0) -> None:
        self.per_user = per_user
        self._started: dict[str, list[float]] = defaultdict(list)
        self._mean_s = typical_s
        self._lock = threading.Lock()

    def take(self, user_id: str) -> None:
        with self._lock:
            started = self._started[user_id]
            if len(started) >= self.per_user:
                retry = max(5, math.ceil(self._mean_s - (time.monotonic() - min(started))))
                raise ApiError(
                    429,
                    f"you already have {len(started)} job(s) running (voice builds or long renders); "
                    f"wait for one to finish (at most {self.per_user} at once), about {retry} s",
                    code="too_many_jobs",
                    headers={"Retry-After": str(retry)},
                )
            started.append(time.monotonic())

    def give_back(self, user_id: str, *, ran: bool = True) -> None:
        """``ran=False``: the job never started, so its time says nothing about how long jobs take."""
        with self._lock:
            started = self._started.get(user_id)
            if not started:
                return
            took = time.monotonic() - started.pop(0)
            if ran:
                self._mean_s = 0.7 * self._mean_s + 0.3 * took
            if not started:
                del self._started[user_id]

    @contextmanager
    def held(self, user_id: str) -> Iterator[None]:
        """Take a slot, given back if the block fails; on success the job it started owns the slot."""
        self.take(user_id)
        try:
            yield
        except BaseException:
            self.give_back(user_id, ran=False)
            raise

    def active(self, user_id: str) -> int:
        with self._lock:
            return len(self._started.get(user_id, ()))


class RenderQueue:
    """At most ``workers`` syntheses at once and at most ``max_waiting`` requests waiting for one.

    Past that, or after ``max_wait_s`` in line, a request is turned away at once (503) with a
    Retry-After from how long renders take here, instead of waiting past its client's timeout. A
    stream already admitted (``admitted=True``, its later sentences) waits without those bounds, so
    a stream that started is never cut off halfway.
    """

    def __init__(self, workers: int, max_waiting: int, max_wait_s: float) -> None:
        self.workers, self.max_waiting, self.max_wait_s = max(1, workers), max(0, max_waiting), max_wait_s
        self._cond = threading.Condition()
        self._running = self._waiting = 0
        self._mean_s = 2.0  # seconds one render takes, a running mean of the last few

    @contextmanager
    def slot(self, *, admitted: bool = False) -> Iterator[None]:
        self._enter(admitted)
        t0 = time.monotonic()
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._mean_s = 0.8 * self._mean_s + 0.2 * (time.monotonic() - t0)
                self._cond.notify()

    def _enter(self, admitted: bool) -> None:
        with self._cond:
            if self._running >= self.workers and not admitted and self._waiting >= self.max_waiting:
                raise self._busy()
            self._waiting += 1
            try:
                deadline = time.monotonic() + self.max_wait_s
                while self._running >= self.workers:
                    left = deadline - time.monotonic()
                    if not admitted and left <= 0:
                        raise self._busy()
                    self._cond.wait(None if admitted else left)
            finally:
                self._waiting -= 1
            self._running += 1

    def _busy(self) -> ApiError:
        retry = max(1, math.ceil(self._mean_s * (self._waiting + 1) / self.workers))
        return ApiError(
            503,
            f"the server is busy speaking for other requests; try again in {retry} s",
            code="server_busy",
            headers={"Retry-After": str(retry)},
        )
