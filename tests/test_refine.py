"""Refining a voice: a thorough fit from the stored recordings, published as a new version only when it
validates better, one at a time, crash-safe.

Most tests stand in for the fit and the validation (the engine's ``enroll`` and ``validate``) so that each
decision is the test's to choose and a test takes seconds; one test runs the real thorough fit, shrunk to
a few updates."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile as sf

from realvoice.analysis.transcribe import transcribe, word_error_rate
from realvoice.engines import VoiceCheck
from realvoice.voices import MODEL_FILE, refine_lease

from .helpers import FITTED_SIMILARITY, STOCK_SIMILARITY
from .helpers import voice_row as _row

pytestmark = pytest.mark.slow


def _model_files(service, voice_id) -> list[str]:
    return sorted(p.name for p in (service.settings.voices_dir / voice_id).iterdir() if "rvm" in p.name)


def test_a_new_voice_keeps_its_cleaned_recordings_with_what_was_said(service, refinable):
    """Refinement fits from the recordings the voice keeps: each accepted sample's cleaned audio and the
    words Whisper heard in it (so it need not transcribe again)."""
    folder = service.settings.voices_dir / refinable.voice_id / "cleaned"
    wavs, texts = sorted(folder.glob("*.wav")), sorted(folder.glob("*.txt"))
    assert len(wavs) == len(texts) == 6 and [w.stem for w in wavs] == [t.stem for t in texts]
    kept = service.voices.stored_samples(_row(service, refinable.voice_id))
    assert [s.name for s in kept] == [w.stem for w in wavs]
    for sample, wav in zip(kept, wavs, strict=True):
        assert sample.audio.size / sample.sample_rate == pytest.approx(sf.info(wav).duration, abs=1e-3)
        assert len(sample.transcript.split()) >= 4  # a sentence was heard in each


def test_a_fit_that_validates_better_becomes_the_next_version(service, refinable, fake_refinement):
    scores, asked = fake_refinement
    old = service._voice_model(_row(service, refinable.voice_id))
    assert refinable.refine_advised and refinable.fit_outcome == "stock"
    seen = []
    r = service.refine(refinable.voice_id, "rhea", progress=lambda f, m: seen.append(f))
    assert r.success and r.improved, r
    assert asked == ["thorough"]
    assert (r.previous_version, r.version) == (1, 2)
    assert (r.before.similarity, r.after.similarity) == (STOCK_SIMILARITY, FITTED_SIMILARITY)
    assert (r.before.fit_outcome, r.after.fit_outcome, r.fit_outcome) == ("stock", "fitted", "fitted")
    assert r.quality_score > refinable.quality_score and r.quality_score > 40  # no longer capped as a stranger
    assert not any("stock voice" in w for w in r.warnings)
    assert seen == sorted(seen) and seen[-1] == 1.0
    # the row names the new file, the previous one is gone, and speech uses the new version
    assert _model_files(service, refinable.voice_id) == ["voice.v2.rvm.npz"]
    row = _row(service, refinable.voice_id)
    assert row.model_file == "voice.v2.rvm.npz" and row.method == "fitted-adapter-thorough"
    new = service._voice_model(row)
    assert np.allclose(new.arrays["style"], old.arrays["style"] * 1.01)
    (listed,) = [v for v in service.get_user_voices("rhea") if v.voice_id == refinable.voice_id]
    assert (listed.version, listed.fit_outcome, listed.refine_advised) == (2, "fitted", False)
    detail = service.get_user_voice(refinable.voice_id, "rhea")
    assert detail.quality_score == r.quality_score and detail.warning_codes == []
    jobs = [j for j in _jobs(service, "rhea") if j.kind == "refine"]
    assert jobs[-1].status == "done" and jobs[-1].result["refinement"]["improved"] is True
    # a second refinement compares with version 2 and, no better, keeps it
    again = service.refine(refinable.voice_id, "rhea")
    assert again.success and not again.improved and again.version == 2
    assert "did not come out closer" in again.message
    assert _model_files(service, refinable.voice_id) == ["voice.v2.rvm.npz"]
    speech = service.render(refinable.voice_id, "The refined voice speaks.", "rhea")
    assert speech.success and speech.duration_s > 1.0


def _jobs(service, user):
    from sqlalchemy import select

    from realvoice.store import JobRow

    with service.db.session() as s:
        ids = s.scalars(select(JobRow.id).where(JobRow.user_id == user).order_by(JobRow.created_at)).all()
    return [service.get_job(i, user) for i in ids]


@pytest.mark.parametrize(
    ("after", "why"),
    [
        (VoiceCheck(STOCK_SIMILARITY + 0.005, 0.03), "did not come out closer"),  # within noise
        (VoiceCheck(FITTED_SIMILARITY, 0.03 + 0.09), "lost words"),  # about three more words misheard
    ],
)
def test_a_fit_that_does_not_validate_better_leaves_the_voice_as_it_was(
    service, refinable, fake_refinement, after, why
):
    scores, _ = fake_refinement
    scores["fitted"] = after
    before = _row(service, refinable.voice_id)
    r = service.refine(refinable.voice_id, "rhea")
    assert r.success and not r.improved and why in r.message
    assert (r.version, r.previous_version, r.fit_outcome) == (1, 1, "stock")
    assert r.quality_score == refinable.quality_score and r.warnings[0].startswith("This voice is a stock voice")
    row = _row(service, refinable.voice_id)
    assert (row.model_file, row.method, row.report) == (before.model_file, before.method, before.report)
    assert _model_files(service, refinable.voice_id) == [MODEL_FILE]


def test_a_fit_that_falls_back_to_a_stock_voice_never_replaces_the_voice(
    service, refinable, fake_refinement, monkeypatch
):
    engine = service.engine
    fitted = engine.enroll

    def refused(samples, **kwargs):  # validation inside the fit refused every point: the start voice
        model = fitted(samples, **kwargs)
        model.method, model.params = "nearest-stock", {"start_voice": "jf_alpha", "fit_kept": False}
        return model

    monkeypatch.setattr(engine, "enroll", refused)
    fake_refinement[0]["stock"] = VoiceCheck(0.9, 0.0)  # even if it measured well
    r = service.refine(refinable.voice_id, "rhea")
    assert r.success and not r.improved and "did not pass validation" in r.message
    assert _model_files(service, refinable.voice_id) == [MODEL_FILE]


@pytest.mark.parametrize("where", ["writing", "committing"])
def test_a_crash_while_publishing_leaves_the_old_voice_and_no_stray_file(
    service, refinable, fake_refinement, monkeypatch, where
):
    from realvoice.engines import VoiceModel

    if where == "writing":

        def boom(self, path):
            path.write_bytes(b"half a model")
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(VoiceModel, "save", boom)
    else:
        from realvoice import voices

        def boom(*args, **kwargs):
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(voices, "update", boom)
    with pytest.raises(OSError):
        service.refine(refinable.voice_id, "rhea")
    assert _model_files(service, refinable.voice_id) == [MODEL_FILE]
    row = _row(service, refinable.voice_id)
    assert row.model_file == MODEL_FILE and service._voice_model(row).method == "nearest-stock"
    assert _jobs(service, "rhea")[-1].status == "failed"
    assert service.leases.abandoned(refine_lease(refinable.voice_id))  # a later refinement may run


def test_what_a_killed_refinement_left_is_swept_unless_one_still_runs(service, refinable):
    """A process killed after writing its new version but before the row named it (or after, before it
    removed the previous file) leaves a model file no row names: the janitor removes it at start-up, but
    not while a live refinement of that voice holds its lease."""
    folder = service.settings.voices_dir / refinable.voice_id
    stray = [folder / "voice.v2.rvm.npz", folder / ".voice.v2.rvm.k3j_x9.npz"]
    for path in stray:
        path.write_bytes(b"left by a killed refinement")
    with service.leases.hold(refine_lease(refinable.voice_id)):
        service.sweep()
        assert all(p.exists() for p in stray)
    service.sweep()
    assert _model_files(service, refinable.voice_id) == [MODEL_FILE]
    assert (folder / "report.png").exists() and len(list((folder / "cleaned").iterdir())) == 12


def test_one_refinement_of_a_voice_at_a_time(service, refinable):
    with service.leases.hold(refine_lease(refinable.voice_id)):
        r = service.refine(refinable.voice_id, "rhea")
    assert not r.success and r.error_code == "refine_running" and "already being refined" in r.errors[0]


def test_only_the_owner_can_refine(service, refinable):
    r = service.refine(refinable.voice_id, "mallory")
    assert not r.success and r.error_code == "voice_not_found"
    assert _model_files(service, refinable.voice_id) == [MODEL_FILE]


def test_a_voice_from_before_transcripts_were_kept_is_heard_again(service, refinable, fake_refinement):
    for text in (service.settings.voices_dir / refinable.voice_id / "cleaned").glob("*.txt"):
        text.unlink()
    kept = service.voices.stored_samples(_row(service, refinable.voice_id))
    assert all(s.transcript is None for s in kept)
    r = service.refine(refinable.voice_id, "rhea")  # fake_refinement's validate checks every sample has its words
    assert r.success and r.improved


def test_the_async_form_refines_too(service, refinable, fake_refinement):
    import asyncio

    r = asyncio.run(service.refine_voice(refinable.voice_id, "rhea"))
    assert r.success and r.improved and r.version == 2


def test_a_real_thorough_refinement_measures_both_voices_alike(service, refinable, monkeypatch):
    """The real fit, shrunk to a few updates (the sizes test_fit.py uses): both voices are measured by
    the build's validation, and the voice changes only if the fit measured better."""
    from realvoice.engines.kokoro.fitting import config

    monkeypatch.setattr(config, "THOROUGH", dataclasses.replace(config.THOROUGH, steps=2, prosody_steps=1))
    r = service.refine(refinable.voice_id, "rhea")
    assert r.success, r.errors
    assert r.before.fit_outcome == "stock" and -1 <= r.before.similarity <= 1 and 0 <= r.before.wer <= 1
    assert -1 <= r.after.similarity <= 1 and 0 <= r.after.wer <= 1
    gained = r.after.similarity - r.before.similarity
    assert r.improved == (r.after.fit_outcome != "stock" and gained >= 0.01 and r.after.wer <= r.before.wer + 0.06)
    assert _model_files(service, refinable.voice_id) == (["voice.v2.rvm.npz"] if r.improved else [MODEL_FILE])
    text = "The library opens at nine in the morning."
    speech = service.render(refinable.voice_id, text, "rhea")
    audio, rate = sf.read(speech.audio_path, dtype="float32")
    assert word_error_rate(text, transcribe(audio, rate)) <= 0.3  # whichever version speaks, it is understood
