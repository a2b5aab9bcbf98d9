"""Bad uploads and limits: each refused with the right status and code, and nothing left on disk."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
import soundfile as sf

from realvoice import RealVoiceCloningService, Settings
from realvoice.api.uploads import label_of, safe_name
from realvoice.store.users import create_key

from .conftest import as_files, assert_problem, make_client, voice_form, wait_for_job

MAX_FILE = 200_000


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A service with small limits: 200 kB a file, 6 files a voice, 50 characters of text."""
    home = tmp_path_factory.mktemp("small")
    settings = Settings(home=home, max_upload_bytes=MAX_FILE, max_samples=6, max_text_chars=50)
    svc = RealVoiceCloningService(settings=settings)
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def api(small):
    with make_client(small, max_voice_upload_bytes=500_000, jobs_per_user=1) as c:
        yield c


@pytest.fixture(scope="module")
def alice(small):
    return {"Authorization": f"Bearer {create_key(small.db, 'up-alice')}"}


def wav_bytes(x: np.ndarray, sr: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def tiny_files(n: int, size: int = 1000) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"take{i}.wav", wav_bytes(np.zeros(size, np.float32)), "audio/wav")) for i in range(n)]


@pytest.fixture(autouse=True)
def nothing_left_behind(small):
    yield
    uploads = small.settings.home / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_voice_upload_must_be_multipart(api, alice):
    assert_problem(api.post("/v1/voices", json={"name": "x"}, headers=alice), 415, "unsupported_media_type")


@pytest.mark.parametrize("consent", [None, "false", "no", ""])
def test_consent_is_required(api, alice, consent):
    fields = voice_form()
    if consent is None:
        del fields["consent"]
    else:
        fields["consent"] = consent
    r = api.post("/v1/voices", data=fields, files=tiny_files(5), headers=alice)
    assert "permission" in assert_problem(r, 422, "consent_required")["detail"]


def test_a_name_is_required(api, alice):
    r = api.post("/v1/voices", data=voice_form(name="  "), files=tiny_files(5), headers=alice)
    assert_problem(r, 422, "bad_voice_name")


def test_too_few_files(api, alice):
    body = assert_problem(
        api.post("/v1/voices", data=voice_form(), files=tiny_files(3), headers=alice), 422, "not_enough_samples"
    )
    assert "3 file(s)" in body["detail"] and "at least 5" in body["detail"]


def test_too_many_files(api, alice):
    r = api.post("/v1/voices", data=voice_form(), files=tiny_files(7), headers=alice)
    assert "at most 6" in assert_problem(r, 422, "too_many_files")["detail"]


def test_a_file_over_the_size_limit(api, alice):
    files = tiny_files(4) + [("files", ("huge.wav", wav_bytes(np.zeros(MAX_FILE, np.float32)), "audio/wav"))]
    r = api.post("/v1/voices", data=voice_form(), files=files, headers=alice)
    assert "huge.wav" in assert_problem(r, 413, "file_too_large")["detail"]


def test_an_upload_over_the_total_limit(api, alice):
    files = tiny_files(6, size=60_000)  # 6 x 120 kB: each file fits, all of them do not
    assert_problem(api.post("/v1/voices", data=voice_form(), files=files, headers=alice), 413, "upload_too_large")


def test_a_declared_length_over_the_limit_is_refused_before_reading(api, alice):
    headers = alice | {"content-type": "multipart/form-data; boundary=x", "content-length": "900000000"}
    r = api.post("/v1/voices", content=b"--x--\r\n", headers=headers)
    assert_problem(r, 413, "upload_too_large")


def test_files_under_another_field_name(api, alice):
    r = api.post("/v1/voices", data=voice_form(), files=[("evil", ("a.wav", b"x", "audio/wav"))], headers=alice)
    assert "'files'" in assert_problem(r, 422, "invalid_input")["detail"]


def test_a_recording_sent_without_a_filename_is_named_as_such(api, alice):
    headers = alice | {"content-type": "multipart/form-data; boundary=abc"}
    body = b'--abc\r\nContent-Disposition: form-data; name="files"\r\n\r\n' + b"RIFF" * 2000 + b"\r\n--abc--\r\n"
    detail = assert_problem(api.post("/v1/voices", content=body, headers=headers), 422, "missing_filename")["detail"]
    assert "no filename" in detail and "-F files=@" in detail


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_speed_that_is_not_a_number_says_so(api, alice, value):
    body = f'{{"text": "hi", "speed": {value}}}'
    headers = alice | {"content-type": "application/json"}
    r = api.post(f"/v1/voices/{'0' * 32}/speech", content=body, headers=headers)
    assert "finite number" in assert_problem(r, 422, "validation_error")["detail"]


