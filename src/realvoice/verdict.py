"""What an enrollment achieved, told plainly: the person's voice, part of it, or a stranger's.

The quality score grades the recordings; a voice that is not the person's must not inherit a high
grade from good recordings, so the outcome caps it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .engines.base import VoiceModel
from .models import FitOutcome

STOCK_METHOD = "nearest-stock"
# The highest score each outcome may show: a stock voice reads "needs more samples", a partly
# fitted one at most "good".
SCORE_CAP: dict[FitOutcome, float] = {"fitted": 100.0, "partly_fitted": 79.0, "stock": 40.0}
# A deadline-bound fit on a busy machine makes few timbre updates (issue 24); under this many the
# voice is a rough draft and is reported as one (docs/cloning.md gives the usual counts).
ROUGH_STEPS = 20


@dataclass(frozen=True)
class FitVerdict:
    outcome: FitOutcome
    code: str | None  # a stable warning code, None for a fitted voice
    message: str | None  # what the user is told, first among the warnings

    def cap(self, score: float) -> float:
        return min(score, SCORE_CAP[self.outcome])


def fit_verdict(model: VoiceModel) -> FitVerdict:
    """The outcome of an engine's enrollment, from the method and parameters it recorded."""
    if model.method == STOCK_METHOD:
        stock = model.params.get("start_voice") or model.params.get("stock_voice") or "a stock voice"
        if model.params.get("fit_kept") is False:
            why = (
                "Your voice could not be learned from these recordings: every fitted version lost too many "
                f"words or sounded less like you than the start voice. This voice is the stock voice '{stock}', "
                "someone else's voice, not yours. Record in a quiet room, close to the microphone, reading "
                "naturally, and create the voice again."
            )
        else:
            why = (
                f"This voice is a stock voice, '{stock}', the one closest to your samples; it was not fitted to "
                "your recordings, because this voice was made without a fit: it will not sound like you. "
                "Create the voice again with the fast or thorough fit to get your own voice."
            )
        return FitVerdict("stock", "stock_voice", why)
    share = float(model.params.get("fit_share", 1.0))
    if share < 1.0:
        return FitVerdict(
            "partly_fitted",
            "partly_fitted",
            f"Only part of what was learned from your recordings could be kept ({share:.0%} of the way from a "
            "stock voice to yours): the full fit lost words. The voice will sound only partly like you; "
            "cleaner recordings, or more of them, usually fix this.",
        )
    steps = model.metrics.get("timbre_steps")
    if steps is not None and steps < ROUGH_STEPS:
        return FitVerdict(
            "partly_fitted",
            "rough_fit",
            f"The fit had too little time to learn your voice ({steps:.0f} updates, where a minute on a free "
            "machine makes 55-90): this voice is a rough draft and sounds only partly like you. The computer "
            "was probably busy; create the voice again when it is not, or use the thorough mode.",
        )
    return FitVerdict("fitted", None, None)
