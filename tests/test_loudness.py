"""One output loudness (-16 LUFS, -1 dBTP by default) whichever way the speech is made."""

from __future__ import annotations

import numpy as np
import pytest

from realvoice.audio import decode, loudness_lufs
from realvoice.mix import true_peak_dbtp

pytestmark = pytest.mark.slow
TEXT = "Welcome back to the channel. Today we look at how sound travels, and why rooms echo. Let us begin."


def _measure(path) -> tuple[float, float]:
    track = decode(path, max_bytes=1 << 30, max_seconds=3600)
    return loudness_lufs(track.samples, track.sample_rate), true_peak_dbtp(track.samples, track.sample_rate)


@pytest.mark.parametrize(
    "suffix, options",
    [
        (".wav", {}),  # written sentence by sentence through the leveller
        (".flac", {"pitch_semitones": 2.0}),
        (".mp3", {}),  # rendered whole and normalised
        (".wav", {"effects": ["reverb", "eq"]}),
        (".ogg", {"effects": ["phone"], "background_music": "lofi"}),
        (".wav", {"effects": ["podcast"]}),  # a preset brings its own normalize, at the same level
    ],
)
def test_every_path_comes_out_at_the_output_loudness(service, alice_voice, tmp_path, suffix, options):
    r = service.render(alice_voice.voice_id, TEXT, "alice", output_path=tmp_path / f"s{suffix}", **options)
    assert r.success, r.errors
    lufs, peak = _measure(r.audio_path)
    target = service.settings.output_lufs
    assert abs(lufs - target) < 1.0, (suffix, options, lufs)
    assert peak <= service.settings.output_true_peak_db + 0.1, peak  # the decoded file, lossy ones too


def test_a_requested_loudness_wins(service, alice_voice, tmp_path):
    r = service.render(
        alice_voice.voice_id, TEXT, "alice", output_path=tmp_path / "quiet.wav", effects={"normalize": -23}
    )
    assert r.success, r.errors
    assert abs(_measure(r.audio_path)[0] - -23.0) < 0.5


def test_a_stream_comes_out_at_the_output_loudness(service, alice_voice):
    stream = service.open_speech_stream(alice_voice.voice_id, TEXT, "alice", format="pcm")
    pcm = np.frombuffer(b"".join(stream), "<i2").astype(np.float32) / 32768
    sr = service.engine.sample_rate
    assert abs(loudness_lufs(pcm, sr) - service.settings.output_lufs) < 1.0
    assert true_peak_dbtp(pcm, sr) <= service.settings.output_true_peak_db + 0.1
