"""The watermark: Perth loads without torchaudio, marks speech inaudibly enough, and its detector finds it
after the changes audio goes through (and not in audio we never marked)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from realvoice.audio import decode, encode, resample
from realvoice.provenance import ProvenanceTag, Watermarker, read_tag
from realvoice.provenance.watermark import MIN_MARK_SECONDS, MIN_SECONDS

LIMITS = {"max_bytes": 10**8, "max_seconds": 600.0}


@pytest.fixture(scope="module")
def marker() -> Watermarker:
    return Watermarker.load()


@pytest.fixture(scope="module")
def speech(piper_samples) -> tuple[np.ndarray, int]:
    """About 20 s of unmarked speech at 24 kHz (our output rate)."""
    clips = [decode(p, **LIMITS) for p in piper_samples]
    return np.concatenate([resample(c.samples, c.sample_rate, 24000) for c in clips]), 24000


def test_the_stand_in_stft_is_perfect_reconstruction(marker):
    """torch.stft/istft with torchaudio's defaults: Perth's analysis and synthesis give back the signal."""
    ap = marker._perth.perth_net.ap
    x = torch.from_numpy(np.random.default_rng(0).standard_normal(32000 * 2).astype(np.float32) * 0.1)
    mag, phase = ap.signal_to_magphase(x)
    assert mag.shape[0] == 1025  # n_fft 2048, one-sided
    y = ap.magphase_to_signal(mag, phase)
    n = min(len(x), len(y))
    assert float(torch.max(torch.abs(x[:n] - y[:n]))) < 1e-4
    assert "torchaudio" not in __import__("sys").modules  # the stand-in is gone after the import


def test_marked_speech_is_detected_and_unmarked_is_not(marker, speech):
    x, sr = speech
    y = marker.mark(x, sr)
    assert y.shape == x.shape and y.dtype == np.float32 and np.max(np.abs(y)) <= 1.0
    snr = 10 * np.log10(np.sum(x**2) / np.sum((y - x) ** 2))
    assert snr > 10, snr  # a change in the spectral detail, not a second sound
    marked, clean = marker.detect(y, sr), marker.detect(x, sr)
    assert marked.watermarked and marked.confidence > 0.9, marked
    assert not clean.watermarked and clean.confidence < 0.5, clean


def test_the_mark_survives_mp3_and_a_lower_rate(marker, speech, tmp_path):
    x, sr = speech
    y = marker.mark(x, sr)
    mp3 = decode(encode(tmp_path / "m.mp3", y, sr), **LIMITS)
    assert marker.detect(mp3.samples, mp3.sample_rate).watermarked
    low = resample(resample(y, sr, 16000), 16000, sr)
    assert marker.detect(low, sr).watermarked
    assert not marker.detect(resample(resample(x, sr, 16000), 16000, sr), sr).watermarked


def test_a_short_sentence_is_marked_and_a_sliver_left_alone(marker, speech):
    x, sr = speech
    short = x[sr : sr + int(0.3 * sr)]
    assert not np.array_equal(marker.mark(short, sr), short)  # "Hi." is marked too
    sliver = x[sr : sr + int(0.5 * MIN_MARK_SECONDS * sr)]
    assert np.array_equal(marker.mark(sliver, sr), sliver)
    assert not marker.detect(x[: int(0.5 * MIN_SECONDS * sr)], sr).watermarked  # too little to judge
    assert not marker.detect(np.zeros(sr, np.float32), sr).watermarked


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_every_format_carries_the_tag(tmp_path, suffix):
    tag = ProvenanceTag.for_voice("abc123")
    path = encode(tmp_path / f"t{suffix}", np.zeros(24000, np.float32), 24000, tag.fields())
    assert read_tag(path) == tag
    assert read_tag(encode(tmp_path / f"u{suffix}", np.zeros(24000, np.float32), 24000)) is None


def test_a_tag_of_unknown_voice_reads_back(tmp_path):
    tag = ProvenanceTag("realvoice", "unknown", "2026-12-07T00:00:00+00:00")
    assert read_tag(encode(tmp_path / "u.mp3", np.zeros(24000, np.float32), 24000, tag.fields())) == tag


def test_the_tag_never_holds_the_voice_id():
    tag = ProvenanceTag.for_voice("0123456789abcdef0123456789abcdef")
    assert "0123456789abcdef" not in " ".join(tag.fields().values())
    assert tag.voice_hash == ProvenanceTag.for_voice("0123456789abcdef0123456789abcdef").voice_hash
