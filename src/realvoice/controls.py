"""How fast, how high and how long the pauses: the speech controls and their ranges, in one table.

The pipeline checks against it, the API's schemas declare it, the CLI's help states it and a test holds
the page's sliders to it, so every front end takes the same names and the same ranges. It imports
nothing, so the CLI can read it before ``--help`` answers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ControlRange:
    low: float
    high: float
    default: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def span(self) -> str:
        """ "0.5 to 2" for help texts."""
        return f"{self.low:g} to {self.high:g}"


SPEED = ControlRange(0.5, 2.0, 1.0)  # speaking rate, 1 = the voice's own
PAUSE_SCALE = ControlRange(0.0, 3.0, 1.0)  # pauses between sentences and clauses, 1 = natural, 0 = none
PITCH_SEMITONES = ControlRange(-4.0, 4.0, 0.0)  # beyond a third the shifted voice stops sounding like itself

CONTROLS: dict[str, ControlRange] = {"speed": SPEED, "pause_scale": PAUSE_SCALE, "pitch_semitones": PITCH_SEMITONES}
