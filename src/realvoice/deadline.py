"""A point in time that work must end by, passed down instead of a bare clock reading."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """Work must end by ``at`` on the ``time.perf_counter()`` clock (monotonic, not wall time)."""

    at: float

    @classmethod
    def after(cls, seconds: float, start: float | None = None) -> Deadline:
        """``seconds`` after ``start`` (a ``perf_counter()`` reading; now if None)."""
        return cls((time.perf_counter() if start is None else start) + seconds)

    def seconds_left(self) -> float:
        """Negative once the deadline has passed."""
        return self.at - time.perf_counter()
