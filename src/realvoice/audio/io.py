"""Decode any upload with PyAV (FFmpeg) within size and duration bounds; write audio files atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidSampleError, LimitExceededError

_MIN_BYTES = 44


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] and their rate, plus what the file was."""

    samples: np.ndarray
    sample_rate: int
    channels: int = 1
    format: str = ""

    @property
    def duration_s(self) -> float:
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0


def _check_size(p: Path, max_bytes: int) -> None:
    """Refuse a file that cannot be read, is empty, too large or too small to hold audio."""
    name = p.name
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise InvalidSampleError(f"{name}: the file cannot be read ({exc.strerror}).", code="unreadable") from exc
    if size == 0:
        raise InvalidSampleError(f"{name}: the file is empty (0 bytes).", code="empty_file")
    if size > max_bytes:
        raise LimitExceededError(
            f"{name}: the file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.", code="file_too_large"
        )
    if size < _MIN_BYTES:
        raise InvalidSampleError(f"{name}: the file is too small to hold audio ({size} bytes).", code="unreadable")


def decode(path: str | os.PathLike[str], *, max_bytes: int, max_seconds: float) -> Audio:
    """Read any audio file FFmpeg knows, judged by its content, not its name; mix to mono.

    Refuses files over ``max_bytes`` before opening them, and stops decoding as soon as the
    audio runs past ``max_seconds``, so no upload is ever loaded unbounded.
    """
    import av

    p = Path(path)
    name = p.name
    _check_size(p, max_bytes)
    try:
        container = av.open(str(p), mode="r", metadata_errors="ignore")
    except Exception as exc:  # FFmpeg raises many kinds; all mean "not audio we can read"
        raise InvalidSampleError(
            f"{name}: not a readable audio file (formats: WAV, MP3, FLAC, OGG, Opus, WebM, M4A).", code="unreadable"
        ) from exc
    with container:
        if not container.streams.audio:
            raise InvalidSampleError(f"{name}: the file holds no audio stream.", code="no_audio_stream")
        stream = container.streams.audio[0]
        fmt = container.format.name if container.format else ""
        channels = stream.codec_context.channels or 1
        rate = stream.codec_context.sample_rate or 0
        if stream.duration is not None and stream.time_base is not None:
            declared = float(stream.duration * stream.time_base)
            if declared > max_seconds * 1.05:
                raise LimitExceededError(
                    f"{name}: the recording is {declared:.0f} s long; the limit is {max_seconds:.0f} s.",
                    code="too_long",
                )
        if channels < 1 or stream.layout is None or not stream.layout.nb_channels:
            # A file FFmpeg only guessed at (a ZIP renamed .mp3): it has an "audio stream" of no channels.
            raise InvalidSampleError(
                f"{name}: not a readable audio file (its audio stream has no channels).", code="unreadable"
            )
        # Planar float in the stream's own layout; channels are averaged here (FFmpeg's mono downmix sums them).
        try:
            resampler = av.AudioResampler(format="fltp", layout=stream.layout.name, rate=rate or None)
        except ValueError as exc:
            raise InvalidSampleError(f"{name}: not a readable audio file ({exc}).", code="unreadable") from exc
        parts: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                rate = rate or frame.sample_rate
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().mean(axis=0)
                    parts.append(arr)
                    total += len(arr)
                if rate and total > max_seconds * rate:
                    raise LimitExceededError(
                        f"{name}: the recording is longer than the {max_seconds:.0f} s limit.", code="too_long"
                    )
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().mean(axis=0))
        except LimitExceededError:
            raise
        except Exception as exc:
            if not parts:
                raise InvalidSampleError(
                    f"{name}: the audio data is corrupt or truncated and could not be decoded.", code="corrupt"
                ) from exc
            # A truncated tail: keep what decoded cleanly.
    samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    if samples.size == 0 or not rate:
        raise InvalidSampleError(f"{name}: the file decodes to no audio at all.", code="empty_audio")
    if not np.all(np.isfinite(samples)):
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    return Audio(np.clip(samples, -1.0, 1.0), int(rate), int(channels), fmt)


@contextmanager
def atomic_path(path: Path) -> Iterator[str]:
    """A temp file in ``path``'s folder to write; fsynced and renamed onto ``path`` only when the block
    completes, removed if it fails: never a half-written file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, write: Callable[[str], object]) -> Path:
    """Write a whole file through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        write(tmp)
    return path


Tags = Mapping[str, str]  # libsndfile string fields: title, software, comment, date...


@contextmanager
def _sound_file(path: str, sample_rate: int, fmt: str, subtype: str | None, tags: Tags | None) -> Iterator[Any]:
    import soundfile as sf

    with sf.SoundFile(path, "w", samplerate=sample_rate, channels=1, subtype=subtype, format=fmt) as fh:
        for key, value in (tags or {}).items():
            setattr(fh, key, value)
        yield fh


@contextmanager
def atomic_sound_file(path: Path, sample_rate: int, tags: Tags | None = None) -> Iterator[Any]:
    """A soundfile opened for incremental writing (WAV or FLAC by extension) through :func:`atomic_path`."""
    fmt = "FLAC" if path.suffix.lower() == ".flac" else "WAV"
    with atomic_path(path) as tmp, _sound_file(tmp, sample_rate, fmt, "PCM_16", tags) as fh:
        yield fh


def _write(path: Path, data: np.ndarray, sample_rate: int, fmt: str, subtype: str | None, tags: Tags | None) -> Path:
    def write(tmp: str) -> None:
        with _sound_file(tmp, sample_rate, fmt, subtype, tags) as fh:
            fh.write(data)

    return atomic_write(path, write)


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int, tags: Tags | None = None) -> Path:
    """16-bit PCM mono WAV, written atomically."""
    data = np.clip(np.asarray(samples, np.float32), -1.0, 1.0)
    return _write(Path(path), data, sample_rate, "WAV", "PCM_16", tags)


_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "OPUS"), ".mp3": ("MP3", None)}
OUTPUT_FORMATS = tuple(ext.lstrip(".") for ext in _FORMATS)  # what a speech file can be written as


def check_output_format(path: str | os.PathLike[str]) -> str:
    """The file's extension if ``encode`` can write it, else ``unsupported_format`` naming the choices."""
    ext = Path(path).suffix.lower()
    if ext not in _FORMATS:
        from ..errors import InvalidInputError

        shown = f"'{ext}'" if ext else "no extension"
        raise InvalidInputError(
            f"cannot write {Path(path).name!r} ({shown}): name the file .wav, .flac, .ogg or .mp3",
            code="unsupported_format",
        )
    return ext


def encode(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int, tags: Tags | None = None) -> Path:
    """Write WAV, FLAC, OGG/Opus or MP3, chosen by the file's extension, with ``tags`` in its metadata."""
    p = Path(path)
    ext = check_output_format(p)
    if ext == ".wav":
        return write_wav(p, samples, sample_rate, tags)
    fmt, subtype = _FORMATS[ext]
    data = np.clip(np.asarray(samples, np.float32), -1.0, 1.0)
    if ext == ".ogg" and sample_rate not in (8000, 12000, 16000, 24000, 48000):
        from .dsp import resample

        data, sample_rate = resample(data, sample_rate, 48000), 48000
    return _write(p, data, sample_rate, fmt, subtype, tags)
