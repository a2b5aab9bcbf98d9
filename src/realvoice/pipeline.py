"""Text to speech as a stream: normalise, split into sentences, synthesise each, join with natural pauses."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from .engines import Engine, VoiceModel
from .errors import InvalidInputError, LimitExceededError
from .text import apply_lexicon, normalize, split_sentences

Progress = Callable[[float, str], None]

_PAUSES = {".": 0.32, "!": 0.32, "?": 0.36, ",": 0.12, ";": 0.2, ":": 0.2, "\n": 0.55}
_FADE_S = 0.01


@dataclass(frozen=True)
class Chunk:
    """One sentence of audio, with the pause that follows it already appended."""

    index: int
    total: int
    text: str
    audio: np.ndarray


def prepare_text(text: str, max_chars: int, lexicon: Mapping[str, str] | None = None) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("the text is empty; give at least one word to speak", code="empty_text")
    if len(text) > max_chars:
        raise LimitExceededError(f"the text has {len(text)} characters; the limit is {max_chars}", code="text_too_long")
    sentences = [
        apply_lexicon(s, lexicon or {}) for s in split_sentences(normalize(text)) if any(ch.isalnum() for ch in s)
    ]
    if not sentences:
        raise InvalidInputError("the text has nothing speakable (no letters or digits)", code="nothing_to_speak")
    return sentences


def _trim(x: np.ndarray, sr: int, threshold: float = 0.005) -> np.ndarray:
    idx = np.flatnonzero(np.abs(x) > threshold)
    if idx.size == 0:
        return x[:0]
    pad = int(0.02 * sr)
    y = x[max(0, idx[0] - pad) : idx[-1] + pad].copy()
    n = min(len(y) // 2, int(_FADE_S * sr))
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        y[:n] *= ramp
        y[-n:] *= ramp[::-1]
    return y


FIRST_CHUNK_CHARS = 60  # a short first chunk gets the first audio out quickly when streaming


def _quick_start(sentences: list[str]) -> list[str]:
    """Cut a long first sentence at its first clause boundary so streaming starts sooner."""
    first = sentences[0]
    if len(first) <= FIRST_CHUNK_CHARS:
        return sentences
    for mark in (", ", "; ", ": ", " — "):
        cut = first.find(mark, 15, 2 * FIRST_CHUNK_CHARS)
        if cut > 0:
            return [first[: cut + 1].strip(), first[cut + 1 :].strip(), *sentences[1:]]
    return sentences


def check_controls(speed: float, pause_scale: float, pitch_semitones: float) -> None:
    if not 0.5 <= speed <= 2.0:
        raise InvalidInputError(f"speed must be between 0.5 and 2.0, got {speed}", code="bad_speed")
    if not 0.0 <= pause_scale <= 3.0:
        raise InvalidInputError(f"pause scale must be between 0 and 3, got {pause_scale}", code="bad_pause")
    if not -4.0 <= pitch_semitones <= 4.0:
        raise InvalidInputError(
            f"pitch shift must be between -4 and +4 semitones, got {pitch_semitones}", code="bad_pitch"
        )


def _shift(x: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    if not semitones or not len(x):
        return x
    import pedalboard as pb

    return pb.PitchShift(semitones=semitones)(x, sr).astype(np.float32)


def stream_speech(
    engine: Engine,
    voice: VoiceModel,
    text: str,
    *,
    speed: float = 1.0,
    pause_scale: float = 1.0,
    pitch_semitones: float = 0.0,
    max_chars: int = 10_000,
    lexicon: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Iterator[Chunk]:
    """Yield one chunk per sentence as soon as it is synthesised; memory stays one sentence deep."""
    check_controls(speed, pause_scale, pitch_semitones)
    sentences = _quick_start(prepare_text(text, max_chars, lexicon))
    sr = engine.sample_rate
    for i, sentence in enumerate(sentences):
        audio = _shift(_trim(engine.synthesize(voice, sentence, speed=speed), sr), sr, pitch_semitones)
        end = sentence.rstrip()[-1:]
        pause = _PAUSES.get(end, 0.25) * pause_scale / speed
        if i == len(sentences) - 1:
            pause = 0.15
        yield Chunk(i, len(sentences), sentence, np.concatenate([audio, np.zeros(int(pause * sr), np.float32)]))
        if progress:
            progress((i + 1) / len(sentences), f"sentence {i + 1}/{len(sentences)}")
