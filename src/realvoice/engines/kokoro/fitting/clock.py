"""A fit's time budget, counted from the fit's start."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Budget:
    """``seconds`` from ``started`` (``time.time()``); None: no limit."""

    seconds: float | None
    started: float = field(default_factory=time.time)

    def elapsed(self) -> float:
        return time.time() - self.started

    def used_share(self) -> float:
        """How much of the budget is gone (0 without a limit)."""
        if self.seconds is None:
            return 0.0
        return self.elapsed() / self.seconds if self.seconds > 0 else float("inf")

    def would_overrun(self, seconds: float) -> bool:
        """Whether work of ``seconds`` started now would end past the budget."""
        return self.seconds is not None and self.elapsed() + seconds > self.seconds
