"""POST /v1/voices/{id}/refine: a job of its own with visible progress, owner-only, one per voice at a time.

The voice was built without a fit (a stock voice: refinement advised; conftest.refinable); the thorough
fit and the validation are stood in for (the engine's ``enroll`` and ``validate``), and the fit waits on
the test's signal so that a test can look at the job while it runs."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from realvoice.engines import VoiceCheck
from realvoice.store.users import create_key

from .conftest import assert_problem, wait_for_job

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def keys(service) -> dict[str, dict[str, str]]:
    """Headers for the voice's owner (user "rhea", see conftest.refinable) and for another user."""
    other = f"other-{uuid.uuid4().hex[:6]}"
    return {
        "owner": {"Authorization": f"Bearer {create_key(service.db, 'rhea')}"},
        "stranger": {"Authorization": f"Bearer {create_key(service.db, other)}"},
    }


@pytest.fixture
def owner(refinable, keys):
    """The stock voice to refine (put back as built after each test), and who may refine it."""
    assert refinable.refine_advised
    return {"voice_id": refinable.voice_id, "headers": keys["owner"], "stranger": keys["stranger"]}


@pytest.fixture(scope="module")
def gate(service):
    """The fit waits until the test sets the event; validation answers fixed scores (the fit's better)."""
    release = threading.Event()
    engine = service.engine
    with pytest.MonkeyPatch.context() as mp:
        real_enroll = engine.enroll

        def enroll(samples, *, progress=None, **kwargs):
            for step in range(3):
                time.sleep(0.3)  # the job's row takes progress at most every 0.25 s
                if progress:
                    progress(step / 3, f"fitting the timbre, step {step + 1} of 3")
            assert release.wait(120), "the test never let the fit end"
            model = real_enroll(samples, **{**kwargs, "mode": "nearest-stock"})
            model.method = "fitted-adapter-thorough"
            model.params = {"start_voice": model.params["stock_voice"], "fit_kept": True, "fit_share": 1.0}
            model.metrics = {"timbre_steps": 100.0}
            return model

        def validate(voice, samples):
            return VoiceCheck(0.55, 0.03) if voice.method == "nearest-stock" else VoiceCheck(0.8, 0.03)

        mp.setattr(engine, "enroll", enroll)
        mp.setattr(engine, "validate", validate)
        yield release


def _running(client, job_id, headers) -> dict:
    """The job once its fit has reported progress."""
    for _ in range(200):
        job = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] == "running" and "fitting the timbre" in job["message"]:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never showed progress: {job}")


def test_a_refinement_is_a_job_with_progress_and_a_verdict(client, owner, gate):
    url = f"/v1/voices/{owner['voice_id']}/refine"
    r = client.post(url, headers=owner["headers"])
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert r.headers["Location"] == accepted["job_url"] and accepted["status"] == "queued"
    job_id = accepted["job_id"]
    running = _running(client, job_id, owner["headers"])
    assert running["kind"] == "refine" and running["voice_id"] == owner["voice_id"] and running["refinement"] is None
    assert 0 < running["progress"] < 100 and "fitting the timbre" in running["message"]
    # while it runs, a second refinement of the voice is refused, and the voice still speaks as it was
    again = client.post(url, headers=owner["headers"])
    body = assert_problem(again, 409, "refine_running")
    assert "already being refined" in body["detail"]
    listed = client.get(f"/v1/voices/{owner['voice_id']}", headers=owner["headers"]).json()
    assert (listed["version"], listed["fit_outcome"], listed["refine_advised"]) == (1, "stock", True)
    gate.set()
    done = wait_for_job(client, job_id, owner["headers"], timeout=120)
    assert done["status"] == "done" and done["progress"] == 100 and done["result"] is None
    refined = done["refinement"]
    assert refined["success"] and refined["improved"] and (refined["previous_version"], refined["version"]) == (1, 2)
    assert (refined["before"]["similarity"], refined["after"]["similarity"]) == (0.55, 0.8)
    assert done["message"].startswith("The refined voice is closer to you")
    voice = client.get(f"/v1/voices/{owner['voice_id']}", headers=owner["headers"]).json()
    assert (voice["version"], voice["fit_outcome"], voice["refine_advised"]) == (2, "fitted", False)
    assert voice["quality_score"] == refined["quality_score"] > 40


def test_the_events_stream_ends_with_the_refinement(client, owner, gate):
    gate.set()
    r = client.post(f"/v1/voices/{owner['voice_id']}/refine", headers=owner["headers"])
    assert r.status_code == 202, r.text
    with client.stream("GET", r.json()["events_url"], headers=owner["headers"]) as events:
        text = "".join(events.iter_text())
    blocks = [b for b in text.split("\n\n") if b.startswith("event: ")]
    assert blocks[0].startswith("event: progress") and blocks[-1].startswith("event: done")
    done = json.loads(blocks[-1].split("data: ", 1)[1])
    assert done["refinement"]["success"] and done["refinement"]["improved"] and done["refinement"]["version"] == 2
    progress = [json.loads(b.split("data: ", 1)[1])["progress"] for b in blocks[:-1]]
    assert progress == sorted(progress) and all(0 <= p < 100 for p in progress)


def test_only_the_owner_can_refine(client, owner):
    r = client.post(f"/v1/voices/{owner['voice_id']}/refine", headers=owner["stranger"])
    assert_problem(r, 404, "voice_not_found")
    unknown = client.post(f"/v1/voices/{uuid.uuid4().hex}/refine", headers=owner["headers"])
    assert_problem(unknown, 404, "voice_not_found")
    assert client.post(f"/v1/voices/{owner['voice_id']}/refine").status_code == 401
