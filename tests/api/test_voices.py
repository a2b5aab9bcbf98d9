"""Every voice route end to end, on one voice cloned once for the module from Piper recordings."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
import soundfile as sf

from realvoice.analysis.transcribe import transcribe, word_error_rate

from ..helpers import pitch_shift_semitones
from .conftest import assert_problem, voice_form, wait_for_job

pytestmark = pytest.mark.slow
TEXT = "The library opens at nine in the morning, and closes early on Sundays."
LABELS = [f"../../Joe take {i}.WAV" for i in range(1, 7)]  # hostile paths: kept as labels only


def parse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


@pytest.fixture(scope="module")
def created(client, users, piper_samples):
    """Upload the samples, then follow the build's events to the end (the test client returns the whole stream)."""
    files = [("files", (label, p.read_bytes(), "audio/wav")) for label, p in zip(LABELS, piper_samples, strict=True)]
    accepted = client.post("/v1/voices", data=voice_form(), files=files, headers=users["alice"])
    t0 = time.monotonic()
    stream = client.get(accepted.json()["events_url"], headers=users["alice"]) if accepted.status_code == 202 else None
    return accepted, stream, time.monotonic() - t0


@pytest.fixture(scope="module")
def job(client, users, created):
    accepted, _, _ = created
    return wait_for_job(client, accepted.json()["job_id"], users["alice"])


@pytest.fixture(scope="module")
def voice_id(job):
    assert job["status"] == "done", job
    return job["voice_id"]


def audio_of(content: bytes) -> tuple[np.ndarray, int]:
    x, sr = sf.read(io.BytesIO(content), dtype="float32")
    return (x.mean(axis=1) if x.ndim > 1 else x), sr


def test_upload_answers_202_with_a_job(created):
    accepted, _, _ = created
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert len(body["job_id"]) == 32 and body["status"] == "queued"
    assert accepted.headers["location"] == body["job_url"] == f"/v1/jobs/{body['job_id']}"


def test_events_report_progress_then_the_result(created, job):
    _, stream, seconds = created
    assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
    events = parse_events(stream.text)
    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("done") == 1 and len(names) >= 4, names
    progress = [data["progress"] for name, data in events if name == "progress"]
    assert progress == sorted(progress) and progress[-1] > 0 and max(progress) <= 100
    assert seconds > 5  # the stream lasted as long as the build
    assert events[-1][1]["status"] == "done" and events[-1][1]["result"]["voice_id"] == job["voice_id"]


def test_the_job_holds_the_whole_report(job):
    assert job["status"] == "done" and job["progress"] == 100 and job["kind"] == "voice"
    r = job["result"]
    assert r["success"] and r["voice_id"] == job["voice_id"]
    assert 0 <= r["quality_score"] <= 100 and r["quality_tier"] in (
        "excellent",
        "very good",
        "good",
        "needs more samples",
    )
    assert r["characteristics"]["gender"] == "male" and 70 < r["characteristics"]["pitch_hz"] < 160
    assert [s["file"] for s in r["sample_reports"]] == [label.split("/")[-1] for label in LABELS]
    assert all(s["accepted"] for s in r["sample_reports"]) and isinstance(r["recommendations"], list)


def test_list_and_read_the_voice(client, users, voice_id):
    listed = client.get("/v1/voices", headers=users["alice"]).json()
    assert [v["voice_id"] for v in listed] == [voice_id] and listed[0]["name"] == "Joe"
    detail = client.get(f"/v1/voices/{voice_id}", headers=users["alice"]).json()
    assert detail["voice_id"] == voice_id and detail["description"] == "made in a test"
    assert detail["characteristics"]["gender"] == "male" and len(detail["sample_reports"]) == 6
    # the stored reports show the client's names as labels (what reached the filesystem was a name we made)
    assert [s["file"] for s in detail["sample_reports"]] == [label.split("/")[-1] for label in LABELS]
    stored = sorted(
        p.name for p in (client.app.state.api.service.settings.voices_dir / voice_id).rglob("*") if p.is_file()
    )
    assert all(".." not in name and " " not in name for name in stored)


def test_another_user_sees_nothing(client, users, voice_id, job):
    bob = users["bob"]
    assert client.get("/v1/voices", headers=bob).json() == []
    missing = "0" * 32
    for vid in (voice_id, missing):
        assert_problem(client.get(f"/v1/voices/{vid}", headers=bob), 404, "voice_not_found")
        assert_problem(client.get(f"/v1/voices/{vid}/preview", headers=bob), 404, "voice_not_found")
        assert_problem(
            client.post(f"/v1/voices/{vid}/speech", json={"text": TEXT}, headers=bob), 404, "voice_not_found"
        )
        assert_problem(client.delete(f"/v1/voices/{vid}", headers=bob), 404, "voice_not_found")
    a = client.get(f"/v1/voices/{voice_id}", headers=bob).json()["detail"].replace(voice_id, "X")
    assert a == client.get(f"/v1/voices/{missing}", headers=bob).json()["detail"].replace(missing, "X")
    assert_problem(client.get(f"/v1/jobs/{job['job_id']}", headers=bob), 404, "job_not_found")
    assert_problem(client.get(f"/v1/jobs/{job['job_id']}/events", headers=bob), 404, "job_not_found")
    assert client.get(f"/v1/voices/{voice_id}", headers=users["alice"]).status_code == 200


