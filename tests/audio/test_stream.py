"""Stream encoders: every format decodes back to the audio it was given, and bytes come out as chunks go in."""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import pytest

from realvoice.audio.stream import FORMATS, stream_encoder
from realvoice.errors import InvalidInputError
from realvoice.mix import parse_effects
from realvoice.mix.stream import StreamEffects

SR = 24000


def tone(seconds: float, hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def decoded_seconds(data: bytes) -> tuple[float, int]:
    with av.open(io.BytesIO(data)) as c:
        stream = c.streams.audio[0]
        samples = sum(f.samples for f in c.decode(stream))
        return samples / stream.codec_context.sample_rate, stream.codec_context.sample_rate


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav"])
def test_each_format_decodes_to_the_audio_given_and_sends_bytes_before_the_end(fmt):
    enc = stream_encoder(fmt, SR)
    parts = [enc.encode(tone(0.5)) for _ in range(4)]
    tail = enc.finish()
    # Something is sent before the stream ends (a client can start playing): at least 3 of 4 chunks give bytes.
    assert sum(bool(p) for p in parts) >= 3, [len(p) for p in parts]
    seconds, _ = decoded_seconds(b"".join(parts) + tail)
    assert seconds == pytest.approx(2.0, abs=0.08), seconds  # encoder priming/padding only


def test_wav_stream_header_says_unknown_length_and_carries_pcm():
    enc = stream_encoder("wav", SR)
    first = enc.encode(tone(0.1))
    assert first[:4] == b"RIFF" and first[8:16] == b"WAVEfmt "
    assert struct.unpack("<I", first[4:8])[0] == 0xFFFFFFFF
    assert struct.unpack("<I", first[24:28])[0] == SR
    assert len(first) == 44 + 2 * int(0.1 * SR)
    assert len(enc.encode(tone(0.1))) == 2 * int(0.1 * SR)  # the header is sent once


def test_pcm_is_raw_16_bit_little_endian():
    x = tone(0.2)
    data = stream_encoder("pcm", SR).encode(x)
    back = np.frombuffer(data, "<i2").astype(np.float32) / 32767
    assert len(back) == len(x) and np.max(np.abs(back - x)) < 1e-4


def test_unknown_format_is_refused():
    with pytest.raises(InvalidInputError) as err:
        stream_encoder("aiff", SR)
    assert err.value.code == "bad_format"
    assert set(FORMATS) >= {"mp3", "opus", "aac", "flac", "wav", "pcm"}


def test_chunked_echo_and_reverb_equal_the_whole_clip():
    """Linear effects run chunk by chunk, with each tail carried over, give what the whole clip gives."""
    rng = np.random.default_rng(0)
    chunks = [rng.standard_normal(int(s * SR)).astype(np.float32) * 0.05 for s in (0.7, 0.4, 1.1)]
    chain = parse_effects({"echo": {"delay_seconds": 0.25, "feedback": 0.4, "mix": 0.3}})
    fx = StreamEffects(chain, SR)
    streamed = np.concatenate([fx.process(c) for c in chunks] + [fx.flush()])
    whole = chain(np.concatenate(chunks), SR)
    n = min(len(streamed), len(whole))
    assert n >= sum(map(len, chunks))
    err = np.max(np.abs(streamed[:n] - whole[:n]))
    assert err < 1e-3, err
