"""Effects and music for speech that is sent while it is made, one sentence chunk at a time.

What differs from the whole-file path (``apply_effects``, ``mix_music``), because the end is not known:

* effects run on each chunk; the reverb and echo tail a chunk leaves is added into the next one, which is
  exact for the linear effects (EQ, echo, reverb, chorus, pitch aside). Compression and ``normalize`` act
  per chunk, so each sentence is brought to the loudness target on its own;
* the music's level is set from the first chunk's loudness and kept; the ducking's smoothing carries
  over from chunk to chunk, but it cannot look ahead into a chunk not yet made; every chunk is kept
  under the true-peak ceiling by the limiter rather than by a final mastering pass.
"""

from __future__ import annotations

import numpy as np

from ..audio import loudness_lufs
from .effects import EffectChain
from .loudness import limit_true_peak, true_peak_dbtp
from .music import _fades, _pocket, duck_gain, speech_activity
from .processors import run_chain

_QUIET_LUFS = -70.0


class StreamEffects:
    """The chain run chunk by chunk, each chunk's ringing tail carried into the next."""

    def __init__(self, chain: EffectChain, sample_rate: int) -> None:
        self._effects = list(chain.effects.values())
        self.sample_rate = sample_rate
        self._carry = np.zeros(0, np.float32)

    def process(self, chunk: np.ndarray) -> np.ndarray:
        x = np.asarray(chunk, np.float32)
        if not self._effects:
            return x
        y = run_chain(self._effects, x, self.sample_rate)
        carry = self._carry
        if len(carry) > len(y):
            y = np.pad(y, (0, len(carry) - len(y)))
        y[: len(carry)] += carry
        self._carry = y[len(x) :].copy()
        return y[: len(x)]

    def flush(self) -> np.ndarray:
        """What still rings on after the last chunk."""
        out, self._carry = self._carry, np.zeros(0, np.float32)
        return out


class StreamMusic:
    """A music bed laid under a stream: lead-in, the chunks ducked over it, then a faded tail.

    ``track`` loops seamlessly when ``seamless`` (the generated beds); a user's file gets a crossfaded seam.
    """

    def __init__(
        self,
        track: np.ndarray,
        sample_rate: int,
        *,
        seamless: bool,
        music_db: float = -15.0,
        duck_db: float = -12.0,
        attack_ms: float = 80.0,
        release_ms: float = 400.0,
        lead_in_s: float = 1.0,
        tail_s: float = 2.0,
        true_peak_db: float = -1.0,
    ) -> None:
        sr = self.sample_rate = sample_rate
        self._first, self._period = _loop_parts(np.asarray(track, np.float32), sr, seamless)
        self.music_db, self.duck_db = music_db, duck_db
        self.attack_ms, self.release_ms = attack_ms, release_ms
        self.lead_in, self.tail_len = int(lead_in_s * sr), int(tail_s * sr)
        self.true_peak_db = true_peak_db
        self._pos = 0
        self._level: float | None = None
        self._duck_db = 0.0

    def _bed(self, n: int) -> np.ndarray:
        idx = np.arange(self._pos, self._pos + n)
        self._pos += n
        if not len(self._period):
            return np.zeros(n, np.float32)
        head = len(self._first)
        if head == 0:
            return self._period[idx % len(self._period)]
        looped = self._period[np.maximum(idx - head, 0) % len(self._period)]
        return np.where(idx < head, self._first[np.minimum(idx, max(head - 1, 0))], looped).astype(np.float32)

    def _set_level(self, voice: np.ndarray) -> None:
        voice_lufs = loudness_lufs(voice, self.sample_rate) if len(voice) else _QUIET_LUFS
        reference = voice_lufs if voice_lufs > _QUIET_LUFS else -16.0
        period = self._period if len(self._period) else self._first
        bed_lufs = loudness_lufs(period, self.sample_rate) if len(period) else _QUIET_LUFS
        self._level = 10 ** ((reference + self.music_db - bed_lufs) / 20) if bed_lufs > _QUIET_LUFS else 0.0

    def _ducked(self, voice: np.ndarray) -> np.ndarray:
        n = len(voice)
        active = speech_activity(voice, self.sample_rate) if n else np.zeros(1, bool)
        gain = duck_gain(
            active, n, self.sample_rate, self.duck_db, self.attack_ms, self.release_ms, start_db=self._duck_db
        )
        if n:
            self._duck_db = float(20 * np.log10(max(float(gain[-1]), 1e-6)))
        return self._bed(n) * (self._level or 0.0) * gain

    def _limited(self, x: np.ndarray) -> np.ndarray:
        if len(x) and true_peak_dbtp(x, self.sample_rate) > self.true_peak_db:
            return limit_true_peak(x, self.sample_rate, self.true_peak_db)
        return x.astype(np.float32)

    def mix(self, voice: np.ndarray) -> np.ndarray:
        """The chunk over the bed; the first call also returns the music's lead-in, fading in, before it."""
        voice = np.asarray(voice, np.float32)
        lead = np.zeros(0, np.float32)
        if self._level is None:
            self._set_level(voice)
            lead = self._ducked(np.zeros(self.lead_in, np.float32))
        stem = self._ducked(voice)
        out = np.concatenate([lead, stem + voice]) if len(lead) else stem + voice
        fade = min(self.lead_in, len(out)) if len(lead) else 0
        if fade:
            out[:fade] *= _fades(fade, self.sample_rate, fade / self.sample_rate, 0.0)
        return self._limited(out)

    def tail(self, ringing: np.ndarray | None = None) -> np.ndarray:
        """The bed fading out after the last chunk (under any effect tail still ringing)."""
        if self._level is None:
            return np.zeros(0, np.float32)
        ring = np.zeros(0, np.float32) if ringing is None else np.asarray(ringing, np.float32)
        n = max(self.tail_len, len(ring))
        voice = np.pad(ring, (0, n - len(ring)))
        out = self._ducked(voice) * _fades(n, self.sample_rate, 0.0, n / self.sample_rate) + voice
        return self._limited(out)


def _loop_parts(track: np.ndarray, sr: int, seamless: bool, crossfade_s: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The track's first pass and the period every later repeat plays (as ``fit_length`` loops), pocketed."""
    if not len(track):
        return track, track
    xf = 0 if seamless else min(int(crossfade_s * sr), len(track) // 4)
    if xf == 0:
        first, period = np.zeros(0, np.float32), track
    else:
        fade = np.sin(np.linspace(0.0, np.pi / 2, xf, dtype=np.float32))
        seam = track[:xf] * fade + track[-xf:] * fade[::-1]
        first, period = track[:-xf], np.concatenate([seam, track[xf:-xf]])
    pocketed = _pocket(np.concatenate([first, period]), sr)
    return pocketed[: len(first)], pocketed[len(first) :]
