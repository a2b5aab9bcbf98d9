"""The signal processing behind each named effect: pedalboard plug-ins, a de-esser and the loudness stage."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, sosfilt, sosfiltfilt

from .effects import Effect
from .loudness import limit_true_peak, normalize, true_peak_dbtp

_TAIL_FLOOR_DB = -70.0  # tails are trimmed once they fall this far below the clip's peak


def _pitch(p: Mapping[str, float], x: np.ndarray, sr: int) -> np.ndarray:
    import pedalboard as pb

    return pb.PitchShift(semitones=p["semitones"])(x, sr) if p["semitones"] else x


def _eq(p: Mapping[str, float], x: np.ndarray, sr: int) -> np.ndarray:
    import pedalboard as pb

    y = sosfilt(butter(2, p["lowcut_hz"], "highpass", fs=sr, output="sos"), x)  # 12 dB/octave, as on a desk
    if p["highcut_hz"] < 0.45 * sr:
        y = sosfilt(butter(4, p["highcut_hz"], "lowpass", fs=sr, output="sos"), y)
    y = np.asarray(y, np.float32)
    if p["presence_db"] and p["presence_hz"] < 0.45 * sr:
        y = pb.PeakFilter(cutoff_frequency_hz=p["presence_hz"], gain_db=p["presence_db"], q=0.8)(y, sr)
    return deess(y, sr, p["deess_hz"], p["deess_db"])


def deess(x: np.ndarray, sr: int, freq_hz: float, max_db: float) -> np.ndarray:
    """Turn down the band above ``freq_hz`` (by up to ``max_db``) only where it dominates: on "s" and "sh" sounds.

    Where nothing is reduced the output equals the input exactly (the band is taken out and put back).
    """
    if max_db <= 0 or freq_hz >= 0.45 * sr or len(x) == 0:
        return x
    # zero-phase, so that x - band is exactly the rest of the signal
    band = sosfiltfilt(butter(2, freq_hz, "highpass", fs=sr, output="sos"), x).astype(np.float32)
    win = max(1, int(0.005 * sr))
    band_rms = np.sqrt(np.maximum(uniform_filter1d(band**2, win), 0.0))
    full_rms = np.sqrt(np.maximum(uniform_filter1d(np.asarray(x, np.float32) ** 2, win), 0.0)) + 1e-9
    share = np.clip((band_rms / full_rms - 0.45) / 0.3, 0.0, 1.0)  # 0: voiced sound, 1: pure sibilance
    gain = uniform_filter1d(10 ** (-max_db * share / 20), max(1, int(0.002 * sr)))
    return (x - band + band * gain).astype(np.float32)


def _compression(p: Mapping[str, float], x: np.ndarray, sr: int) -> np.ndarray:
    import pedalboard as pb

    chain: list[pb.Plugin] = [
        pb.Compressor(
            threshold_db=p["threshold_db"], ratio=p["ratio"], attack_ms=p["attack_ms"], release_ms=p["release_ms"]
        )
    ]
    if p["makeup_db"]:
        chain.append(pb.Gain(gain_db=p["makeup_db"]))
    return pb.Pedalboard(chain)(x, sr)


def _chorus(p: Mapping[str, float], x: np.ndarray, sr: int) -> np.ndarray:
    import pedalboard as pb

    return pb.Chorus(**p)(x, sr)


def _echo(p: Mapping[str, float], x: np.ndarray, sr: int) -> np.ndarray:
    import pedalboard as pb

    return pb.Delay(**p)(x, sr)


def _reverb(p: Mapping[str, float], x: np.ndarray, sr: int) -> np.ndarray:
    import pedalboard as pb

    return pb.Reverb(**p)(x, sr)


def _normalize(p: Mapping[str, float], x: np.ndarray, sr: int) -> np.ndarray:
    return normalize(x, sr, p["target_lufs"], p["true_peak_db"])


_RUN: dict[str, Callable[[Mapping[str, float], np.ndarray, int], np.ndarray]] = {
    "pitch": _pitch,
    "eq": _eq,
    "compression": _compression,
    "chorus": _chorus,
    "echo": _echo,
    "reverb": _reverb,
    "normalize": _normalize,
}


def tail_seconds(effects: Sequence[Effect]) -> float:
    """How long the echo and reverb ring on after the input stops."""
    tail = 0.0
    for e in effects:
        if e.name == "reverb":
            tail += 0.5 + 2.5 * e.params["room_size"]
        elif e.name == "echo" and e.params["mix"] > 0:
            repeats = math.log(1e-3) / math.log(max(e.params["feedback"], 1e-3))
            tail += min(4.0, e.params["delay_seconds"] * (repeats + 1))
        elif e.name == "chorus":
            tail += 0.05
    return tail


def _trim_tail(y: np.ndarray, keep: int) -> np.ndarray:
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    loud = np.flatnonzero(np.abs(y[keep:]) > peak * 10 ** (_TAIL_FLOOR_DB / 20))
    end = keep + (int(loud[-1]) + 1 if len(loud) else 0)
    return y[:end]


def run_chain(effects: Sequence[Effect], audio: np.ndarray, sr: int) -> np.ndarray:
    """Run resolved effects in order on a mono clip, room left for their tails (then trimmed at -70 dB).

    Without a normalize stage, a chain that pushes the clip over full scale is limited to -1 dBTP.
    """
    x = np.asarray(audio, np.float32)
    if not effects:
        return x
    y = np.pad(x, (0, int(tail_seconds(effects) * sr)))
    for effect in effects:
        y = np.asarray(_RUN[effect.name](effect.params, y, sr), np.float32)
    y = _trim_tail(y, len(x))
    if not any(e.name == "normalize" for e in effects) and true_peak_dbtp(y, sr) > 0.0:
        y = limit_true_peak(y, sr, -1.0)
    return y.astype(np.float32)
