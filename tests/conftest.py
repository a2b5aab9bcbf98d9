from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def piper_samples(tmp_path_factory) -> list[Path]:
    """Six enrollment recordings of the Piper 'joe' voice (a voice Kokoro does not have)."""
    from realvoice.demo import make_piper_samples

    return make_piper_samples(tmp_path_factory.mktemp("piper"))


@pytest.fixture(scope="session")
def service(tmp_path_factory):
    from realvoice import RealVoiceCloningService

    svc = RealVoiceCloningService(tmp_path_factory.mktemp("home"))
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def alice_voice(service, piper_samples):
    """One voice cloned through the seed API, shared by the end-to-end tests."""
    import asyncio

    result = asyncio.run(service.create_user_voice_clone("alice", "Joe", piper_samples, "demo voice"))
    assert result.success, result.errors
    return result


@pytest.fixture(scope="session")
def stock_voice(service, piper_samples):
    """A voice of user "rita" built without a fit (nearest-stock): the whole intake, quickly."""
    result = service.create_voice("rita", "Rita", piper_samples, "a quick voice", mode="nearest-stock")
    assert result.success, result.errors
    return result


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session (skips where Debian's postgresql is not installed)."""
    import shutil
    import tempfile

    from .servers import postgres_server

    # not under pytest's own temporary folders: the server's account must be able to reach its folder
    folder = Path(tempfile.mkdtemp(prefix="realvoice-pg-"))
    try:
        with postgres_server(folder) as url:
            yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)
