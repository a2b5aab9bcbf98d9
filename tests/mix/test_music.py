"""Music beds and the mix: deterministic loops, length and fades, ducking under speech, mastered loudness."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfiltfilt

from realvoice.audio import loudness_lufs
from realvoice.errors import InvalidInputError
from realvoice.mix import (
    BEDS,
    add_background_music,
    apply_effects,
    fit_length,
    load_music,
    mix_music,
    render_bed,
)
from realvoice.mix import music as music_module
from realvoice.mix.beds import BEDS_VERSION

from .signals import SR, true_peak_db

SR_BED = 16000  # beds render faster at a low rate; the mixing tests use SR


def _rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def _bursts(on_s: float = 2.0, off_s: float = 2.0, count: int = 3) -> np.ndarray:
    """A 'voice' of 1 kHz tone bursts with long pauses, so ducking can be read off in each."""
    t = np.arange(int(on_s * SR)) / SR
    burst = 0.3 * np.sin(2 * np.pi * 1000 * t) * np.minimum(1, np.minimum(t, t[-1] - t) / 0.01)
    gap = np.zeros(int(off_s * SR))
    return np.concatenate([gap, *[np.concatenate([burst, gap]) for _ in range(count)]]).astype(np.float32)


@pytest.mark.parametrize("name", sorted(BEDS))
def test_beds_are_deterministic_seamless_and_cached(name, tmp_path, monkeypatch):
    monkeypatch.setattr(music_module, "_rendered", {})
    bed = render_bed(name, SR_BED, cache_dir=tmp_path)
    cached = tmp_path / f"{name}-v{BEDS_VERSION}-{SR_BED}.wav"
    assert cached.exists() and len(bed) / SR_BED > 15
    monkeypatch.setattr(music_module, "_rendered", {})
    again = render_bed(name, SR_BED, cache_dir=tmp_path)  # read back from the cache file
    fresh = BEDS[name].render(SR_BED)  # composed again from scratch
    assert np.max(np.abs(again - fresh)) < 2 / 32768 and np.array_equal(again, bed)
    assert abs(loudness_lufs(fresh, SR_BED) - -20.0) < 0.5
    step = np.abs(np.diff(fresh))
    assert abs(fresh[0] - fresh[-1]) <= np.percentile(step, 99.9)  # looping makes no click


def test_mix_lasts_the_speech_plus_lead_in_and_tail_with_fades(speech, tmp_path):
    mix = mix_music(speech, SR, "ambient", lead_in_s=1.0, tail_s=2.0, cache_dir=tmp_path)
    assert len(mix.audio) == len(speech) + 3 * SR and mix.voice_start == SR
    assert _rms_db(mix.audio[: int(0.05 * SR)]) < -60  # fades in from silence
    assert _rms_db(mix.audio[-int(0.05 * SR) :]) < -55  # and out to it
    assert _rms_db(mix.audio[int(0.5 * SR) : SR]) > -45  # music plays before the voice comes in
    assert np.allclose(mix.voice[SR : SR + len(speech)], speech)


def test_music_is_ducked_while_the_voice_speaks():
    voice = _bursts()
    t = np.arange(len(voice) + 3 * SR) / SR
    bed = (0.2 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    mix = mix_music(voice, SR, bed, duck_db=-12.0, lead_in_s=1.0, tail_s=2.0)
    # read the music out of the final mix by its own band (the voice is at 1 kHz)
    music_in_mix = sosfiltfilt(butter(4, (100, 220), "bandpass", fs=SR, output="sos"), mix.audio)
    speaking = [music_in_mix[int((1 + 2 + 4 * k + 0.5) * SR) : int((1 + 2 + 4 * k + 1.5) * SR)] for k in range(3)]
    pauses = [music_in_mix[int((1 + 4 * k + 0.8) * SR) : int((1 + 4 * k + 1.5) * SR)] for k in range(1, 3)]
    drop = np.mean([_rms_db(p) for p in pauses]) - np.mean([_rms_db(s) for s in speaking])
    assert 10.0 < drop < 14.0
    assert mix.speech[int(3.5 * SR)] and not mix.speech[int(5.5 * SR)]


def test_mix_keeps_the_voice_loudness_and_the_true_peak_ceiling(speech, tmp_path):
    voice = apply_effects(speech, SR, "podcast")
    for bed in ("lofi", "corporate"):
        audio = add_background_music(voice, SR, bed, cache_dir=str(tmp_path))
        assert abs(loudness_lufs(audio, SR) - -16.0) <= 0.5
        assert true_peak_db(audio, SR) <= -1.0


def test_speech_sits_well_above_the_music(speech, tmp_path):
    mix = mix_music(speech, SR, "corporate", music_db=-15.0, duck_db=-12.0, cache_dir=tmp_path)
    voice_lufs = loudness_lufs(mix.voice[mix.speech], SR)
    music_lufs = loudness_lufs(mix.music[mix.speech], SR)
    assert voice_lufs - music_lufs > 20.0
    louder = mix_music(speech, SR, "corporate", music_db=-6.0, duck_db=-6.0, cache_dir=tmp_path)
    assert loudness_lufs(louder.music[louder.speech], SR) > music_lufs + 10  # the level is configurable


def test_a_short_users_track_loops_with_a_crossfade():
    t = np.arange(int(1.37 * SR)) / SR
    track = (0.5 * np.sin(2 * np.pi * 233 * t)).astype(np.float32)  # ends mid-cycle: a hard loop would click
    looped = fit_length(track, 6 * SR, SR, crossfade_s=0.3)
    assert len(looped) == 6 * SR
    assert np.max(np.abs(np.diff(looped))) < 1.5 * np.max(np.abs(np.diff(track)))
    assert np.max(np.abs(np.diff(np.resize(track, 6 * SR)))) > 3 * np.max(np.abs(np.diff(track)))
    assert np.array_equal(fit_length(track, SR, SR), track[:SR])  # long enough: trimmed


def test_music_is_chosen_by_name_default_or_file(tmp_path):
    assert len(load_music("lofi", SR_BED, cache_dir=tmp_path)) == len(render_bed("lofi", SR_BED, cache_dir=tmp_path))
    assert load_music(True, SR_BED, cache_dir=tmp_path) is load_music("default", SR_BED, cache_dir=tmp_path)
    t = np.arange(3 * 16000) / 16000
    sf.write(tmp_path / "mine.wav", 0.3 * np.sin(2 * np.pi * 300 * t), 16000)
    mine = load_music(str(tmp_path / "mine.wav"), SR)
    assert abs(len(mine) / SR - 3.0) < 0.01
    with pytest.raises(InvalidInputError) as err:
        load_music("jazz", SR, cache_dir=tmp_path)
    assert err.value.code == "unknown_music" and "ambient, lofi, corporate" in err.value.message
