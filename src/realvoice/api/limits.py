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

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute, self.window_s = per_minute, window_s
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.per_minute:
                retry = max(1, math.ceil(self.window_s - (now - hits[0])))
                raise ApiError(
                    429,
                    f"more than {self.per_minute} requests in a minute with this key; try again in {retry} s",
                    code="rate_limited",
                    headers={"Retry-After": str(retry)},
                )
            hits.append(now)


class JobSlots:
    """How many voices each user is building now; one more than ``per_user`` is refused with 429."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._active: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def take(self, user_id: str) -> None:
        with self._lock:
            if self._active[user_id] >= self.per_user:
                raise ApiError(
                    429,
                    f"you already have {self._active[user_id]} voice(s) being built; "
                    f"wait for one to finish (at most {self.per_user} at once)",
                    code="too_many_jobs",
                    headers={"Retry-After": "30"},
                )
            self._active[user_id] += 1

    def give_back(self, user_id: str) -> None:
        with self._lock:
            self._active[user_id] = max(0, self._active[user_id] - 1)

    @contextmanager
    def held(self, user_id: str) -> Iterator[None]:
        """Take a slot, given back if the block fails; on success the job it started owns the slot."""
        self.take(user_id)
        try:
            yield
        except BaseException:
            self.give_back(user_id)
            raise

    def active(self, user_id: str) -> int:
        with self._lock:
            return self._active[user_id]
