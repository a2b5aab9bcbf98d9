"""Effects: every request shape resolves, bad ones say what is allowed, and each effect does what it claims."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from realvoice.audio import loudness_lufs
from realvoice.errors import InvalidInputError
from realvoice.mix import PRESETS, apply_effects, crest_factor_db, parse_effects

from .signals import SR, speechlike, true_peak_db


def _band_db(x: np.ndarray, low: float, high: float, sr: int = SR) -> float:
    y = sosfilt(butter(4, (low, high), "bandpass", fs=sr, output="sos"), x)
    return float(10 * np.log10(np.mean(y**2) + 1e-20))


def test_seed_dict_names_and_parameter_dicts_resolve():
    seed = parse_effects({"reverb": 0.2, "compression": 0.4, "normalization": True})
    assert list(seed) == ["compression", "reverb", "normalize"]  # run order, canonical names
    assert seed["normalize"].params == {"target_lufs": -16.0, "true_peak_db": -1.0}
    assert parse_effects({"reverb": 0.8})["reverb"].params["room_size"] > seed["reverb"].params["room_size"]
    assert list(parse_effects(["reverb", "normalize"])) == ["reverb", "normalize"]
    assert list(parse_effects("podcast")) == ["eq", "compression", "normalize"]
    detailed = parse_effects({"echo": {"delay_seconds": 0.4, "mix": 0.2}, "normalize": {"target_lufs": -20}})
    assert detailed["echo"].params["delay_seconds"] == 0.4 and detailed["normalize"].params["target_lufs"] == -20
    assert parse_effects({"podcast": True, "normalize": -23})["normalize"].params["target_lufs"] == -23
    assert list(parse_effects({"reverb": False, "normalization": None})) == []
    assert not parse_effects(None) and not parse_effects([])


@pytest.mark.parametrize(
    "spec,code,says",
    [
        ({"reverbb": 0.2}, "unknown_effect", "reverb, normalize"),
        (["flanger"], "unknown_effect", "podcast, radio, cinematic, phone"),
        ({"reverb": {"size": 0.3}}, "unknown_effect", "room_size (0 to 1)"),
        ({"reverb": 1.5}, "bad_effect_value", "from 0 to 1"),
        ({"compression": -0.1}, "bad_effect_value", "from 0 to 1"),
        ({"normalization": 0.5}, "bad_effect_value", "from -40 to -5 LUFS"),
        ({"echo": {"feedback": 1.2}}, "bad_effect_value", "0 to 0.95"),
        ({"reverb": "lots"}, "bad_effect_value", "must be a number"),
        ({"pitch": True}, "bad_effect_value", "semitones (-12 to 12"),
        ({"podcast": 0.5}, "bad_effect_value", "a preset is on or off: name podcast without a value"),
    ],
)
def test_bad_effects_get_a_clear_error(spec, code, says):
    with pytest.raises(InvalidInputError) as err:
        parse_effects(spec)
    assert err.value.code == code and says in err.value.message


def test_a_preset_given_a_value_on_the_command_line_says_how_to_write_it():
    from realvoice.cli.options import parse_effect_options

    with pytest.raises(InvalidInputError) as err:
        parse_effects(parse_effect_options(["podcast=1"]))
    assert err.value.message == "a preset is on or off: name podcast without a value (as in -e podcast), not 1.0"
    written_right = list(parse_effects(parse_effect_options(["podcast"])))
    assert set(written_right) == set(PRESETS["podcast"])


@pytest.mark.parametrize("target", [-16.0, -23.0, -12.0])
@pytest.mark.parametrize("signal", ["speech", "square", "quiet_sine"])
def test_normalize_hits_the_loudness_target_under_the_true_peak_ceiling(signal, target):
    t = np.arange(4 * SR) / SR
    x = {
        "speech": speechlike(),
        "square": 0.5 * np.sign(np.sin(2 * np.pi * 997 * t)),  # inter-sample peaks well above its samples
        "quiet_sine": 0.005 * np.sin(2 * np.pi * 440 * t),
    }[signal].astype(np.float32)
    y = apply_effects(x, SR, {"normalize": target})
    assert abs(loudness_lufs(y, SR) - target) <= 0.5
    assert true_peak_db(y, SR) <= -1.0


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_master_to_their_target(speech, preset):
    y = apply_effects(speech, SR, preset)
    assert abs(loudness_lufs(y, SR) - PRESETS[preset]["normalize"]) <= 0.5
    assert true_peak_db(y, SR) <= -1.0


def test_reverb_adds_decay_measurable_after_an_impulse():
    x = np.zeros(SR, np.float32)
    x[100] = 0.8

    def energy_db(y, start_s, end_s):
        seg = y[100 + int(start_s * SR) : 100 + int(end_s * SR)]
        return float(10 * np.log10(np.mean(seg**2) + 1e-20))

    dry = apply_effects(x, SR, {"eq": {"presence_db": 0, "deess_db": 0, "lowcut_hz": 20}})
    small, large = (apply_effects(x, SR, {"reverb": a}) for a in (0.2, 0.9))
    assert energy_db(dry, 0.05, 0.3) < -90
    for wet in (small, large):
        early, late = energy_db(wet, 0.05, 0.3), energy_db(wet, 0.6, 0.9)
        assert early > -75 and late < early - 6  # a tail that is there, and dies away
    assert energy_db(large, 0.6, 0.9) > energy_db(small, 0.6, 0.9) + 10  # a bigger room rings longer
    assert len(large) > len(x)


def test_compression_reduces_crest_factor(speech):
    light, heavy = (apply_effects(speech, SR, {"compression": a}) for a in (0.3, 1.0))
    assert crest_factor_db(light) < crest_factor_db(speech) - 1.0
    assert crest_factor_db(heavy) < crest_factor_db(light) - 1.0


def test_eq_cuts_rumble_and_deesses_sibilance_but_leaves_vowels():
    t = np.arange(2 * SR) / SR
    rumble = 0.2 * np.sin(2 * np.pi * 40 * t)
    vowel = speechlike(phrases=1)[: 2 * SR]
    hiss = np.random.default_rng(1).standard_normal(2 * SR) * 0.05
    sibilant = sosfilt(butter(4, 5500, "highpass", fs=SR, output="sos"), hiss)
    eq = {"eq": {"lowcut_hz": 120, "presence_db": 0, "deess_db": 10}}
    cut = apply_effects((vowel + rumble).astype(np.float32), SR, eq)
    assert _band_db(cut, 30, 50) < _band_db(vowel + rumble, 30, 50) - 12
    deessed = apply_effects(sibilant.astype(np.float32), SR, eq)
    assert _band_db(deessed, 6000, 11000) < _band_db(sibilant, 6000, 11000) - 6
    kept = apply_effects(vowel, SR, {"eq": {"lowcut_hz": 20, "presence_db": 0, "deess_db": 10}})
    assert abs(_band_db(kept, 300, 3000) - _band_db(vowel, 300, 3000)) < 1.0


def test_phone_preset_is_band_limited(speech):
    noisy = (speech + np.random.default_rng(2).standard_normal(len(speech)) * 0.01).astype(np.float32)
    phone = apply_effects(noisy, SR, "phone")
    drop = lambda lo, hi: _band_db(noisy, lo, hi) - _band_db(phone, lo, hi)  # noqa: E731
    assert drop(6000, 10000) > drop(800, 2500) + 15


def test_pitch_shift_moves_the_pitch():
    t = np.arange(SR) / SR
    y = apply_effects((0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), SR, {"pitch": 12})
    spectrum = np.abs(np.fft.rfft(y[SR // 4 : 3 * SR // 4] * np.hanning(SR // 2)))
    assert abs(np.argmax(spectrum) * 2 - 400) <= 6


def test_echo_repeats_after_its_delay():
    x = np.zeros(SR, np.float32)
    x[0] = 0.8
    y = apply_effects(x, SR, {"echo": {"delay_seconds": 0.3, "feedback": 0.3, "mix": 0.5}})
    after = np.abs(y[int(0.05 * SR) :])
    assert abs((np.argmax(after) + int(0.05 * SR)) / SR - 0.3) < 0.005


def test_chorus_changes_the_sound_but_keeps_its_length(speech):
    y = apply_effects(speech, SR, {"chorus": 0.6})
    assert len(speech) <= len(y) < len(speech) + 0.1 * SR
    assert np.sqrt(np.mean((y[: len(speech)] - speech) ** 2)) > 0.1 * np.sqrt(np.mean(speech**2))
