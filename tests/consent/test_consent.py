"""A voice with its speaker's consent: the statement read by the speaker in the samples is accepted and
kept with the voice; a used, foreign, expired or misread code, another text, another speaker, or no
recording where one is required are refused with what to do; deleting the voice deletes the consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from realvoice import RealVoiceCloningService, Settings
from realvoice.consent import ConsentRecording, Heard, check_speaker, check_statement, statement
from realvoice.consent.check import Challenge
from realvoice.demo import make_piper_samples
from realvoice.errors import ConsentError
from realvoice.models import ConsentRecord
from realvoice.store import ConsentChallengeRow, ConsentRow

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    home = tmp_path_factory.mktemp("consent-home")
    s = RealVoiceCloningService(settings=Settings(home=home, fit_mode="nearest-stock"))
    yield s
    s.close()


def _read(svc, tmp_path, user: str, text_of=lambda c: c.statement, name: str = "Joe Miller"):
    challenge = svc.issue_consent_challenge(user, name)
    recording = make_piper_samples(tmp_path / challenge.challenge_id, [text_of(challenge)])[0]
    return challenge, ConsentRecording(challenge.challenge_id, recording)


def test_the_speaker_reading_the_statement_makes_a_voice_with_consent(svc, piper_samples, tmp_path):
    challenge, consent = _read(svc, tmp_path, "alice")
    r = svc.create_voice("alice", "Joe", piper_samples, consent=consent, allow_duplicate=True)
    assert r.success, r.errors
    c = r.consent
    assert c is not None and c.method == "recording" and c.code_heard and c.statement == challenge.statement
    assert c.similarity is not None and c.threshold is not None and c.similarity >= c.threshold
    assert c.statement_error is not None and c.statement_error <= 0.2 and "agree" in c.transcript.lower()
    detail = svc.get_user_voice(r.voice_id, "alice")
    assert detail.consent == "recording" and detail.consent_record.transcript == c.transcript
    folder = svc.blobs.voice_dir(r.voice_id)
    assert len(list((folder / "consent").iterdir())) == 1
    # used once: the same recording and challenge again is refused before any work
    again = svc.create_voice("alice", "Joe", piper_samples, consent=consent, allow_duplicate=True)
    assert not again.success and again.error_code == "consent_code_unknown" and "new statement" in again.errors[0]
    assert svc.delete_user_voice(r.voice_id, "alice")
    assert not folder.exists()
    with svc.db.session() as s:
        assert s.scalar(select(ConsentRow).where(ConsentRow.voice_id == r.voice_id)) is None


def test_a_voice_without_a_recording_records_the_callers_word(svc, piper_samples):
    r = svc.create_voice("carol", "Joe", piper_samples, allow_duplicate=True)
    assert r.success and r.consent is not None and r.consent.method == "attested"
    assert svc.get_user_voices("carol")[0].consent == "attested"


def test_a_server_that_requires_consent_refuses_a_voice_without_it(tmp_path, piper_samples):
    strict = RealVoiceCloningService(settings=Settings(home=tmp_path, require_consent_recording=True))
    r = strict.create_voice("dave", "Joe", piper_samples)
    assert not r.success and r.error_code == "consent_recording_required"
    assert "consent statement" in r.errors[0] and strict.get_user_voices("dave") == []
    strict.close()


def test_another_users_code_is_unknown_and_stays_theirs(svc, piper_samples, tmp_path):
    challenge, consent = _read(svc, tmp_path, "bob")
    r = svc.create_voice("eve", "Joe", piper_samples, consent=consent, allow_duplicate=True)
    assert not r.success and r.error_code == "consent_code_unknown"
    with svc.db.session() as s:
        assert s.get(ConsentChallengeRow, challenge.challenge_id) is not None  # bob can still use it


def test_an_expired_code_is_refused(svc, piper_samples, tmp_path):
    challenge, consent = _read(svc, tmp_path, "frank")
    with svc.db.session() as s:
        s.get(ConsentChallengeRow, challenge.challenge_id).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    r = svc.create_voice("frank", "Joe", piper_samples, consent=consent, allow_duplicate=True)
    assert not r.success and r.error_code == "consent_code_expired" and "expired" in r.errors[0]


def test_a_wrong_code_or_another_text_is_refused(svc, piper_samples, tmp_path):
    _, wrong_code = _read(svc, tmp_path, "gina", _other_code)
    r = svc.create_voice("gina", "Joe", piper_samples, consent=wrong_code, allow_duplicate=True)
    assert not r.success and r.error_code == "consent_code_mismatch" and "code" in r.errors[0]
    _, other_text = _read(svc, tmp_path, "gina", lambda c: "I never agreed to any of this. My code is " + c.code)
    r = svc.create_voice("gina", "Joe", piper_samples, consent=other_text, allow_duplicate=True)
    assert not r.success and r.error_code == "consent_statement_mismatch" and "word for word" in r.errors[0]
    assert svc.get_user_voices("gina") == []


def test_speech_realvoice_made_cannot_consent(svc, piper_samples, tmp_path):
    """A clone reading the statement for its speaker carries our watermark, and is refused for it."""
    voice = svc.create_voice("hal", "Joe", piper_samples, allow_duplicate=True)
    challenge = svc.issue_consent_challenge("hal", "Joe Miller")
    fake = svc.render(voice.voice_id, challenge.statement, "hal", output_path=tmp_path / "fake.mp3")
    assert fake.success, fake.errors
    consent = ConsentRecording(challenge.challenge_id, tmp_path / "fake.mp3")
    r = svc.create_voice("hal", "Joe again", piper_samples, consent=consent, allow_duplicate=True)
    assert not r.success and r.error_code == "consent_recording_generated" and "watermark" in r.errors[0]


def _other_code(challenge) -> str:
    return statement(challenge.speaker_name, "6262" if challenge.code != "6262" else "3737")


def test_another_speaker_reading_the_statement_is_refused(svc, piper_samples):
    """The speaker check: joe himself passes; the stock Kokoro voice nearest to joe (a stranger who sounds
    closest to him of all the stock voices) saying the same statement is refused."""
    from realvoice.analysis import SpeakerEncoder
    from realvoice.audio import decode

    enc = SpeakerEncoder.load()
    clips = [decode(p, max_bytes=10**8, max_seconds=60) for p in piper_samples]
    centroid = np.mean([enc.embed(c.samples, c.sample_rate) for c in clips], axis=0)
    centroid /= np.linalg.norm(centroid)
    text = statement("Joe Miller", "4821")
    record = check_statement(Heard(np.zeros(1, np.float32), 16000, text), Challenge("Joe Miller", "4821"))
    joe = make_piper_samples(svc.settings.home / "joe-consent", [text])[0]
    own = decode(joe, max_bytes=10**8, max_seconds=60)
    checked = check_speaker(record, Heard(own.samples, own.sample_rate, text), centroid, enc.embed)
    assert checked.similarity is not None and checked.similarity >= checked.threshold
    stock = svc.create_voice("kokoro", "nearest stock voice", piper_samples, allow_duplicate=True)
    assert stock.success and stock.fit_outcome == "stock", stock.errors
    stranger = np.concatenate([c.audio for c in svc.stream_user_speech(stock.voice_id, text, "kokoro")])
    with pytest.raises(ConsentError) as err:
        check_speaker(record, Heard(stranger, svc.engine.sample_rate, text), centroid, enc.embed)
    assert err.value.code == "consent_speaker_mismatch" and "themselves" in err.value.message
    assert isinstance(record, ConsentRecord) and record.similarity is None
