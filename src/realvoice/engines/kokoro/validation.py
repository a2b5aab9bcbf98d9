"""Validation of a fitted voice, and the decision of which voice to keep.

The validation sentences are spoken with the start voice and with a candidate; the candidate must
sound more like the samples (speaker embedding) and stay as intelligible (Whisper, within
``WER_TOLERANCE``). The embedding is Resemblyzer's, which the fit's loss also uses, so that half of
the check is a sanity check; the words are the independent half.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ...analysis import SpeakerEncoder, cosine
from ...audio import atomic_write, spectrum
from . import assets
from .assets import SAMPLE_RATE

if TYPE_CHECKING:
    from .engine import KokoroEngine

# Two sentences, judged together: on one sentence of eighteen words, Whisper mishearing three words
# of a good fit sent it back to a stranger (issue 21).
VALIDATION_SENTENCE = (
    "We should be there by six, unless the traffic is terrible again, so keep the soup warm for us. "
    "The old keeper climbed the narrow stairs each evening, carrying a lamp and a book of poems."
)
# A fit may cost at most this much intelligibility (Whisper word error rate on the validation
# sentences, over the start voice's): about four words of thirty-five.
WER_TOLERANCE = 0.12


@dataclass(eq=False)
class Point:
    """A voice validation may keep: the fit's end point, its earlier point, or a blend toward the start."""

    label: str
    share: float  # how far from the start voice toward the fit: 1 for the fit's own points
    step: int  # the fit's update count at an earlier point, 0 otherwise
    table: np.ndarray
    adapter: dict[str, np.ndarray]
    spoken: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # empty: not yet spoken
    similarity: float = -1.0
    wer: float = -1.0

    @property
    def scored(self) -> bool:
        return self.spoken.size > 0


class Check(Protocol):
    def speak(self, table: np.ndarray, adapter: dict | None = None, f0_scale: float = 1.0) -> np.ndarray: ...
    def score(self, audio: np.ndarray) -> tuple[float, float]: ...


def passes(point: Point, min_similarity: float, max_wer: float) -> bool:
    """Whether a scored point sounds at least as much like the samples as the start voice and keeps the words."""
    return point.similarity >= min_similarity and point.wer <= max_wer


def first_passing(
    check: Check, points: Sequence[Point | None], min_similarity: float, max_wer: float
) -> tuple[Point | None, list[Point]]:
    """The first point, in the order given, that passes; and every point scored on the way (a point is
    spoken only when reached, and never twice)."""
    tried = []
    for point in points:
        if point is None:
            continue
        if not point.scored:
            point.spoken = check.speak(point.table, point.adapter)
            point.similarity, point.wer = check.score(point.spoken)
        tried.append(point)
        if passes(point, min_similarity, max_wer):
            return point, tried
    return None, tried


class Validation:
    """The validation sentence spoken with a style table, scored as (similarity to the samples, WER)."""

    def __init__(self, engine: KokoroEngine, target: np.ndarray) -> None:
        self.engine, self.target = engine, target
        self.encoder = SpeakerEncoder.load()
        self.phonemes = engine.phonemize(VALIDATION_SENTENCE)

    def speak(self, table: np.ndarray, adapter: dict | None = None, f0_scale: float = 1.0) -> np.ndarray:
        return self.engine.synthesize_phonemes(table, self.phonemes, f0_scale=f0_scale, adapter=adapter)

    def _measure(self, audio: np.ndarray) -> tuple[np.ndarray, float]:
        from ...analysis.transcribe import transcribe, word_error_rate

        wer = word_error_rate(VALIDATION_SENTENCE, transcribe(audio, SAMPLE_RATE))
        return self.encoder.embed(audio, SAMPLE_RATE), wer

    def score(self, audio: np.ndarray) -> tuple[float, float]:
        embedding, wer = self._measure(audio)
        return cosine(self.target, embedding), wer

    def spectral_correction(
        self, samples: Sequence[np.ndarray], spoken: np.ndarray, max_wer: float
    ) -> tuple[np.ndarray | None, float, float]:
        """An EQ toward the samples' long-term spectrum, kept only if the words survive it.

        ``spoken`` is the voice's validation sentence. Returns (gain per bin or None, similarity and
        WER of ``spoken`` through the EQ). The similarity is reported, not used: measured on the very
        sentence the EQ was built from, it proves nothing; ``bench/clone_quality.py`` measures the EQ
        on other sentences with two speaker encoders.
        """
        target = np.mean([spectrum.ltas(a) for a in samples], axis=0)
        fmax = spectrum.shared_bandwidth_hz(samples, SAMPLE_RATE)
        eq = spectrum.correction_db(target, spectrum.ltas(spoken), SAMPLE_RATE, fmax=fmax)
        sim, wer = self.score(spectrum.apply_fir(spoken, spectrum.correction_fir(eq)))
        if wer > max_wer:
            return None, sim, wer
        return eq, sim, wer

    def stock(self, name: str) -> tuple[float, float]:
        """Score of a stock voice; its embedding and WER depend only on the voice, so they are cached."""
        key = hashlib.sha256(
            f"{assets.expected_sha256()}|{name}|{VALIDATION_SENTENCE}|{self.engine.version}|{self.engine.runtime_id}".encode()
        ).hexdigest()

        def measure() -> dict:
            embedding, wer = self._measure(self.speak(self.engine._stock[name]))
            return {"embedding": embedding.tolist(), "wer": wer}

        # one file per machine, beside the assembled model: it depends on the model, the voice and the runtime
        folder = self.engine.model_path.parent
        cached = cached_json(folder / f"kokoro-validation-{key[:24]}.json", key, measure)
        return cosine(self.target, np.asarray(cached["embedding"], np.float32)), float(cached["wer"])


def cached_json(path: Path, key: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` kept as JSON at ``path``; computed again when ``key`` changed or the file is unreadable."""
    try:
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            return cached["value"]
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    value = compute()
    payload = json.dumps({"key": key, "value": value})
    atomic_write(path, lambda tmp: Path(tmp).write_text(payload))
    return value