def test_preview_is_a_wav_made_once(client, users, voice_id, service):
    t0 = time.perf_counter()
    first = client.get(f"/v1/voices/{voice_id}/preview", headers=users["alice"])
    made = time.perf_counter() - t0
    assert first.status_code == 200 and first.headers["content-type"] == "audio/wav"
    x, sr = audio_of(first.content)
    assert sr == 24000 and 2.0 < len(x) / sr < 10.0 and np.sqrt(np.mean(x**2)) > 0.02
    t0 = time.perf_counter()
    second = client.get(f"/v1/voices/{voice_id}/preview", headers=users["alice"])
    assert second.content == first.content and time.perf_counter() - t0 < made / 2
    assert (service.settings.home / "previews" / f"{voice_id}.wav").exists()


@pytest.mark.parametrize(
    "fmt,media", [("wav", "audio/wav"), ("flac", "audio/flac"), ("ogg", "audio/ogg"), ("mp3", "audio/mpeg")]
)
def test_speech_in_every_format(client, users, voice_id, fmt, media):
    r = client.post(f"/v1/voices/{voice_id}/speech", json={"text": TEXT, "format": fmt}, headers=users["alice"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == media and f"speech.{fmt}" in r.headers["content-disposition"]
    x, sr = audio_of(r.content)
    seconds = len(x) / sr
    assert 2.5 < seconds < 8.0 and float(r.headers["x-duration-seconds"]) == pytest.approx(seconds, abs=0.15)
    assert np.sqrt(np.mean(x**2)) > 0.02
    if fmt == "wav":
        assert word_error_rate(TEXT, transcribe(x, sr)) <= 0.2


def test_speech_with_music_and_effects(client, users, voice_id):
    url = f"/v1/voices/{voice_id}/speech"
    dry = client.post(url, json={"text": TEXT}, headers=users["alice"])
    wet = client.post(
        url, json={"text": TEXT, "background_music": True, "effects": ["reverb", "normalize"]}, headers=users["alice"]
    )
    assert dry.status_code == wet.status_code == 200, wet.text
    d, sr = audio_of(dry.content)
    w, _ = audio_of(wet.content)
    assert len(w) > len(d) and np.sqrt(np.mean(w[len(d) :] ** 2)) > 1e-3  # music plays on after the voice


def test_effects_as_the_seed_wrote_them(client, users, voice_id):
    """The Python API's {name: amount} and {name: true} forms work over REST too."""
    url = f"/v1/voices/{voice_id}/speech"
    r = client.post(url, json={"text": TEXT, "effects": {"reverb": 0.2, "normalize": True}}, headers=users["alice"])
    assert r.status_code == 200, r.text
    assert len(audio_of(r.content)[0]) > 0


def test_speech_pitch_shift(client, users, voice_id):
    url = f"/v1/voices/{voice_id}/speech"
    plain = client.post(url, json={"text": TEXT}, headers=users["alice"])
    higher = client.post(url, json={"text": TEXT, "pitch_semitones": 3}, headers=users["alice"])
    assert plain.status_code == higher.status_code == 200, higher.text
    (a, sr), (c, _) = audio_of(plain.content), audio_of(higher.content)
    shift, share = pitch_shift_semitones(a, c, sr)
    assert shift == pytest.approx(3.0, abs=0.35) and share >= 0.3


def test_report_picture(client, users, voice_id):
    r = client.get(f"/v1/voices/{voice_id}/report.png", headers=users["alice"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n" and len(r.content) > 5_000
    assert_problem(client.get(f"/v1/voices/{voice_id}/report.png", headers=users["bob"]), 404, "voice_not_found")


@pytest.mark.parametrize(
    "body,code",
    [
        ({"text": TEXT, "effects": ["warp-drive"]}, "unknown_effect"),
        ({"text": "🙂 ... !!"}, "nothing_to_speak"),
        ({"text": "   "}, "empty_text"),
        ({"text": TEXT, "effects": {"reverb": {"colour": 1}}}, "unknown_effect"),
        ({"text": TEXT, "effects": {"reverb": 7}}, "bad_effect_value"),
    ],
)
def test_speech_refusals(client, users, voice_id, body, code):
    assert_problem(client.post(f"/v1/voices/{voice_id}/speech", json=body, headers=users["alice"]), 422, code)


def test_the_list_and_the_detail_count_the_samples_used(client, users, voice_id):
    listed = {v["voice_id"]: v for v in client.get("/v1/voices", headers=users["alice"]).json()}
    detail = client.get(f"/v1/voices/{voice_id}", headers=users["alice"]).json()
    used = sum(r["accepted"] for r in detail["sample_reports"])
    assert used >= 5
    assert listed[voice_id]["sample_count"] == detail["sample_count"] == used


def test_delete_removes_everything(client, users, voice_id, service, job):
    client.get(f"/v1/voices/{voice_id}/preview", headers=users["alice"])
    assert client.get(f"/v1/jobs/{job['job_id']}", headers=users["alice"]).status_code == 200
    r = client.delete(f"/v1/voices/{voice_id}", headers=users["alice"])
    assert r.status_code == 204 and r.content == b""
    assert_problem(client.get(f"/v1/voices/{voice_id}", headers=users["alice"]), 404, "voice_not_found")
    assert_problem(client.delete(f"/v1/voices/{voice_id}", headers=users["alice"]), 404, "voice_not_found")
    assert client.get("/v1/voices", headers=users["alice"]).json() == []
    assert not (service.settings.home / "previews" / f"{voice_id}.wav").exists()
    assert not (service.settings.voices_dir / voice_id).exists()
    # The build's job (with its report of file names and characteristics) goes with the voice.
    assert_problem(client.get(f"/v1/jobs/{job['job_id']}", headers=users["alice"]), 404, "job_not_found")
    uploads = service.settings.home / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []
