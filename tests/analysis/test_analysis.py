import numpy as np
import pytest

from realvoice.analysis import characterise, extract_features, voice_features
from realvoice.analysis.score import score_voice
from realvoice.audio import decode
from realvoice.models import SampleMetrics, SampleReport

from ..helpers import manifest, speaker_files, vowel


@pytest.mark.parametrize("f0", [120.0, 210.0])
def test_pitch_of_a_synthetic_vowel(f0):
    feats = extract_features(vowel(f0, 2.0), 24000)
    assert feats.f0_median == pytest.approx(f0, abs=3.0)


def test_low_and_high_vowels_read_as_male_and_female():
    male = characterise(voice_features([extract_features(vowel(105, 2.0, formants=(650, 1100, 2450)), 24000)]))
    female = characterise(voice_features([extract_features(vowel(220, 2.0, formants=(850, 1400, 2900)), 24000)]))
    assert (male.gender, female.gender) == ("male", "female")
    assert male.gender_confidence > 0.5 and female.gender_confidence > 0.5
    assert male.pitch_hz == pytest.approx(105, abs=3)


@pytest.mark.devdata
def test_gender_is_right_for_the_dev_speakers():
    rows = manifest()
    speakers = sorted({(r["speaker"], r["gender"]) for r in rows})
    right = 0
    for speaker, gender in speakers:
        clips = [decode(p, max_bytes=10**8, max_seconds=60) for p in speaker_files(speaker, 3)]
        c = characterise(voice_features([extract_features(a.samples, a.sample_rate) for a in clips]))
        right += c.gender == {"F": "female", "M": "male"}[gender]
    assert right / len(speakers) >= 0.9, f"{right}/{len(speakers)}"


def _report(name, speech_s=6.0, snr=45.0, quality=95.0):
    return SampleReport(
        file=name,
        accepted=True,
        quality=quality,
        metrics=SampleMetrics(speech_s=speech_s, snr_db=snr, sample_rate=24000, bandwidth_hz=9000),
    )


@pytest.mark.devdata
def test_consistent_clean_set_scores_above_mixed_and_degraded():
    from realvoice.analysis import SpeakerEncoder

    enc = SpeakerEncoder.load()

    def score(files, snr=45.0, quality=95.0):
        clips = [decode(p, max_bytes=10**8, max_seconds=60) for p in files]
        embs = [enc.embed(a.samples, a.sample_rate) for a in clips]
        feats = voice_features([extract_features(a.samples, a.sample_rate) for a in clips])
        reports = [_report(p.name, a.duration_s, snr, quality) for p, a in zip(files, clips, strict=True)]
        return score_voice(reports, embs, feats, 5)

    clean = score(speaker_files("vcc2016_TM1")[:6])
    mixed = score(speaker_files("vcc2016_TM1")[:3] + speaker_files("vcc2016_SF2")[:3])
    degraded = score(speaker_files("vcc2016_TM1")[:6], snr=12.0, quality=55.0)
    few = score(speaker_files("vcc2016_TM1")[:2])
    assert clean.score > mixed.score + 10
    assert clean.score > degraded.score + 10
    assert clean.score > few.score
    assert mixed.breakdown.consistency < clean.breakdown.consistency
    assert any("least like the others" in tip for tip in mixed.recommendations)
    assert np.isfinite(clean.score) and 0 <= clean.score <= 100


def test_word_error_rate_counts_misheard_words_not_formatting():
    from realvoice.analysis.transcribe import word_error_rate

    ref = "The library opens at nine in the morning, and I am away on Sundays."
    assert word_error_rate(ref, "the library opens at 9 in the morning and I'm away on Sundays") == 0.0
    assert word_error_rate("My favourite colour", "my favorite color") == 0.0
    assert word_error_rate(ref, "the webinar opens at 9 in the morning and I'm away on Sunday") == pytest.approx(2 / 14)
    assert word_error_rate(ref, "") == 1.0
