"""One output loudness for everything we render, sentence by sentence.

Files, streams, previews and the demo come out at the settings' loudness and true-peak ceiling,
unless the request carries its own ``normalize`` effect. A file made whole is normalised exactly
(``normalize``); speech that goes out as it is made (a stream, a plain file written sentence by
sentence) passes through a :class:`Leveller`.
"""

from __future__ import annotations

import math

import numpy as np

from ..audio import loudness_lufs
from .loudness import limit_true_peak, normalize

_SILENT_LUFS = -70.0


class Leveller:
    """Bring speech to ``target_lufs`` as it arrives, its true peak at most ``ceiling_db``.

    The gain follows the loudness of everything spoken so far (the sentences' loudness, averaged as
    energy over their length), so it settles after a sentence or two and a whole text lands close to
    the target while memory stays one sentence deep. A sentence too short or quiet to measure keeps
    the current gain.
    """

    def __init__(self, sample_rate: int, target_lufs: float = -16.0, ceiling_db: float = -1.0) -> None:
        self.sample_rate, self.target_lufs, self.ceiling_db = sample_rate, target_lufs, ceiling_db
        self._energy = 0.0  # sum of length x 10^(LUFS/10) over measured sentences
        self._frames = 0

    @property
    def loudness_lufs(self) -> float | None:
        """The running loudness of the input so far; None before anything could be measured."""
        return 10 * math.log10(self._energy / self._frames) if self._frames else None

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """A sentence, measured and then levelled; the limiter's loss of loudness is made up (``normalize``)."""
        x = np.asarray(audio, np.float32)
        lufs = loudness_lufs(x, self.sample_rate) if len(x) >= int(0.4 * self.sample_rate) else _SILENT_LUFS
        if lufs <= _SILENT_LUFS:
            return self.follow(x)
        self._energy += len(x) * 10 ** (lufs / 10)
        self._frames += len(x)
        running = 10 * math.log10(self._energy / self._frames)
        return normalize(x, self.sample_rate, lufs + self.target_lufs - running, self.ceiling_db)

    def follow(self, audio: np.ndarray) -> np.ndarray:
        """Audio that belongs to what came before (a reverb's tail), levelled without being measured."""
        x = np.asarray(audio, np.float32)
        current = self.loudness_lufs
        if current is None or not len(x):
            return x
        gain = 10 ** ((self.target_lufs - current) / 20)
        return limit_true_peak(x * gain, self.sample_rate, self.ceiling_db)
