"""Royalty-free music beds composed by this code: ambient, lo-fi and corporate loops.

Each bed is a seamless loop (sounds that ring past the end wrap round to the start), built from simple
additive synths and noise drums with a fixed random seed, so a bed is the same on every machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt

from .loudness import normalize

BED_LUFS = -20.0
BEDS_VERSION = 1  # part of the cache file name: bump it whenever a composition changes


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


class _Loop:
    """A loop buffer; what is added past its end wraps to its start, so the loop tiles without a seam."""

    def __init__(self, seconds: float, sr: int) -> None:
        self.sr = sr
        self.buf = np.zeros(int(round(seconds * sr)), np.float64)

    def add(self, start_s: float, sound: np.ndarray, gain: float = 1.0) -> None:
        n, pos, done = len(self.buf), int(round(start_s * self.sr)) % len(self.buf), 0
        while done < len(sound):
            take = min(len(sound) - done, n - pos)
            self.buf[pos : pos + take] += gain * sound[done : done + take]
            done, pos = done + take, 0


def _env(n: int, sr: int, attack: float, decay: float | None = None, release: float = 0.0) -> np.ndarray:
    """Linear attack, then exponential decay (time constant ``decay``) or a sustain, then a linear release."""
    t = np.arange(n) / sr
    env = np.minimum(1.0, t / max(attack, 1e-4))
    if decay:
        env = env * np.exp(-np.maximum(t - attack, 0) / decay)
    if release:
        env = env * np.clip((t[-1] - t) / release, 0.0, 1.0)
    return env


def _partials(freq: float, seconds: float, sr: int, amps: tuple[float, ...], decay: float | None, attack: float,
              release: float = 0.0, detune: float = 0.0, phase: float = 0.0) -> np.ndarray:  # fmt: skip
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.zeros(n)
    for k, amp in enumerate(amps, 1):
        if freq * k >= 0.45 * sr:
            break
        tau = decay / k**0.7 if decay else None
        out += amp * np.sin(2 * np.pi * freq * k * (1 + detune) * t + phase * k) * _env(n, sr, attack, tau, release)
    return out


def _pad(notes: list[int], seconds: float, sr: int) -> np.ndarray:
    """Warm chord: each note twice, detuned apart, with a slow swell and a long release."""
    voices = [
        _partials(_hz(m), seconds, sr, (1.0, 0.3, 0.12), None, 1.5, 2.0, detune=d, phase=i)
        for i, m in enumerate(notes)
        for d in (-0.0015, 0.0015)
    ]
    return np.sum(voices, axis=0) / len(notes)


def _epiano(notes: list[int], sr: int) -> np.ndarray:
    tines = [_partials(_hz(m), 2.0, sr, (1.0, 0.35, 0.1, 0.05), 0.7, 0.004, 0.1) for m in notes]
    return np.mean(tines, axis=0)


def _pluck(midi: int, sr: int) -> np.ndarray:
    return _partials(_hz(midi), 0.6, sr, (1.0, 0.5, 0.33, 0.25, 0.2, 0.16), 0.18, 0.002, 0.05)


def _bass(midi: int, seconds: float, sr: int) -> np.ndarray:
    return _partials(_hz(midi), seconds, sr, (1.0, 0.25), None, 0.01, 0.08)


def _bell(midi: int, sr: int) -> np.ndarray:
    n = int(2.5 * sr)
    t = np.arange(n) / sr
    f = _hz(midi)
    ratios = ((1.0, 1.0), (2.76, 0.3), (5.4, 0.1))
    return np.sum([a * np.sin(2 * np.pi * f * r * t) * np.exp(-t * r / 1.2) for r, a in ratios], axis=0)


def _kick(sr: int) -> np.ndarray:
    t = np.arange(int(0.35 * sr)) / sr
    freq = 45 + 75 * np.exp(-t / 0.03)
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.12)


def _noise_hit(sr: int, rng: np.random.Generator, band: tuple[float, float], decay: float) -> np.ndarray:
    n = int(6 * decay * sr)
    hi = min(band[1], 0.45 * sr)
    lo = min(band[0], 0.7 * hi)
    noise = sosfilt(butter(2, (lo, hi), "bandpass", fs=sr, output="sos"), rng.standard_normal(n))
    return noise * np.exp(-np.arange(n) / sr / decay)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    hit = _noise_hit(sr, rng, (1000, 6000), 0.06)
    t = np.arange(len(hit)) / sr
    return hit + 0.5 * np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.04)


def _clap(sr: int, rng: np.random.Generator) -> np.ndarray:
    hit = _noise_hit(sr, rng, (900, 2600), 0.08)
    for d in (0.011, 0.023):
        hit[int(d * sr) :] += 0.7 * hit[: len(hit) - int(d * sr)]
    return hit


def _lowpass(x: np.ndarray, sr: int, hz: float) -> np.ndarray:
    """Low-pass a loop circularly (the filter is run in from the loop's own end), so the seam stays clean."""
    if hz >= 0.45 * sr:
        return x
    run_in = min(len(x), sr // 2)
    y = sosfilt(butter(2, hz, "lowpass", fs=sr, output="sos"), np.concatenate([x[len(x) - run_in :], x]))
    return y[run_in:]


def ambient(sr: int) -> np.ndarray:
    """60 BPM, 32 s: Cmaj7 - Am7 - Fmaj7 - G pads over a soft sub, with a few pentatonic bells."""
    rng = np.random.default_rng(11)
    loop = _Loop(32.0, sr)
    chords = ([48, 55, 59, 64], [45, 52, 55, 60], [41, 48, 52, 57], [43, 50, 55, 59])
    for i, chord in enumerate(chords):
        loop.add(8.0 * i, _pad(chord, 9.5, sr), 0.5)
        loop.add(8.0 * i, _bass(chord[0] - 12, 8.0, sr), 0.25)
    for _ in range(10):
        loop.add(0.5 * int(rng.integers(0, 64)), _bell(int(rng.choice([72, 74, 76, 79, 81, 84])), sr), 0.06)
    return _lowpass(loop.buf, sr, 6000)


def lofi(sr: int) -> np.ndarray:
    """78 BPM, 8 bars: swung Dm9 - G13 - Cmaj9 - A7 electric piano, bass, soft drums and vinyl crackle."""
    rng = np.random.default_rng(22)
    beat = 60 / 78
    loop = _Loop(32 * beat, sr)
    swing = 0.08 * beat
    chords = ([50, 53, 57, 60, 64], [43, 53, 59, 64], [48, 52, 59, 62], [45, 55, 61, 64])
    kick, snare = _kick(sr), _snare(sr, rng)
    for bar in range(8):
        chord, t0 = chords[bar % 4], bar * 4 * beat
        for hit, gain in ((0.0, 0.5), (2.5 * beat + swing, 0.35)):
            loop.add(t0 + hit, _epiano(chord, sr), gain)
        loop.add(t0, _bass(chord[0] - 12 * (chord[0] > 47), 1.8 * beat, sr), 0.35)
        loop.add(t0 + 2.5 * beat + swing, _bass(chord[0] - 12 * (chord[0] > 47), 1.2 * beat, sr), 0.3)
        for k in (0.0, 2.5 * beat + swing):
            loop.add(t0 + k, kick, 0.45)
        for k in (1, 3):
            loop.add(t0 + k * beat, snare, 0.12)
        for e in range(8):
            hat = _noise_hit(sr, rng, (7000, 12000), 0.02)
            loop.add(t0 + e * beat / 2 + (swing if e % 2 else 0.0), hat, 0.05 if e % 2 else 0.08)
    hiss = _lowpass(rng.standard_normal(len(loop.buf)), sr, 3000) * 0.004
    crackle = (rng.random(len(loop.buf)) < 3e-4) * rng.standard_normal(len(loop.buf)) * 0.05
    return _lowpass(loop.buf + hiss + crackle, sr, 4500)


def corporate(sr: int) -> np.ndarray:
    """112 BPM, 8 bars: bright plucked arpeggios over C - G - Am - F, pad, bass eighths, light four-on-the-floor."""
    rng = np.random.default_rng(33)
    beat = 60 / 112
    loop = _Loop(32 * beat, sr)
    chords = ([60, 64, 67], [59, 62, 67], [57, 60, 64], [57, 60, 65])
    kick, clap = _kick(sr), _clap(sr, rng)
    for bar in range(8):
        chord, t0 = chords[bar % 4], bar * 4 * beat
        loop.add(t0, _pad([m - 12 for m in chord], 4 * beat + 1.0, sr), 0.25)
        for s in range(16):
            note = chord[(0, 1, 2, 1)[s % 4]] + 12 * (s % 8 >= 4)
            loop.add(t0 + s * beat / 4, _pluck(note, sr), 0.16 if s % 4 == 0 else 0.1)
        for e in range(8):
            loop.add(t0 + e * beat / 2, _bass(chord[0] - 24, 0.45 * beat, sr), 0.3)
        for k in range(4):
            loop.add(t0 + k * beat, kick, 0.3)
            loop.add(t0 + (k + 0.5) * beat, _noise_hit(sr, rng, (8000, 14000), 0.02), 0.06)
        for k in (1, 3):
            loop.add(t0 + k * beat, clap, 0.1)
    return _lowpass(loop.buf, sr, 9000)


@dataclass(frozen=True)
class Bed:
    """A named music bed and the function that composes it at a sample rate."""

    name: str
    description: str
    compose: Callable[[int], np.ndarray]

    def render(self, sr: int) -> np.ndarray:
        """The loop at ``sr``, at -20 LUFS with its true peak under -3 dBTP."""
        return normalize(self.compose(sr).astype(np.float32), sr, BED_LUFS, -3.0)


BEDS: dict[str, Bed] = {
    "ambient": Bed("ambient", "slow, warm pads and soft bells; no drums", ambient),
    "lofi": Bed("lofi", "swung electric piano, bass and soft drums with vinyl crackle", lofi),
    "corporate": Bed("corporate", "bright plucked arpeggios, pad and a light beat", corporate),
}
DEFAULT_BED = "ambient"
