"""Text to speech as a stream: normalise, split into sentences, synthesise each, join with natural pauses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from .controls import PAUSE_SCALE, PITCH_SEMITONES, SPEED
from .engines import Engine, VoiceModel
from .errors import InvalidInputError, LimitExceededError
from .progress import Progress
from .text import apply_lexicon, normalize, split_sentences

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


# Streaming speaks its first sentence in pieces that grow. The first piece's synthesis is the wait for
# the first audio, and it grows with the piece's length; each later piece must be made while the
# pieces before it play, or a player stalls (synthesis takes about a third of real time on 2 cores,
# plus the silent pads every pass decodes: docs/runtime.md).
FIRST_PIECES_WORDS = (2, 5, 12)
# A remainder at most this many words over a piece's budget is not cut: a piece of a word or two would
# sound clipped.
_LEFTOVER_WORDS = 2
# Words a spoken phrase often starts with: cutting just before one sounds like a natural phrase break.
_PHRASE_STARTS = frozenset(
    {
        "and",
        "but",
        "or",
        "so",
        "because",
        "when",
        "while",
        "if",
        "that",
        "which",
        "who",
        "where",
        "after",
        "before",
        "since",
        "until",
        "as",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "about",
        "into",
        "than",
        "then",
        "we",
        "i",
        "you",
        "they",
        "he",
        "she",
        "it",
    }
)


def split_first_sentence(sentences: list[str], budgets: tuple[int, ...] = FIRST_PIECES_WORDS) -> list[str]:
    """Speak the first sentence in growing pieces of at most ``budgets`` words, then its rest whole.

    A remainder of at most ``budget + 2`` words is not cut. Each cut is where a phrase can break:
    a clause boundary (comma, semicolon, colon, dash) up to one word past the budget wins; otherwise
    the cut goes before the last phrase-starting word (``and``, ``when``, ``to``...) in reach, else
    after the budget.
    """
    if not sentences:
        return sentences
    words, pieces = sentences[0].split(), []
    for budget in budgets:
        if len(words) <= budget + _LEFTOVER_WORDS:
            break
        cut = _phrase_cut(words, budget)
        pieces.append(" ".join(words[:cut]))
        words = words[cut:]
    return [*pieces, " ".join(words), *sentences[1:]]


def _phrase_cut(words: list[str], budget: int) -> int:
    """How many of ``words`` (more than ``budget + 1``) the next piece takes."""
    for i, w in enumerate(words[: budget + 1]):
        if w[-1] in ",;:" or w in ("—", "–"):
            return i + 1
    starts = [i for i in range(2, budget + 1) if words[i].lower().strip("\"'(") in _PHRASE_STARTS]
    return starts[-1] if starts else budget


def check_controls(speed: float, pause_scale: float, pitch_semitones: float) -> None:
    if not SPEED.contains(speed):
        raise InvalidInputError(f"speed must be between {SPEED.low} and {SPEED.high}, got {speed}", code="bad_speed")
    if not PAUSE_SCALE.contains(pause_scale):
        raise InvalidInputError(
            f"pause scale must be between {PAUSE_SCALE.low:g} and {PAUSE_SCALE.high:g}, got {pause_scale}",
            code="bad_pause",
        )
    if not PITCH_SEMITONES.contains(pitch_semitones):
        raise InvalidInputError(
            f"pitch shift must be between {PITCH_SEMITONES.low:+g} and {PITCH_SEMITONES.high:+g} semitones, "
            f"got {pitch_semitones}",
            code="bad_pitch",
        )


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
    split_first: bool = False,
) -> Iterator[Chunk]:
    """One chunk per sentence as soon as it is synthesised; memory stays one sentence deep.

    The controls and the text are checked here, before the first sentence is made, so a bad request
    fails at once. ``split_first`` speaks the first few words on their own (for live streaming, where
    the wait for the first audio matters more than the phrasing of the first sentence).
    """
    check_controls(speed, pause_scale, pitch_semitones)
    sentences = prepare_text(text, max_chars, lexicon)
    if split_first:
        sentences = split_first_sentence(sentences)
    return speak_sentences(
        engine,
        voice,
        sentences,
        speed=speed,
        pause_scale=pause_scale,
        pitch_semitones=pitch_semitones,
        progress=progress,
    )


def speak_sentences(
    engine: Engine,
    voice: VoiceModel,
    sentences: list[str],
    *,
    speed: float = 1.0,
    pause_scale: float = 1.0,
    pitch_semitones: float = 0.0,
    progress: Progress | None = None,
) -> Iterator[Chunk]:
    """Synthesise prepared sentences lazily, each with the pause its punctuation asks for."""
    sr = engine.sample_rate
    for i, sentence in enumerate(sentences):
        audio = _trim(engine.synthesize(voice, sentence, speed=speed, pitch_semitones=pitch_semitones), sr)
        end = sentence.rstrip()[-1:]
        pause = _PAUSES.get(end, 0.05) * pause_scale / speed
        if i == len(sentences) - 1:
            pause = 0.15
        yield Chunk(i, len(sentences), sentence, np.concatenate([audio, np.zeros(int(pause * sr), np.float32)]))
        if progress:
            progress((i + 1) / len(sentences), f"sentence {i + 1}/{len(sentences)}")
