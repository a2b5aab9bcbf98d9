"""The reverberation hint: dry speech never warns, the same speech in an echoing room does."""

from __future__ import annotations

import numpy as np
import pytest

from realvoice.audio import Audio, decode
from realvoice.samples import measure
from realvoice.samples.reverb import add_reverb, decay_rate, room_impulse_response
from realvoice.samples.validate import REVERB_DECAY_DB_S

from ..helpers import manifest, vowel

SR = 16000


def _syllables(seconds: float = 6.0) -> np.ndarray:
    """Synthetic vowels of 150-300 ms with abrupt ends and short gaps: speech-like free decays."""
    rng = np.random.default_rng(0)
    parts = []
    while sum(len(p) for p in parts) < seconds * SR:
        v = vowel(float(rng.uniform(110, 220)), float(rng.uniform(0.15, 0.3)), sr=SR)
        parts += [v * np.hanning(len(v)) ** 0.2, np.zeros(int(rng.uniform(0.08, 0.25) * SR), np.float32)]
    return np.concatenate(parts).astype(np.float32)


def test_room_impulse_response_decays_60_db_in_rt60():
    h = room_impulse_response(0.5, SR, seed=1).astype(np.float64)
    energy = np.cumsum(h[::-1] ** 2)[::-1]  # Schroeder backward integral
    edc = 10 * np.log10(energy / energy[0])
    t_minus_30 = np.argmax(edc < -30) / SR
    assert 2 * t_minus_30 == pytest.approx(0.5, rel=0.1)


def test_decay_slows_as_the_room_grows_on_synthetic_syllables():
    x = _syllables()
    rates = [decay_rate(x, SR)] + [decay_rate(add_reverb(x, SR, rt, seed=2), SR) for rt in (0.4, 1.0)]
    assert None not in rates
    dry, *wet = rates
    assert dry > REVERB_DECAY_DB_S + 50, rates
    assert all(r < REVERB_DECAY_DB_S for r in wet), rates


def test_too_little_to_judge_gives_no_estimate():
    assert decay_rate(np.zeros(SR, np.float32), SR) is None
    assert decay_rate(vowel(150, 0.5, sr=SR), SR) is None


def _dev_clips(per_speaker: int = 2) -> list[tuple[str, Audio]]:
    """The longest ``per_speaker`` utterances of every dev speaker (VCC2016 and LJ Speech)."""
    from ..helpers import speech_dev_or_skip

    root = speech_dev_or_skip()
    rows = sorted(manifest(), key=lambda r: -float(r["duration_s"]))
    picked: dict[str, list[str]] = {}
    for r in rows:
        if len(picked.setdefault(r["speaker"], [])) < per_speaker:
            picked[r["speaker"]].append(r["path"])
    return [(p, decode(root / p, max_bytes=10**8, max_seconds=60)) for ps in picked.values() for p in ps]


def _warns(audio: Audio) -> tuple[bool, float | None]:
    m = measure(audio, min_speech_s=1.0)
    return "reverberant" in {i.code for i in m.issues}, m.metrics.decay_rate_db_s


@pytest.fixture(scope="module")
def dev_clips():
    return _dev_clips()


@pytest.mark.devdata
@pytest.mark.parametrize(
    "rt60,min_rate",
    [(None, 0.0), (0.7, 0.9), (1.0, 0.9)],
    ids=["dry", "rt60 0.7 s", "rt60 1.0 s"],
)
def test_reverberant_warning_on_real_speech(dev_clips, rt60, min_rate):
    verdicts = []
    for k, (path, a) in enumerate(dev_clips):
        x = a.samples if rt60 is None else add_reverb(a.samples, a.sample_rate, rt60, seed=k)
        verdicts.append((path, *_warns(Audio(samples=x, sample_rate=a.sample_rate, channels=1, format="wav"))))
    warned = [v for v in verdicts if v[1]]
    if rt60 is None:
        assert not warned, warned  # a dry recording must never be told it echoes
        assert all(v[2] is not None and v[2] > REVERB_DECAY_DB_S for v in verdicts), verdicts
    else:
        assert len(warned) / len(verdicts) >= min_rate, verdicts


@pytest.mark.devdata
def test_echo_lowers_sample_quality_and_is_not_taken_for_a_second_speaker(tmp_path):
    """A real false alarm, kept as a regression: SM1 in a 0.7 s room read as two people under the
    clean-speech limit; echo also costs the sample quality points, since the fit learns it."""
    import soundfile as sf

    from realvoice.analysis import SpeakerEncoder
    from realvoice.samples import take_in

    from ..helpers import speaker_files

    a = decode([p for p in speaker_files("vcc2016_SM1") if p.stem == "100013"][0], max_bytes=10**8, max_seconds=60)
    sf.write(tmp_path / "dry.wav", a.samples, a.sample_rate)
    sf.write(tmp_path / "wet.wav", add_reverb(a.samples, a.sample_rate, 0.7, seed=7), a.sample_rate)
    dry, wet = take_in(
        [tmp_path / "dry.wav", tmp_path / "wet.wav"],
        max_bytes=10**8,
        max_seconds=60,
        min_speech_s=1.0,
        embed=SpeakerEncoder.load().embed,
    ).reports
    assert dry.accepted and wet.accepted, (dry.issues, wet.issues)
    assert "reverberant" in {i.code for i in wet.issues}
    assert wet.quality < dry.quality - 20, (dry.quality, wet.quality)
