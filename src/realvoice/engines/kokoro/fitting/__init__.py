"""Teacher-forced fitting of a Kokoro-82M voice to a person's recordings (the cloning core).

Recipe (docs/cloning.md): trim and level each sample; speak its phonemes with the start voice and
DTW-align the recording to it (real frames per token); read the real pitch and energy; then fit, side
by side, the prosody half of the style (the predictor's durations, pitch and energy) and the timbre
half with per-voice offsets to the decoder's AdaIN biases (the decoder teacher-forced on random crops,
loss: multi-resolution log-mel L1, a speaker-encoder term, a pull toward the start).

torch is imported only inside this package: the product imports it only when fitting.
"""

from .config import FAST, THOROUGH, FitConfig, FitMode, config_for
from .fit import FitPoint, FitResult, FitStats, Speaker, fit_style
from .start import choose_start_style

__all__ = [
    "FAST",
    "THOROUGH",
    "FitConfig",
    "FitMode",
    "FitPoint",
    "FitResult",
    "FitStats",
    "Speaker",
    "choose_start_style",
    "config_for",
    "fit_style",
]
