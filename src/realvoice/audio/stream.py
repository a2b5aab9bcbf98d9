"""Encoders that turn audio chunks into bytes as they arrive, for responses sent while speech is made.

Each encoder takes mono float32 chunks and returns whatever bytes are ready, so a client can start
playing before the text is finished. WAV and raw PCM are written here (a header and 16-bit samples);
MP3, Opus-in-Ogg, AAC (ADTS) and FLAC go through FFmpeg (PyAV) into a sink that is never seeked.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from ..errors import InvalidInputError

StreamFormat = Literal["mp3", "opus", "ogg", "aac", "flac", "wav", "pcm"]


class StreamEncoder(Protocol):
    """Bytes for each chunk as it comes, then the last bytes when the stream ends."""

    def encode(self, samples: np.ndarray) -> bytes: ...

    def finish(self) -> bytes: ...


@dataclass(frozen=True)
class FormatInfo:
    media_type: str
    extension: str


FORMATS: dict[str, FormatInfo] = {
    "mp3": FormatInfo("audio/mpeg", "mp3"),
    "opus": FormatInfo("audio/ogg; codecs=opus", "opus"),
    "ogg": FormatInfo("audio/ogg; codecs=opus", "ogg"),
    "aac": FormatInfo("audio/aac", "aac"),
    "flac": FormatInfo("audio/flac", "flac"),
    "wav": FormatInfo("audio/wav", "wav"),
    "pcm": FormatInfo("audio/pcm", "pcm"),  # 16-bit signed little-endian mono at the engine's rate
}

# (container, codec, bit rate): bit rates are what speech needs at 24 kHz, as OpenAI's defaults are.
_AV = {
    "mp3": ("mp3", "libmp3lame", 128_000),
    "opus": ("ogg", "libopus", 64_000),
    "ogg": ("ogg", "libopus", 64_000),
    "aac": ("adts", "aac", 96_000),
    "flac": ("flac", "flac", 0),
}


def _pcm16(samples: np.ndarray) -> bytes:
    x = np.clip(np.asarray(samples, np.float32), -1.0, 1.0)
    return (np.round(x * 32767.0)).astype("<i2").tobytes()


class PcmEncoder:
    """Raw 16-bit little-endian samples: what low-latency clients (and OpenAI's ``pcm``) expect."""

    def encode(self, samples: np.ndarray) -> bytes:
        return _pcm16(samples)

    def finish(self) -> bytes:
        return b""


class WavStreamEncoder:
    """A WAV header whose sizes say "unknown" (0xFFFFFFFF, as streaming servers write), then PCM.

    The header goes out with the first chunk, so the first byte a client gets is already audio.
    """

    def __init__(self, sample_rate: int, tags: Mapping[str, str] | None = None) -> None:
        self.sample_rate = sample_rate
        self._info = _riff_info(tags or {})
        self._header_sent = False

    def header(self) -> bytes:
        rate = self.sample_rate
        fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
        return (
            b"RIFF"
            + struct.pack("<I", 0xFFFFFFFF)
            + b"WAVEfmt "
            + struct.pack("<I", 16)
            + fmt
            + self._info
            + b"data"
            + (struct.pack("<I", 0xFFFFFFFF))
        )

    def encode(self, samples: np.ndarray) -> bytes:
        head = b"" if self._header_sent else self.header()
        self._header_sent = True
        return head + _pcm16(samples)

    def finish(self) -> bytes:
        return b"" if self._header_sent else self.header()


_INFO_IDS = {"title": b"INAM", "comment": b"ICMT", "software": b"ISFT", "date": b"ICRD"}


def _riff_info(tags: Mapping[str, str]) -> bytes:
    """A ``LIST``/``INFO`` chunk (what libsndfile writes for a WAV file's tags); empty without tags."""
    body = b""
    for key, value in tags.items():
        if key in _INFO_IDS:
            data = value.encode("utf-8") + b"\0"
            body += _INFO_IDS[key] + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    return b"LIST" + struct.pack("<I", 4 + len(body)) + b"INFO" + body if body else b""


class _Sink:
    """A write-only file for FFmpeg's muxer; what it wrote is taken out after each chunk."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


class AvStreamEncoder:
    """MP3, Opus in Ogg, AAC in ADTS or FLAC through PyAV, muxed into a sink that is never seeked."""

    def __init__(self, fmt: str, sample_rate: int, tags: Mapping[str, str] | None = None) -> None:
        import av

        container_name, codec, bit_rate = _AV[fmt]
        self._sink = _Sink()
        # Ogg holds packets for up to a second before writing a page; 20 ms pages send audio as it is made.
        options = {"page_duration": "20000"} if container_name == "ogg" else {}
        self._container = av.open(self._sink, mode="w", format=container_name, options=options)
        self._container.metadata.update({k: v for k, v in (tags or {}).items() if k != "software"})
        stream = self._container.add_stream(codec, rate=sample_rate)
        assert isinstance(stream, av.AudioStream)
        self._stream: av.AudioStream = stream
        stream.layout = "mono"
        if bit_rate:
            self._stream.codec_context.bit_rate = bit_rate
        encoded_as = stream.codec_context.format
        self._resampler = av.AudioResampler(
            format=encoded_as.name if encoded_as else None, layout="mono", rate=sample_rate
        )
        self.sample_rate = sample_rate
        self._closed = False

    def _mux(self, frame) -> None:
        for out in self._resampler.resample(frame):
            for packet in self._stream.encode(out):
                self._container.mux(packet)

    def encode(self, samples: np.ndarray) -> bytes:
        import av

        x = np.clip(np.asarray(samples, np.float32), -1.0, 1.0)
        if len(x):
            frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
            frame.sample_rate = self.sample_rate
            self._mux(frame)
        return self._sink.take()

    def finish(self) -> bytes:
        if not self._closed:
            self._closed = True
            self._mux(None)
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
        return self._sink.take()


def stream_encoder(fmt: str, sample_rate: int, tags: Mapping[str, str] | None = None) -> StreamEncoder:
    """The encoder for ``fmt`` (one of :data:`FORMATS`); ``tags`` go into its container (raw PCM has none)."""
    if fmt not in FORMATS:
        raise InvalidInputError(
            f"unsupported stream format {fmt!r}; use one of {', '.join(FORMATS)}", code="bad_format"
        )
    if fmt == "pcm":
        return PcmEncoder()
    if fmt == "wav":
        return WavStreamEncoder(sample_rate, tags)
    return AvStreamEncoder(fmt, sample_rate, tags)
