"""Background music: pick a bed (bundled or the user's file), fit it to the speech, fade it and duck it under
the voice, then master the mix to the voice's own loudness with a true-peak ceiling."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import binary_closing, binary_opening, uniform_filter1d

from ..audio import loudness_lufs
from ..errors import InvalidInputError
from .beds import BEDS, BEDS_VERSION, DEFAULT_BED
from .loudness import limit_true_peak, normalize

MusicSpec = np.ndarray | str | os.PathLike[str] | bool | None
_HOP_S = 0.01  # ducking is decided every 10 ms
_rendered: dict[tuple[str, int], np.ndarray] = {}
_lock = threading.Lock()


def _cache_dir(cache_dir: str | os.PathLike[str] | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    from ..config import Settings

    return Settings().cache_dir / "music"


def render_bed(name: str, sr: int, *, cache_dir: str | os.PathLike[str] | None = None) -> np.ndarray:
    """A bundled bed at ``sr``: composed on first use, then read from the cache (a WAV per bed and rate)."""
    if name not in BEDS:
        raise _unknown_music(name)
    with _lock:
        if (name, sr) in _rendered:
            return _rendered[(name, sr)]
        import soundfile as sf

        from ..audio import write_wav

        path = _cache_dir(cache_dir) / f"{name}-v{BEDS_VERSION}-{sr}.wav"
        if not path.exists():
            write_wav(path, BEDS[name].render(sr), sr)
        bed, _ = sf.read(path, dtype="float32")  # always the stored 16-bit version, so every use is identical
        bed.flags.writeable = False
        _rendered[(name, sr)] = bed
        return bed


def _unknown_music(spec: object) -> InvalidInputError:
    return InvalidInputError(
        f"no music bed named {str(spec)!r} and no such file; choose {', '.join(BEDS)} or default, "
        "or give the path of an audio file",
        code="unknown_music",
    )


def load_music(
    spec: MusicSpec,
    sr: int,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    max_bytes: int = 50 * 1024 * 1024,
    max_seconds: float = 1800.0,
) -> np.ndarray:
    """``True``/``None``/``"default"``: the default bed; a bed name; or the path of a user's track (decoded and
    resampled to ``sr``). An array is taken as music already at ``sr``."""
    if isinstance(spec, np.ndarray):
        return np.asarray(spec, np.float32)
    if spec is None or spec is True or (isinstance(spec, str) and spec.strip().lower() == "default"):
        return render_bed(DEFAULT_BED, sr, cache_dir=cache_dir)
    if spec is False:
        raise InvalidInputError("background music is switched off (False); there is no track to load")
    if isinstance(spec, str) and spec.strip().lower() in BEDS:
        return render_bed(spec.strip().lower(), sr, cache_dir=cache_dir)
    if not Path(spec).is_file():
        raise _unknown_music(spec)
    from ..audio import decode, resample

    track = decode(spec, max_bytes=max_bytes, max_seconds=max_seconds)
    return resample(track.samples, track.sample_rate, sr)


def _is_bed(track: np.ndarray) -> bool:
    return any(track is bed for bed in _rendered.values())


def is_generated_bed(track: np.ndarray) -> bool:
    """Is ``track`` one of the generated beds (which loop without a seam) rather than a user's file?"""
    return _is_bed(track)


