"""Consent and provenance over REST: statements with one-time codes, voices built only with the speaker's
recorded consent on a server that requires it, and the watermark detector."""

from __future__ import annotations

import uuid

import pytest

from realvoice import RealVoiceCloningService, Settings
from realvoice.demo import make_piper_samples
from realvoice.store.users import create_key

from .conftest import as_files, assert_problem, make_client, voice_form, wait_for_job

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """A server that requires consent recordings (as ``realvoice serve`` does), fitting no voice (fast)."""
    home = tmp_path_factory.mktemp("strict")
    service = RealVoiceCloningService(
        settings=Settings(home=home, fit_mode="nearest-stock", require_consent_recording=True)
    )
    with make_client(service) as client:
        yield client, service
    service.close()


@pytest.fixture(scope="module")
def keys(strict):
    _, service = strict
    tag = uuid.uuid4().hex[:6]
    return {who: {"Authorization": f"Bearer {create_key(service.db, f'{who}-{tag}')}"} for who in ("ann", "ben")}


def _statement(client, headers, name="Joe Miller"):
    r = client.post("/v1/consent/statements", json={"speaker_name": name}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _read_statement(client, headers, samples, folder):
    """The form and files of a build whose consent recording is joe reading a statement issued to ``headers``."""
    challenge = _statement(client, headers)
    recording = make_piper_samples(folder, [challenge["statement"]])[0]
    files = as_files(samples) + as_files([recording], "consent_recording")
    return {"name": "Joe", "consent_challenge": challenge["challenge_id"]}, files


def test_a_statement_has_the_name_and_a_fresh_code(strict, keys):
    client, _ = strict
    first, second = _statement(client, keys["ann"]), _statement(client, keys["ann"])
    assert first["statement"].startswith("I, Joe Miller, agree") and first["code"] != "" and first["expires_at"]
    assert ", ".join(first["code"]) in first["statement"]
    assert first["challenge_id"] != second["challenge_id"]
    r = client.post("/v1/consent/statements", json={"speaker_name": "<b>x</b>"}, headers=keys["ann"])
    assert_problem(r, 422, "bad_speaker_name")
    assert client.get("/healthz").json()["consent_recording_required"] is True


def test_without_a_recording_the_strict_server_refuses(strict, keys, piper_samples):
    client, _ = strict
    r = client.post("/v1/voices", data=voice_form(), files=as_files(piper_samples), headers=keys["ann"])
    assert "POST /v1/consent/statements" in assert_problem(r, 422, "consent_recording_required")["detail"]
    half = voice_form(consent_challenge="abc")
    r = client.post("/v1/voices", data=half, files=as_files(piper_samples), headers=keys["ann"])
    assert_problem(r, 422, "consent_incomplete")


def test_a_voice_with_the_speakers_consent_and_its_deletion(strict, keys, piper_samples, tmp_path):
    client, service = strict
    form, files = _read_statement(client, keys["ann"], piper_samples, tmp_path)
    accepted = client.post("/v1/voices", data=form, files=files, headers=keys["ann"])
    assert accepted.status_code == 202, accepted.text
    job = wait_for_job(client, accepted.json()["job_id"], keys["ann"])
    assert job["status"] == "done", job
    consent = job["result"]["consent"]
    assert consent["method"] == "recording" and consent["code_heard"] and consent["similarity"] >= consent["threshold"]
    voice_id = job["voice_id"]
    detail = client.get(f"/v1/voices/{voice_id}", headers=keys["ann"]).json()
    assert detail["consent"] == "recording" and detail["consent_record"]["transcript"]
    # the code was used: a second build with it fails, saying so
    again = client.post("/v1/voices", data=form, files=files, headers=keys["ann"])
    failed = wait_for_job(client, again.json()["job_id"], keys["ann"])
    assert failed["status"] == "failed" and failed["result"]["error_code"] == "consent_code_unknown"
    folder = service.blobs.voice_dir(voice_id)
    assert (folder / "consent").is_dir()
    assert client.delete(f"/v1/voices/{voice_id}", headers=keys["ann"]).status_code == 204
    assert not folder.exists()


def test_another_users_challenge_fails_the_build(strict, keys, piper_samples, tmp_path):
    client, _ = strict
    form, files = _read_statement(client, keys["ben"], piper_samples, tmp_path)
    job = wait_for_job(
        client, client.post("/v1/voices", data=form, files=files, headers=keys["ann"]).json()["job_id"], keys["ann"]
    )
    assert job["status"] == "failed" and job["result"]["error_code"] == "consent_code_unknown"


def test_detect_finds_our_speech_and_not_a_recording(strict, keys, piper_samples, tmp_path):
    client, service = strict
    lenient = RealVoiceCloningService(settings=Settings(home=service.settings.home, fit_mode="nearest-stock"))
    r = lenient.create_voice("ann-local", "Joe", piper_samples)  # the caller's word, on the same data
    speech = lenient.render(r.voice_id, "A short sentence to check.", "ann-local", output_path=tmp_path / "s.mp3")
    assert speech.success, speech.errors
    lenient.close()
    ours = client.post("/v1/detect", files=as_files([tmp_path / "s.mp3"], "file"), headers=keys["ann"])
    assert ours.status_code == 200 and ours.json()["watermarked"] is True and ours.json()["tag_generator"]
    theirs = client.post("/v1/detect", files=as_files(piper_samples[:1], "file"), headers=keys["ann"]).json()
    assert theirs["watermarked"] is False and theirs["tag_generator"] is None and theirs["file"] == "sample_01.wav"
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"PK\x03\x04" + b"\x00" * 400)
    assert_problem(client.post("/v1/detect", files=as_files([junk], "file"), headers=keys["ann"]), 422, "unreadable")
    assert client.post("/v1/detect", files=as_files([junk], "file")).status_code == 401
