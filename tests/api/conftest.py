"""An app over the session's service, keys for two users, and helpers shared by the API tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from realvoice.api import create_app
from realvoice.api.config import ApiSettings
from realvoice.store.rates import MemoryRateCounts
from realvoice.store.users import create_key


def make_client(service, **settings: Any) -> TestClient:
    """A client of a new app; its request counts are its own (every test client is the same address, and
    the session's database would carry one test's bad keys into the next). Its jobs run in its threads,
    where a test can watch or patch them; test_job_processes.py and the crash tests run the default."""
    defaults: dict[str, Any] = {
        "requests_per_minute": 100_000,
        "jobs_per_user": 2,
        "sse_interval_s": 0.1,
        "jobs_in_child_processes": False,
    }
    app = create_app(service, settings=ApiSettings(**(defaults | settings)), counts=MemoryRateCounts())
    return TestClient(app)


@pytest.fixture(scope="module")
def client(service) -> Iterator[TestClient]:
    with make_client(service) as c:
        yield c


@pytest.fixture(scope="module")
def users(service) -> dict[str, dict[str, str]]:
    """Two users (names unique to the module), each as the headers that sign in with a new key."""
    tag = uuid.uuid4().hex[:6]
    return {who: {"Authorization": f"Bearer {create_key(service.db, f'api-{who}-{tag}')}"} for who in ("alice", "bob")}


def as_files(paths: list[Path], field: str = "files") -> list[tuple[str, tuple[str, bytes, str]]]:
    return [(field, (p.name, p.read_bytes(), "audio/wav")) for p in paths]


def voice_form(**fields: str) -> dict[str, str]:
    return {"name": "Joe", "description": "made in a test", "consent": "true"} | fields


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is problem+json with the status and stable code, and says something a person can act on."""
    assert r.status_code == status, (r.headers.get("content-type"), r.content[:300])
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"].endswith(code) and body["title"] and len(body["detail"]) > 10
    return body


def wait_for_job(client: TestClient, job_id: str, headers: dict[str, str], timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")
