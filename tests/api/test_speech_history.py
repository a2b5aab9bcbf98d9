"""The speech history: a user's recent renders, each to play again, download under a telling name, make
anew with the same request, or delete with its file; bounded per user, and seen by its owner only.

A server of its own whose voice is built without a fit (nearest-stock) and which keeps three renders."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from realvoice import RealVoiceCloningService
from realvoice.api.history import file_name
from realvoice.config import Settings
from realvoice.store.users import create_key

from .conftest import assert_problem, make_client, wait_for_job
from .test_streaming import decode

pytestmark = pytest.mark.slow
KEEP = 3


@pytest.fixture(scope="module")
def setup(tmp_path_factory, piper_samples) -> Iterator[tuple[TestClient, RealVoiceCloningService, dict, str]]:
    home = tmp_path_factory.mktemp("history")
    service = RealVoiceCloningService(settings=Settings(home=home, fit_mode="nearest-stock", speech_history=KEEP))
    owner = f"hist-{uuid.uuid4().hex[:6]}"
    headers = {
        who: {"Authorization": f"Bearer {create_key(service.db, name)}"}
        for who, name in (("owner", owner), ("other", f"{owner}-other"))
    }
    voice = service.create_voice(owner, "Joe, warm", piper_samples, allow_duplicate=True)
    assert voice.success, voice.errors
    with make_client(service) as client:
        yield client, service, headers, voice.voice_id
    service.close()


def render(client: TestClient, headers: dict, voice_id: str, **request) -> dict:
    accepted = client.post(f"/v1/voices/{voice_id}/speech/jobs", json=request, headers=headers)
    assert accepted.status_code == 202, accepted.text
    job = wait_for_job(client, accepted.json()["job_id"], headers, timeout=300)
    assert job["status"] == "done", job
    return job


def history(client: TestClient, headers: dict) -> list[dict]:
    r = client.get("/v1/speech", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_render_is_listed_with_what_was_asked_and_a_telling_file_name(setup):
    client, _, headers, voice_id = setup
    asked = {"text": "Hello from the history, twice.", "format": "mp3", "speed": 1.2, "pause_scale": 0.5}
    job = render(client, headers["owner"], voice_id, **asked, effects=["podcast", "chorus"])
    item = history(client, headers["owner"])[0]
    assert item["job_id"] == job["job_id"] and item["status"] == "done"
    assert item["voice_id"] == voice_id and item["voice_name"] == "Joe, warm"
    assert {k: item["request"][k] for k in asked} == asked
    assert item["request"]["effects"] == ["podcast", "chorus"]
    assert item["file_name"] == "Joe warm - hello-from-the-history-twice.mp3"
    assert item["duration_s"] == pytest.approx(job["speech"]["duration_s"])
    audio = client.get(item["audio_url"], headers=headers["owner"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    assert unquote(audio.headers["content-disposition"]).endswith("''Joe warm - hello-from-the-history-twice.mp3")
    samples, sr = decode(audio.content)
    assert len(samples) / sr == pytest.approx(item["duration_s"], abs=0.3)


def test_regenerate_sends_the_request_again(setup):
    client, _, headers, voice_id = setup
    first = history(client, headers["owner"])[0]
    again = render(client, headers["owner"], voice_id, **first["request"])
    newest, previous = history(client, headers["owner"])[:2]
    assert newest["job_id"] == again["job_id"] != previous["job_id"] == first["job_id"]
    assert newest["request"] == first["request"]
    assert newest["duration_s"] == pytest.approx(first["duration_s"], rel=0.15)


def test_another_user_sees_none_of_it(setup):
    client, _, headers, _ = setup
    mine = history(client, headers["owner"])
    assert mine and history(client, headers["other"]) == []
    assert_problem(client.get(mine[0]["audio_url"], headers=headers["other"]), 404, "job_not_found")
    assert_problem(client.delete(mine[0]["job_url"], headers=headers["other"]), 404, "job_not_found")
    assert len(history(client, headers["owner"])) == len(mine)


def test_delete_forgets_the_render_and_its_file(setup):
    client, service, headers, _ = setup
    item = history(client, headers["owner"])[0]
    folder = service.settings.renders_dir / item["job_id"]
    assert any(folder.iterdir())
    assert client.delete(item["job_url"], headers=headers["owner"]).status_code == 204
    assert item["job_id"] not in {i["job_id"] for i in history(client, headers["owner"])}
    assert not folder.exists()
    assert_problem(client.get(item["audio_url"], headers=headers["owner"]), 404, "job_not_found")


def test_the_history_keeps_the_newest_renders_only(setup):
    client, service, headers, voice_id = setup
    made = [render(client, headers["owner"], voice_id, text=f"Render number {n}.")["job_id"] for n in range(KEEP + 1)]
    kept = [i["job_id"] for i in history(client, headers["owner"])]
    assert kept == made[::-1][:KEEP]  # newest first, the oldest gone
    assert not (service.settings.renders_dir / made[0]).exists()
    assert_problem(client.get(f"/v1/jobs/{made[0]}", headers=headers["owner"]), 404, "job_not_found")


def test_pause_scale_lengthens_the_pauses(setup):
    client, _, headers, voice_id = setup
    text = "One. Two. Three. Four. Five."
    seconds = {}
    for scale in (0.0, 3.0):
        r = client.post(
            f"/v1/voices/{voice_id}/speech", json={"text": text, "pause_scale": scale}, headers=headers["owner"]
        )
        assert r.status_code == 200, r.text
        seconds[scale] = float(r.headers["x-duration-seconds"])
    assert seconds[3.0] - seconds[0.0] > 1.0, seconds  # four sentence pauses, each tripled from nothing


@pytest.mark.parametrize(
    ("voice", "text", "fmt", "expected"),
    [
        ("Joe", "Hello, world! How are you?", "wav", "Joe - hello-world-how-are-you.wav"),
        (
            "Zoë/../x",
            "Ça va? «Très» bien — merci beaucoup, vraiment",
            "ogg",
            "Zoë x - ça-va-très-bien-merci-beaucoup.ogg",
        ),
        ("", "...", "mp3", "realvoice-speech.mp3"),
    ],
)
def test_file_names_are_safe_and_tell_renders_apart(voice, text, fmt, expected):
    assert file_name(voice, text, fmt) == expected
