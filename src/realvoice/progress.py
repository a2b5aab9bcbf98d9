"""Progress of long work: one callback type, and named stages that share the bar in one place."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that shows nothing."""


class Stages:
    """The stages of one task, in order, each with its share of the bar (the shares add up to 1).

    ``stages.within("fit")`` is a callback for the stage's own 0-1 progress; ``stages.begin("save",
    "saving")`` reports the start of a stage.
    """

    def __init__(self, progress: Progress | None, **shares: float) -> None:
        if abs(sum(shares.values()) - 1.0) > 1e-9:
            raise ValueError(f"stage shares add up to {sum(shares.values())}, not 1")
        self.progress = progress or no_progress
        self.spans: dict[str, tuple[float, float]] = {}
        at = 0.0
        for name, share in shares.items():
            self.spans[name] = (at, share)
            at += share

    def begin(self, stage: str, message: str) -> None:
        self.progress(self.spans[stage][0], message)

    def within(self, stage: str) -> Progress:
        start, share = self.spans[stage]
        return lambda fraction, message: self.progress(start + share * min(max(fraction, 0.0), 1.0), message)

    def done(self, message: str) -> None:
        self.progress(1.0, message)
