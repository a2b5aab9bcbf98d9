"""Engine-agnostic text handling: normalise English, split into sentences."""

from .normalize import normalize
from .split import split_sentences

__all__ = ["normalize", "split_sentences"]
