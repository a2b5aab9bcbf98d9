"""Background music: a generated ambient bed (or a user's track), ducked wherever the voice speaks."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from ..audio import rms_dbfs

# A I-V-vi-IV progression in C (Hz of each chord's notes), four seconds a chord.
_CHORDS = ((261.63, 329.63, 392.00), (196.00, 246.94, 293.66), (220.00, 261.63, 329.63), (174.61, 220.00, 261.63))


def generate_music(seconds: float, sr: int, *, seed: int = 0) -> np.ndarray:
    """A soft pad: detuned sine partials with slow swells; deterministic for a given seed."""
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.zeros(n, np.float32)
    chord_len = 4.0
    rng = np.random.default_rng(seed)
    for k in range(int(np.ceil(seconds / chord_len))):
        a, b = int(k * chord_len * sr), min(n, int((k + 1) * chord_len * sr + 0.5 * sr))
        if a >= n:
            break
        seg_t = t[a:b] - t[a]
        env = np.minimum(1.0, seg_t / 0.8) * np.minimum(1.0, (seg_t[-1] - seg_t + 1e-3) / 0.8)
        for f in _CHORDS[k % len(_CHORDS)]:
            for detune in (-0.6, 0.6):
                phase = rng.uniform(0, 2 * np.pi)
                out[a:b] += (np.sin(2 * np.pi * (f + detune) * seg_t + phase) * env * 0.05).astype(np.float32)
            out[a:b] += (np.sin(2 * np.pi * f / 2 * seg_t) * env * 0.03).astype(np.float32)
    return out


def add_background_music(
    voice: np.ndarray, sr: int, music: np.ndarray | None = None, *, music_db: float = -18.0, duck_db: float = -10.0
) -> np.ndarray:
    """Mix music ``music_db`` under the voice's level, ducking a further ``duck_db`` while it speaks."""
    tail = int(1.5 * sr)
    length = len(voice) + tail
    bed = generate_music(length / sr, sr) if music is None else np.resize(np.asarray(music, np.float32), length)
    voice_level = rms_dbfs(voice[np.abs(voice) > 0.01]) if np.any(np.abs(voice) > 0.01) else -30.0
    bed = bed * 10 ** ((voice_level + music_db - rms_dbfs(bed)) / 20)
    win = int(0.05 * sr)
    env = uniform_filter1d(np.abs(np.pad(voice, (0, tail))), win)
    active = maximum_filter1d((env > 0.02).astype(np.float32), int(0.3 * sr))  # hold through short gaps
    gain = 10 ** (duck_db * uniform_filter1d(active, int(0.2 * sr)) / 20)  # smooth 200 ms ramps
    fade = np.minimum(1.0, np.arange(length)[::-1] / max(1, tail))
    mixed = np.pad(voice, (0, tail)) + bed * gain * fade
    peak = float(np.max(np.abs(mixed)))
    return (mixed / peak * 0.98 if peak > 0.99 else mixed).astype(np.float32)
