"""What an enrollment achieved, told plainly: the person's voice, part of it, or a stranger's.

The quality score grades the recordings; a voice that is not the person's must not inherit a high
grade from good recordings, so the outcome caps it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .engines.base import VoiceModel
from .models import FitOutcome, ValidationScore

STOCK_METHOD = "nearest-stock"
# The highest score each outcome may show: a stock voice reads "needs more samples", a partly
# fitted one at most "good".
SCORE_CAP: dict[FitOutcome, float] = {"fitted": 100.0, "partly_fitted": 79.0, "stock": 40.0}
# A deadline-bound fit on a busy machine makes few timbre updates (issue 24); under this many the
# voice is a rough draft and is reported as one (docs/cloning.md gives the usual counts).
ROUGH_STEPS = 20
# What a refinement offers, in words every front end shows beside its own way to start one.
REFINE_OFFER = (
    "Refine the voice: a thorough fit from the same recordings runs in the background for a few minutes "
    "and replaces this voice only if it comes out closer to you."
)
# A refinement replaces the voice only when its fit sounds this much more like the samples (speaker
# similarity on the validation sentences, both voices measured in the same run) and loses at most this
# share of the validation sentences' words (two of their 35: one word is within Whisper's own wobble).
REFINE_MIN_GAIN = 0.01
REFINE_WER_SLACK = 0.06


@dataclass(frozen=True)
class FitVerdict:
    outcome: FitOutcome
    code: str | None  # a stable warning code, None for a fitted voice
    message: str | None  # what the user is told, first among the warnings

    def cap(self, score: float) -> float:
        return min(score, SCORE_CAP[self.outcome])

    @property
    def refine_advised(self) -> bool:
        """A rough draft, a partial fit or a stock voice: a thorough refinement may bring it closer."""
        return self.outcome != "fitted"


def fit_verdict(model: VoiceModel) -> FitVerdict:
    """The outcome of an engine's enrollment, from the method and parameters it recorded."""
    if model.method == STOCK_METHOD:
        stock = model.params.get("start_voice") or model.params.get("stock_voice") or "a stock voice"
        if model.params.get("fit_kept") is False:
            why = (
                "Your voice could not be learned from these recordings: every fitted version lost too many "
                f"words or sounded less like you than the start voice. This voice is the stock voice '{stock}', "
                "someone else's voice, not yours. Record in a quiet room, close to the microphone, reading "
                "naturally, and create the voice again; or first try to refine this one (a longer fit)."
            )
        else:
            why = (
                f"This voice is a stock voice, '{stock}', the one closest to your samples; it was not fitted to "
                "your recordings, because this voice was made without a fit: it will not sound like you. "
                "Refine it (a fit from the same recordings) to get your own voice."
            )
        return FitVerdict("stock", "stock_voice", why)
    share = float(model.params.get("fit_share", 1.0))
    if share < 1.0:
        return FitVerdict(
            "partly_fitted",
            "partly_fitted",
            f"Only part of what was learned from your recordings could be kept ({share:.0%} of the way from a "
            "stock voice to yours): the full fit lost words. The voice will sound only partly like you; "
            "refining it (a longer fit) may help, and cleaner recordings, or more of them, usually do.",
        )
    steps = model.metrics.get("timbre_steps")
    if steps is not None and steps < ROUGH_STEPS:
        return FitVerdict(
            "partly_fitted",
            "rough_fit",
            f"The fit had too little time to learn your voice ({steps:.0f} updates, where a minute on a free "
            "machine makes 55-90): this voice is a rough draft and sounds only partly like you. The computer "
            "was probably busy. " + REFINE_OFFER,
        )
    return FitVerdict("fitted", None, None)


@dataclass(frozen=True)
class RefineVerdict:
    improved: bool
    message: str  # why, in words a person can act on


def refine_verdict(before: ValidationScore, after: ValidationScore) -> RefineVerdict:
    """Whether a refinement's fit replaces the voice: it must be a fit (not the stock voice its own
    validation fell back to), sound more like the samples and keep the words, both voices measured alike."""
    if after.fit_outcome == "stock":
        return RefineVerdict(False, "The longer fit did not pass validation either; your voice is kept as it was.")
    gain = after.similarity - before.similarity
    if after.wer > before.wer + REFINE_WER_SLACK:
        return RefineVerdict(
            False,
            f"The longer fit lost words ({after.wer:.0%} misheard against {before.wer:.0%}); "
            "your voice is kept as it was.",
        )
    if gain < REFINE_MIN_GAIN:
        return RefineVerdict(
            False,
            "The longer fit did not come out closer to you (likeness "
            f"{before.similarity:.2f} → {after.similarity:.2f}); your voice is kept as it was.",
        )
    return RefineVerdict(
        True,
        f"The refined voice is closer to you (likeness {before.similarity:.2f} → {after.similarity:.2f}) "
        "and replaces the previous one.",
    )
