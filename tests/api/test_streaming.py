"""Speech over HTTP as it is made: the stream route, OpenAI's ``/v1/audio/speech`` (with the real ``openai``
client and curl), a client that hangs up, and long texts as jobs. On a real uvicorn server."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
import uuid

import av
import httpx
import numpy as np
import pytest

from realvoice.analysis.transcribe import transcribe, word_error_rate
from realvoice.store.users import create_key

from .browser import serve
from .conftest import assert_problem

pytestmark = pytest.mark.slow
TEXT = "The library opens at nine in the morning. It closes early on Sundays, and late on Fridays."
LONG = " ".join(f"Sentence number {n} is here to keep the voice busy for a while." for n in range(1, 31))


def decode(data: bytes) -> tuple[np.ndarray, int]:
    with av.open(io.BytesIO(data)) as c:
        to_float = av.AudioResampler(format="fltp", layout="mono")
        frames = [out.to_ndarray()[0] for f in c.decode(audio=0) for out in to_float.resample(f)]
        return np.concatenate(frames).astype(np.float32), c.streams.audio[0].codec_context.sample_rate


@pytest.fixture(scope="module")
def server(service):
    yield from serve(service, sse_interval_s=0.1)


@pytest.fixture(scope="module")
def user(service, piper_samples):
    """A user with an API key and one voice (nearest-stock: these tests are about transport, not the fit)."""
    user_id = f"stream-{uuid.uuid4().hex[:6]}"
    key = create_key(service.db, user_id)
    result = service.create_voice(user_id, "Narrator", piper_samples, mode="nearest-stock", allow_duplicate=True)
    assert result.success, result.errors
    return {"id": user_id, "key": key, "voice": result.voice_id, "headers": {"Authorization": f"Bearer {key}"}}


def test_stream_sends_audio_in_chunks_that_say_the_text(server, user):
    chunks, first = [], None
    t0 = time.monotonic()
    body = {"text": TEXT, "format": "mp3"}
    with httpx.stream(
        "POST", f"{server}/v1/voices/{user['voice']}/speech/stream", json=body, headers=user["headers"], timeout=120
    ) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"] == "audio/mpeg"
        assert r.headers.get("transfer-encoding") == "chunked"
        assert int(r.headers["x-sentences"]) >= 2
        for part in r.iter_raw():
            first = first if first is not None else time.monotonic() - t0
            chunks.append((time.monotonic() - t0, part))
    total = time.monotonic() - t0
    audio, sr = decode(b"".join(p for _, p in chunks))
    assert len(audio) / sr > 3.0
    assert word_error_rate(TEXT, transcribe(audio, sr)) <= 0.15
    # Audio arrived well before the whole text was spoken.
    assert first < 0.8 * total, (first, total)


@pytest.mark.parametrize("fmt", ["wav", "opus", "flac", "aac"])
def test_stream_formats_decode(server, user, fmt):
    r = httpx.post(
        f"{server}/v1/voices/{user['voice']}/speech/stream",
        json={"text": "Hello there, and welcome.", "format": fmt, "effects": ["reverb"], "background_music": "lofi"},
        headers=user["headers"],
        timeout=120,
    )
    assert r.status_code == 200, r.text
    audio, sr = decode(r.content)
    assert 1.5 < len(audio) / sr < 12.0
    assert np.max(np.abs(audio)) <= 1.0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": TEXT, "format": "aiff"}, 422, "validation_error"),
        ({"text": TEXT, "effects": ["reverbb"]}, 422, "unknown_effect"),
        ({"text": TEXT, "background_music": "polka"}, 422, "validation_error"),
        ({"text": "   "}, 422, "empty_text"),
        ({"text": "x" * 10_001}, 422, "text_too_long"),
    ],
)
def test_a_bad_stream_request_fails_before_any_audio(server, user, body, status, code):
    r = httpx.post(f"{server}/v1/voices/{user['voice']}/speech/stream", json=body, headers=user["headers"], timeout=60)
    assert_problem(r, status, code)


def test_another_users_voice_cannot_be_streamed(server, user, service):
    other = {"Authorization": f"Bearer {create_key(service.db, 'stream-stranger')}"}
    r = httpx.post(f"{server}/v1/voices/{user['voice']}/speech/stream", json={"text": TEXT}, headers=other)
    assert_problem(r, 404, "voice_not_found")


def test_openai_client_speaks_with_a_voice_by_name_and_by_id(server, user):
    import openai

    client = openai.OpenAI(api_key=user["key"], base_url=f"{server}/v1", max_retries=0)
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="narrator", input=TEXT, response_format="mp3"
    ) as response:
        data = b"".join(response.iter_bytes())
    audio, sr = decode(data)
    assert word_error_rate(TEXT, transcribe(audio, sr)) <= 0.15
    pcm = client.audio.speech.create(
        model="realvoice", voice=user["voice"], input="Good morning.", response_format="pcm"
    )
    samples = np.frombuffer(pcm.content, "<i2")
    assert 0.5 < len(samples) / 24000 < 5.0
    assert client.models.list().data[0].id


def test_openai_errors_take_openais_shape(server, user):
    import openai

    client = openai.OpenAI(api_key=user["key"], base_url=f"{server}/v1", max_retries=0)
    with pytest.raises(openai.NotFoundError) as missing:
        client.audio.speech.create(model="tts-1", voice="nobody", input=TEXT)
    assert missing.value.body["code"] == "voice_not_found" and "Narrator" in missing.value.body["message"]
    with pytest.raises(openai.BadRequestError) as bad:
        client.audio.speech.create(model="tts-1", voice="Narrator", input=TEXT, speed=3.0)
    assert bad.value.body["code"] == "bad_speed"
    with pytest.raises(openai.BadRequestError) as model:
        client.audio.speech.create(model="whisper-1", voice="Narrator", input=TEXT)
    assert model.value.body["code"] == "bad_model"
    bad_key = openai.OpenAI(api_key="rv_nope", base_url=f"{server}/v1", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as auth:
        bad_key.audio.speech.create(model="tts-1", voice="Narrator", input=TEXT)
    assert auth.value.body["type"] == "authentication_error"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_gets_a_wav_stream(server, user, tmp_path):
    out = tmp_path / "speech.wav"
    subprocess.run(
        [
            "curl",
            "-sS",
            "--fail",
            "-N",
            f"{server}/v1/audio/speech",
            "-H",
            f"Authorization: Bearer {user['key']}",
            "-H",
            "Content-Type: application/json",
            "-o",
            str(out),
            "-d",
            '{"model": "tts-1", "voice": "Narrator", "input": "Hello from curl.", "response_format": "wav"}',
        ],
        check=True,
        timeout=120,
    )
    audio, sr = decode(out.read_bytes())
    assert sr == 24000 and 0.5 < len(audio) / sr < 5.0


def test_a_client_that_hangs_up_stops_the_synthesis(server, user, service, monkeypatch):
    engine = service.engine
    made: list[float] = []
    original = engine.synthesize

    def counted(*args, **kwargs):
        made.append(time.monotonic())
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "synthesize", counted)
    with httpx.stream(
        "POST",
        f"{server}/v1/voices/{user['voice']}/speech/stream",
        json={"text": LONG, "format": "pcm"},
        headers=user["headers"],
        timeout=120,
    ) as r:
        sentences = int(r.headers["x-sentences"])
        next(r.iter_raw())
    at_hang_up = len(made)
    # Wait until nothing more is made for 4 s (a sentence already in hand may finish).
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (not made or time.monotonic() - made[-1] < 4.0):
        time.sleep(0.5)
    assert sentences >= 30
    assert len(made) <= at_hang_up + 2, (at_hang_up, len(made))


def test_a_long_text_is_a_job_with_progress_then_a_download(server, user):
    headers = user["headers"]
    r = httpx.post(
        f"{server}/v1/voices/{user['voice']}/speech/jobs", json={"text": LONG[:1500], "format": "mp3"}, headers=headers
    )
    assert r.status_code == 202, r.text
    job_url = f"{server}{r.json()['job_url']}"
    seen = set()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = httpx.get(job_url, headers=headers).json()
        seen.add(job["progress"])
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.3)
    assert job["status"] == "done", job
    assert job["kind"] == "speech" and job["speech"]["duration_s"] > 20
    assert len(seen) >= 3  # progress moved through the sentences
    audio = httpx.get(f"{server}{job['audio_url']}", headers=headers)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    samples, sr = decode(audio.content)
    assert len(samples) / sr == pytest.approx(job["speech"]["duration_s"], abs=0.3)
    assert httpx.delete(job_url, headers=headers).status_code == 204
    assert_problem(httpx.get(job_url, headers=headers), 404, "job_not_found")
