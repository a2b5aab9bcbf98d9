"""Speech as encoded bytes, sentence by sentence: the shape HTTP streaming and live players need.

A stream is opened only after everything about the request has been checked (voice, text, format,
effects, music), so a bad request fails before any synthesis; then each sentence is synthesised,
run through the effects, the leveller (``mix/level.py``) and the music that work on a stream (see
``mix/stream.py``), encoded, and handed out. Closing the stream stops the synthesis at the next
sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator

import numpy as np

from .audio.stream import FORMATS, StreamEncoder
from .mix.effects import EffectChain
from .mix.level import Leveller
from .mix.loudness import limit_true_peak
from .mix.stream import StreamEffects, StreamMusic
from .pipeline import Chunk


class SpeechStream:
    """Encoded audio of one text, produced as it is iterated; ``sentences`` chunks are spoken in all."""

    def __init__(
        self,
        chunks: Iterator[Chunk],
        *,
        format: str,
        sample_rate: int,
        sentences: int,
        encoder: StreamEncoder,
        effects: EffectChain | None = None,
        music: StreamMusic | None = None,
        leveller: Leveller | None = None,
        mark: Callable[[np.ndarray, int, int], np.ndarray] | None = None,
    ) -> None:
        self.format, self.sample_rate, self.sentences = format, sample_rate, sentences
        self.spoken = 0  # sentences made so far
        self.cancelled = False
        self._chunks = chunks
        self._level = leveller
        self._mark = mark
        self._bytes = self._run(encoder, StreamEffects(effects, sample_rate) if effects else None, music)

    @property
    def media_type(self) -> str:
        return FORMATS[self.format].media_type

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._bytes)

    def cancel(self) -> None:
        """Stop from any thread: the sentence being made finishes, no later one is started."""
        self.cancelled = True

    def close(self) -> None:
        """Stop and release the stream (from the thread that iterates it)."""
        self.cancelled = True
        self._bytes.close()
        _close(self._chunks)

    def _run(
        self, encoder: StreamEncoder, fx: StreamEffects | None, music: StreamMusic | None
    ) -> Generator[bytes, None, None]:
        try:
            done = object()
            while not self.cancelled:
                chunk = next(self._chunks, done)
                if chunk is done:
                    break
                assert isinstance(chunk, Chunk)
                audio = fx.process(chunk.audio) if fx else chunk.audio
                if self._mark is not None and music is None:  # each sentence is marked before its loudness
                    audio = self._mark(audio, self.sample_rate, 1)
                if self._level is not None:
                    audio = self._level(audio)
                if music is not None:
                    audio = music.mix(audio)
                    if self._mark is not None:  # with a bed, the mix is marked (twice: the bed masks one pass)
                        audio = limit_true_peak(
                            self._mark(audio, self.sample_rate, 2), self.sample_rate, music.true_peak_db
                        )
                data = encoder.encode(audio)
                self.spoken += 1
                if data:
                    yield data
            if self.cancelled:
                return
            ringing = fx.flush() if fx else np.zeros(0, np.float32)
            if self._level is not None:
                ringing = self._level.follow(ringing)
            if music is not None:
                ringing = music.tail(ringing)
            last = encoder.encode(ringing) + encoder.finish()
            if last:
                yield last
        finally:
            _close(self._chunks)


def _close(it: object) -> None:
    close = getattr(it, "close", None)
    if close is not None:
        close()
