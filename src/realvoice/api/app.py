"""The app factory: one service, its routers, the error mapping, and the web page at ``/``."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..service import RealVoiceCloningService
from ..store.users import ensure_tables
from .config import ApiSettings
from .deps import ApiState
from .errors import install_error_handlers
from .jobs import JobRunner
from .limits import JobSlots, RateLimiter
from .middleware import BodyLimit
from .previews import PreviewCache
from .routes import health, jobs, openai, samples, voices

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
DESCRIPTION = """
Clone a voice from five or more short recordings, then speak any English text in it.

Sign in with an API key made by `realvoice users create NAME`, sent as `Authorization: Bearer KEY`.
Errors are `application/problem+json` with a stable `code`.
"""


def create_app(service: RealVoiceCloningService | None = None, *, settings: ApiSettings | None = None) -> FastAPI:
    """An app over ``service`` (default: one from the ``REALVOICE_*`` environment); the page is served at ``/``."""
    service = service or RealVoiceCloningService()
    settings = settings or ApiSettings()
    ensure_tables(service.db)
    slots = JobSlots(settings.jobs_per_user)
    state = ApiState(
        service=service,
        settings=settings,
        rate=RateLimiter(settings.requests_per_minute),
        slots=slots,
        jobs=JobRunner(service, slots, settings.workers),
        previews=PreviewCache(service, service.settings.home / "previews", settings.preview_cache),
        render_gate=threading.BoundedSemaphore(max(1, settings.renders)),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state.jobs.fail_interrupted()
        _sweep_uploads(service.settings.home / "uploads")
        yield
        state.jobs.shutdown()

    app = FastAPI(title="realvoice", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.api = state
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_json_bytes)
    for module in (health, voices, jobs, samples, openai):
        app.include_router(module.router)
    if WEB_DIR.is_dir():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


def _sweep_uploads(folder: Path, older_than_s: float = 3600.0) -> None:
    """Upload folders a stopped process left behind (a live upload's folder is younger than this)."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if time.time() - path.stat().st_mtime > older_than_s:
            shutil.rmtree(path, ignore_errors=True)