def test_a_malformed_multipart_body(api, alice):
    headers = alice | {"content-type": "multipart/form-data; boundary=abc"}
    body = b'--abc\r\nContent-Disposition: form-data; name="files"; filename="a.wav"\r\n\r\nxx\r\n--abc\r\nbroken'
    assert_problem(api.post("/v1/voices", content=body, headers=headers), 422, "bad_multipart")


def test_too_many_jobs_at_once(api, alice, small):
    slots = api.app.state.api.slots
    user = "up-alice"
    running = slots.reserve(user, "voice")  # as if a build were running (jobs_per_user=1 here)
    try:
        r = api.post("/v1/voices", data=voice_form(), files=tiny_files(5), headers=alice)
        assert int(assert_problem(r, 429, "too_many_jobs")["status"]) == 429 and r.headers["retry-after"]
    finally:
        slots.cancel(running)
    assert slots.active(user) == 0


def test_text_over_the_limit(api, alice):
    r = api.post(f"/v1/voices/{'0' * 32}/speech", json={"text": "a" * 51}, headers=alice)
    assert "limit is 50" in assert_problem(r, 422, "text_too_long")["detail"]


def test_a_json_body_over_the_limit(api, alice):
    r = api.post(f"/v1/voices/{'0' * 32}/speech", json={"text": "a" * 300_000}, headers=alice)
    assert_problem(r, 413, "body_too_large")


def test_a_body_over_the_limit_on_the_openai_route_is_an_openai_error(api, alice):
    """The schema fuzzer found it: OpenAI's clients read ``error.code``, never a problem+json body."""
    r = api.post("/v1/audio/speech", json={"model": "tts-1", "voice": "x", "input": "a" * 300_000}, headers=alice)
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


@pytest.mark.parametrize(
    "body",
    [
        {"text": "hi", "format": "aac"},
        {"text": ""},
        {"text": "hi", "speed": 9},
        {"format": "wav"},
        {"text": "hi", "effects": 3},
    ],
)
def test_malformed_speech_requests(api, alice, body):
    body = assert_problem(api.post(f"/v1/voices/{'0' * 32}/speech", json=body, headers=alice), 422, "validation_error")
    assert body["errors"] and all("loc" in e and "msg" in e for e in body["errors"])


def test_check_a_good_sample(api, alice, piper_samples):
    path = piper_samples[0]
    r = api.post("/v1/samples/check", files=as_files([path], "file"), headers=alice)
    assert r.status_code == 200, r.text
    report = r.json()
    info = sf.info(path)
    assert report["file"] == path.name and report["accepted"]
    assert all(i["severity"] == "warning" for i in report["issues"])
    assert report["metrics"]["duration_s"] == pytest.approx(info.duration, abs=0.05)
    assert 1.0 < report["metrics"]["speech_s"] <= info.duration and report["quality"] > 30


@pytest.mark.parametrize(
    "name,data,code",
    [
        ("silence.wav", wav_bytes(np.zeros(16000 * 3, np.float32)), None),
        ("notes.txt", b"this is not audio at all, just text " * 20, None),
        ("empty.wav", b"", "empty_file"),
    ],
)
def test_check_a_bad_sample_says_why(api, alice, name, data, code):
    r = api.post("/v1/samples/check", files=[("file", (name, data, "application/octet-stream"))], headers=alice)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["file"] == name and not report["accepted"]
    assert report["reasons"] and all(len(reason) > 15 for reason in report["reasons"])
    assert all(i["severity"] in ("error", "warning") for i in report["issues"])
    if code:
        assert code in [i["code"] for i in report["issues"]]


def test_check_needs_a_file(api, alice):
    headers = alice | {"content-type": "multipart/form-data; boundary=abc"}
    body = b'--abc\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--abc--\r\n'
    assert_problem(api.post("/v1/samples/check", content=body, headers=headers), 422, "no_samples")


