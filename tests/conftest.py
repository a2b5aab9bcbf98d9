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
def refinable_built(service, piper_samples):
    """A voice of user "rhea" built without a fit (a stock voice: refinement advised), once per session."""
    r = service.create_voice("rhea", "Rhea", piper_samples, mode="nearest-stock", allow_duplicate=True)
    assert r.success, r.errors
    return r


@pytest.fixture
def refinable(service, refinable_built):
    """That voice, put back as it was built after each test (its first version, its row, its transcripts):
    a voice built afresh per test would cost half a minute each."""
    from realvoice.store import VoiceRow
    from realvoice.voices import MODEL_FILE

    from .helpers import voice_row

    folder = service.settings.voices_dir / refinable_built.voice_id
    first = (folder / MODEL_FILE).read_bytes()
    texts = {p.name: p.read_text() for p in (folder / "cleaned").glob("*.txt")}
    row = voice_row(service, refinable_built.voice_id)
    fields = ("model_file", "method", "engine", "engine_version", "quality_score", "quality_tier", "report")
    saved = {f: getattr(row, f) for f in fields}
    yield refinable_built
    for path in folder.iterdir():
        if "rvm" in path.name:
            path.unlink()
    (folder / MODEL_FILE).write_bytes(first)
    for name, text in texts.items():
        (folder / "cleaned" / name).write_text(text)
    with service.db.session() as s:
        stored = s.get(VoiceRow, refinable_built.voice_id)
        for f, value in saved.items():
            setattr(stored, f, value)
    service.voices.models.forget(refinable_built.voice_id)


@pytest.fixture
def fake_refinement(service, monkeypatch):
    """The thorough fit stood in for by the nearest stock voice made to look fitted (its style moved a
    little, so that a new version can be told from the old), and validation by fixed scores: the test
    chooses each decision, and a refinement takes seconds. Yields the scores (to change) and the modes asked."""
    from realvoice.engines import VoiceCheck

    from .helpers import FITTED_SIMILARITY, STOCK_SIMILARITY

    engine = service.engine
    real_enroll = engine.enroll
    scores = {"fitted": VoiceCheck(FITTED_SIMILARITY, 0.03), "stock": VoiceCheck(STOCK_SIMILARITY, 0.03)}
    asked = []

    def enroll(samples, **kwargs):
        asked.append(kwargs.get("mode"))
        model = real_enroll(samples, **{**kwargs, "mode": "nearest-stock"})
        model.method = "fitted-adapter-thorough"
        model.arrays["style"] = model.arrays["style"] * 1.01
        model.params = {"start_voice": model.params["stock_voice"], "fit_kept": True, "fit_share": 1.0}
        model.metrics = {"timbre_steps": 100.0, "validation_similarity": FITTED_SIMILARITY}
        return model

    def validate(voice, samples):
        assert samples and all(s.transcript for s in samples)  # the stored recordings, with their words
        return scores["stock" if voice.method == "nearest-stock" else "fitted"]

    monkeypatch.setattr(engine, "enroll", enroll)
    monkeypatch.setattr(engine, "validate", validate)
    return scores, asked


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
