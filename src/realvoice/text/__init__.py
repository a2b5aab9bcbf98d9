"""Engine-agnostic text handling: normalise English, split into sentences."""

from .lexicon import MARKER, apply_lexicon, check_entry
from .normalize import normalize
from .split import split_sentences

__all__ = ["MARKER", "apply_lexicon", "check_entry", "normalize", "split_sentences"]