def test_check_refuses_a_second_file(api, alice):
    files = [("file", ("a.wav", b"1", "audio/wav")), ("file", ("b.wav", b"2", "audio/wav"))]
    assert_problem(api.post("/v1/samples/check", files=files, headers=alice), 422, "too_many_files")


@pytest.mark.parametrize(
    "given,label,saved",
    [
        ("../../etc/passwd", "passwd", "01-passwd.bin"),
        ("..\\..\\windows\\take 1.WAV", "take 1.WAV", "01-take-1.wav"),
        ("héllo wörld.mp3", "héllo wörld.mp3", "01-hello-world.mp3"),
        (".bashrc", ".bashrc", "01-bashrc.bin"),
        ("", "sample", "01-sample.bin"),
        ("a\x00b\nc.ogg", "abc.ogg", "01-abc.ogg"),
        ("x" * 300 + ".wav", "x" * 200, "01-" + "x" * 40 + ".bin"),
    ],
)
def test_client_file_names_are_labels_only(given, label, saved):
    assert label_of(given) == label
    assert safe_name(1, label_of(given)) == saved


def test_browser_recordings_get_their_extension_from_the_type():
    assert safe_name(3, "blob", "audio/webm;codecs=opus") == "03-blob.webm"


def test_a_build_from_unusable_recordings_fails_with_every_reason(api, alice):
    files = [("files", (f"quiet {i}.wav", wav_bytes(np.zeros(16000, np.float32)), "audio/wav")) for i in range(5)]
    accepted = api.post("/v1/voices", data=voice_form(), files=files, headers=alice)
    assert accepted.status_code == 202, accepted.text
    job = wait_for_job(api, accepted.json()["job_id"], alice, timeout=180)
    assert job["status"] == "failed" and job["progress"] == 100 and job["voice_id"] is None
    result = job["result"]
    assert not result["success"] and result["error_code"] == "not_enough_samples"
    assert [s["file"] for s in result["sample_reports"]] == [f"quiet {i}.wav" for i in range(5)]
    assert all(not s["accepted"] and s["reasons"] for s in result["sample_reports"])
    assert "quiet 0.wav" in result["errors"][0] and "01-quiet-0" not in result["errors"][0]
    slots = api.app.state.api.slots
    deadline = time.monotonic() + 10
    while slots.active("up-alice") and time.monotonic() < deadline:  # the slot comes back after the cleanup
        time.sleep(0.05)
    assert slots.active("up-alice") == 0
    assert api.get("/v1/voices", headers=alice).json() == []


@pytest.mark.parametrize(
    "disposition,label",
    [
        ('filename="ünïcødé-日本語-🎤.wav"'.encode(), "ünïcødé-日本語-🎤.wav"),  # raw UTF-8, as browsers send
        ('filename="Aufnahme-Müller.wav"'.encode(), "Aufnahme-Müller.wav"),
        (b"filename=\"x.wav\"; filename*=UTF-8''Aufnahme-M%C3%BCller.wav", "Aufnahme-Müller.wav"),  # RFC 5987
    ],
)
def test_non_ascii_file_names_are_kept(api, alice, piper_samples, disposition, label):
    headers = alice | {"content-type": "multipart/form-data; boundary=abc"}
    body = (
        b'--abc\r\nContent-Disposition: form-data; name="file"; ' + disposition + b"\r\n"
        b"Content-Type: audio/wav\r\n\r\n" + piper_samples[0].read_bytes() + b"\r\n--abc--\r\n"
    )
    r = api.post("/v1/samples/check", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["file"] == label and r.json()["accepted"]


def test_a_zip_named_mp3_is_a_verdict_not_a_server_error(api, alice, tmp_path, piper_samples):
    """FFmpeg guesses such a file is MP3 with an audio stream of no channels; that must be a per-file verdict."""
    import zipfile

    from realvoice.audio import encode

    speech, sr = sf.read(piper_samples[0], dtype="float32")
    encode(tmp_path / "a.mp3", speech, sr)  # compressed speech is what makes FFmpeg guess MP3
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(tmp_path / "a.mp3", "a.mp3")
    r = api.post("/v1/samples/check", files=[("file", ("take.mp3", buf.getvalue(), "audio/mpeg"))], headers=alice)
    assert r.status_code == 200, r.text
    report = r.json()
    assert not report["accepted"] and report["reasons"], report
