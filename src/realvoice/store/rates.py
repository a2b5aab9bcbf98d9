"""Request counts per key and fixed window, kept where every API process sees them: Redis when it is
configured, else the database (one row per key and window, old windows deleted as new ones start)."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Protocol

from sqlalchemy import delete, select

from .db import Database, RateCountRow


class RateCounts(Protocol):
    def add(self, key: str, window: int, delta: int) -> int:
        """Add ``delta`` to the key's count in ``window`` and answer the new count."""

    def get(self, key: str, window: int) -> int: ...


class MemoryRateCounts:
    """This process only (tests, and tools that serve no one else)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = defaultdict(int)
        self._lock = threading.Lock()

    def add(self, key: str, window: int, delta: int) -> int:
        with self._lock:
            for old in [k for k in self._counts if k[1] < window - 1]:
                del self._counts[old]
            self._counts[(key, window)] += delta
            return self._counts[(key, window)]

    def get(self, key: str, window: int) -> int:
        with self._lock:
            return self._counts.get((key, window), 0)


class DbRateCounts:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._swept = -1

    def add(self, key: str, window: int, delta: int) -> int:
        key = key[:100]
        with self.db.session() as s:
            if self._swept < window:  # each process clears the windows no one reads any more, once per window
                s.execute(delete(RateCountRow).where(RateCountRow.window < window - 1))
                self._swept = window
            s.execute(_upsert(self.db, key, window, delta))
            return int(s.scalar(_hits(key, window)) or 0)

    def get(self, key: str, window: int) -> int:
        with self.db.session() as s:
            return int(s.scalar(_hits(key[:100], window)) or 0)


def _hits(key: str, window: int):
    return select(RateCountRow.hits).where(RateCountRow.key == key, RateCountRow.window == window)


def _upsert(db: Database, key: str, window: int, delta: int):
    """One atomic statement, so two processes counting at once never lose a request."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(RateCountRow).values(key=key, window=window, hits=delta)
    return statement.on_conflict_do_update(index_elements=["key", "window"], set_={"hits": RateCountRow.hits + delta})


class RedisRateCounts:
    PREFIX = "realvoice:rate:"

    def __init__(self, url: str, window_s: float) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.ttl = max(1, int(2 * window_s) + 1)

    def add(self, key: str, window: int, delta: int) -> int:
        name = f"{self.PREFIX}{key}:{window}"
        with self.client.pipeline() as pipe:
            pipe.incrby(name, delta)
            pipe.expire(name, self.ttl)
            count, _ = pipe.execute()
        return int(count)

    def get(self, key: str, window: int) -> int:
        value = self.client.get(f"{self.PREFIX}{key}:{window}")
        return int(value) if value is not None else 0