def fit_length(track: np.ndarray, n: int, sr: int, crossfade_s: float = 1.0) -> np.ndarray:
    """Trim ``track`` to ``n`` samples, or loop it, with an equal-power crossfade over each seam."""
    track = np.asarray(track, np.float32)
    if len(track) == 0:
        return np.zeros(n, np.float32)
    if len(track) >= n:
        return track[:n].copy()
    xf = min(int(crossfade_s * sr), len(track) // 4)
    if xf == 0:
        return np.resize(track, n)
    fade = np.sin(np.linspace(0.0, np.pi / 2, xf, dtype=np.float32))
    seam = track[:xf] * fade + track[-xf:] * fade[::-1]
    period = np.concatenate([seam, track[xf:-xf]])  # each repeat after the first starts on the blended seam
    first = track[:-xf]
    return np.concatenate([first, np.resize(period, n - len(first))])


def speech_activity(voice: np.ndarray, sr: int) -> np.ndarray:
    """Per 10 ms frame: is the voice speaking? Frames within 30 dB of the voice's loud level count; gaps under
    300 ms are bridged and blips under 50 ms ignored."""
    hop = max(1, int(_HOP_S * sr))
    frames = len(voice) // hop + 1
    power = np.maximum(uniform_filter1d(np.asarray(voice, np.float64) ** 2, 3 * hop)[::hop][:frames], 0.0)
    level = 10 * np.log10(power + 1e-12)
    if level.max() < -60:
        return np.zeros(frames, bool)
    active = level > max(np.percentile(level, 95) - 30.0, -60.0)
    active = binary_closing(active, np.ones(31, bool)) | active
    return binary_opening(active, np.ones(5, bool))


def duck_gain(
    active: np.ndarray,
    n: int,
    sr: int,
    duck_db: float,
    attack_ms: float,
    release_ms: float,
    *,
    start_db: float = 0.0,
) -> np.ndarray:
    """Music gain per sample: ``duck_db`` while the voice speaks, 0 dB in gaps. The duck starts ``attack_ms``
    ahead of each phrase (the mix is offline, so it can look ahead) and recovers over ``release_ms``.
    ``start_db`` is the gain the smoothing starts from (a stream's previous chunk ended there)."""
    ahead = int(attack_ms / 1000 / _HOP_S)
    early = active.copy()
    for k in range(1, ahead + 1):
        early[:-k] |= active[k:]
    target = np.where(early, duck_db, 0.0)
    down, up = (np.exp(-3.0 / max(1.0, ms / 1000 / _HOP_S)) for ms in (attack_ms, release_ms))
    smooth = np.empty_like(target)
    g = start_db
    for i, t in enumerate(target):
        a = down if t < g else up
        g = a * g + (1 - a) * t
        smooth[i] = g
    hop = max(1, int(_HOP_S * sr))
    return (10 ** (np.interp(np.arange(n), np.arange(len(smooth)) * hop, smooth) / 20)).astype(np.float32)


def _fades(n: int, sr: int, fade_in_s: float, fade_out_s: float) -> np.ndarray:
    env = np.ones(n, np.float32)
    for length, rising in ((int(fade_in_s * sr), True), (int(fade_out_s * sr), False)):
        length = min(length, n)
        if length:
            ramp = np.sin(np.linspace(0.0, np.pi / 2, length, dtype=np.float32)) ** 2
            if rising:
                env[:length] *= ramp
            else:
                env[n - length :] *= ramp[::-1]
    return env


@dataclass(frozen=True)
class Mixdown:
    """A voice over music: the mastered ``audio`` and, before mastering, the aligned stems and where speech is."""

    audio: np.ndarray
    voice: np.ndarray
    music: np.ndarray
    speech: np.ndarray  # bool per sample
    sample_rate: int
    voice_start: int

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate


def mix_music(
    voice: np.ndarray,
    sr: int,
    music: MusicSpec = None,
    *,
    music_db: float = -15.0,
    duck_db: float = -12.0,
    attack_ms: float = 80.0,
    release_ms: float = 400.0,
    lead_in_s: float = 1.0,
    tail_s: float = 2.0,
    fade_in_s: float = 1.0,
    fade_out_s: float = 2.0,
    true_peak_db: float = -1.0,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Mixdown:
    """Put ``music`` ``music_db`` LU under the voice's loudness, ``duck_db`` lower again while it speaks.

    The music plays ``lead_in_s`` before the voice (fading in) and ``tail_s`` after it (fading out); the
    mix keeps the voice's integrated loudness and its true peak stays under ``true_peak_db``.
    """
    voice = np.asarray(voice, np.float32)
    lead, tail = int(lead_in_s * sr), int(tail_s * sr)
    n = lead + len(voice) + tail
    track = load_music(music, sr, cache_dir=cache_dir)
    bed = fit_length(track, n, sr, crossfade_s=0.0 if _is_bed(track) else 1.0)
    bed = _pocket(bed, sr)
    voice_lufs = loudness_lufs(voice, sr)
    reference = voice_lufs if voice_lufs > -70.0 else -16.0
    bed_lufs = loudness_lufs(bed, sr)
    level = 10 ** ((reference + music_db - bed_lufs) / 20) if bed_lufs > -70.0 else 0.0
    placed = np.pad(voice, (lead, tail))
    active = speech_activity(placed, sr)
    stem = bed * level * duck_gain(active, n, sr, duck_db, attack_ms, release_ms) * _fades(n, sr, fade_in_s, fade_out_s)
    mixed = placed + stem
    mixed = (
        normalize(mixed, sr, reference, true_peak_db)
        if voice_lufs > -70.0
        else limit_true_peak(mixed, sr, true_peak_db)
    )
    speech = np.repeat(active, max(1, int(_HOP_S * sr)))[:n]
    return Mixdown(mixed, placed, stem.astype(np.float32), np.pad(speech, (0, n - len(speech))), sr, lead)


def _pocket(bed: np.ndarray, sr: int) -> np.ndarray:
    """Carve a gentle dip where speech is most intelligible (around 2.5 kHz) so the voice sits on top."""
    import pedalboard as pb

    return pb.PeakFilter(cutoff_frequency_hz=min(2500.0, 0.4 * sr), gain_db=-4.0, q=0.7)(bed, sr).astype(np.float32)


def add_background_music(voice: np.ndarray, sr: int, music: MusicSpec = None, **options: Any) -> np.ndarray:
    """The mixed audio of ``mix_music``: ``music`` None or True for the default bed, a bed name, a file, or samples."""
    return mix_music(voice, sr, music, **options).audio
