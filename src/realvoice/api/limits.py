"""Per-key request rate (a sliding one-minute window) and the line for renders, kept in this process.

Per-user job slots are shared by every process: see ``jobs/slots.py``."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..store.rates import MemoryRateCounts, RateCounts
from .errors import ApiError


class RateLimiter:
    """At most ``per_minute`` requests per key in any window of ``window_s``; the refusal says when to try again.

    The count is the current fixed window's plus the previous one's, weighted by how much of it the
    sliding window still covers (the estimate Redis-backed limiters use); the counts live in ``counts``,
    shared by every API process when that is Redis or the database. A refused request is not counted.
    """

    def __init__(
        self,
        per_minute: int,
        window_s: float = 60.0,
        what: str = "requests in a minute with this key",
        counts: RateCounts | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_minute, self.window_s, self.what = per_minute, window_s, what
        self.counts: RateCounts = counts or MemoryRateCounts()
        self.clock = clock  # wall-clock seconds: windows must line up across processes and machines

    def hit(self, key: str) -> None:
        """Count one request, or refuse it (429) when the window is full."""
        self._count(key, add=True)

    def check(self, key: str) -> None:
        """Refuse (429) when the window is full, without counting this request."""
        self._count(key, add=False)

    def _count(self, key: str, add: bool) -> None:
        position = self.clock() / self.window_s
        window, into = int(position), position - int(position)
        previous = self.counts.get(key, window - 1)
        current = self.counts.add(key, window, 1) if add else self.counts.get(key, window) + 1
        if previous * (1.0 - into) + current <= self.per_minute:
            return
        if add:
            self.counts.add(key, window, -1)
        retry = self._retry(previous, current - 1, into)
        raise ApiError(
            429,
            f"more than {self.per_minute} {self.what}; try again in {retry} s",
            code="rate_limited",
            headers={"Retry-After": str(retry)},
        )

    def _retry(self, previous: int, counted: int, into: float) -> int:
        """Seconds until one more request fits: in this window as the previous one fades, or in the next."""
        room = self.per_minute - counted - 1  # what the previous window's share must shrink to
        if previous > 0 and room >= 0:
            wait = 1.0 - into - room / previous
        else:
            wait = (1.0 - into) + max(0.0, 1.0 - (self.per_minute - 1) / max(counted, 1))
        return max(1, math.ceil(wait * self.window_s))


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
