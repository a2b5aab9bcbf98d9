"""The server's default: each job runs in a child process, so the API process never loads what a build
needs (the crash tests cover a child that dies)."""

from __future__ import annotations

import uuid

import pytest

from realvoice import RealVoiceCloningService
from realvoice.config import Settings
from realvoice.store.users import create_key

from .conftest import as_files, make_client, voice_form, wait_for_job

pytestmark = pytest.mark.slow


def test_a_build_and_a_render_run_in_child_processes(tmp_path, piper_samples):
    service = RealVoiceCloningService(settings=Settings(home=tmp_path / "home", fit_mode="nearest-stock"))
    headers = {"Authorization": f"Bearer {create_key(service.db, f'proc-{uuid.uuid4().hex[:6]}')}"}
    try:
        with make_client(service, jobs_in_child_processes=True) as client:
            accepted = client.post("/v1/voices", data=voice_form(), files=as_files(piper_samples), headers=headers)
            assert accepted.status_code == 202, accepted.text
            job = wait_for_job(client, accepted.json()["job_id"], headers)
            assert job["status"] == "done", job
            # a stock voice: the REST job's result says so and offers the refinement
            assert job["result"]["fit_outcome"] == "stock" and job["result"]["refine_advised"] is True
            voice_id = job["result"]["voice_id"]
            assert service._engine is None, "the build ran in another process: this one never loaded the model"
            spoken = client.post(
                f"/v1/voices/{voice_id}/speech/jobs", json={"text": "Made in a child process."}, headers=headers
            )
            assert spoken.status_code == 202, spoken.text
            render = wait_for_job(client, spoken.json()["job_id"], headers)
            assert render["status"] == "done", render
            assert service._engine is None
            audio = client.get(f"/v1/jobs/{render['job_id']}/audio", headers=headers)
            assert audio.status_code == 200 and len(audio.content) > 10_000
    finally:
        service.close()
