"""The app factory: one service, its routers, the error mapping, and the web page at ``/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from .. import __version__
from ..jobs import JobSlots, make_queue
from ..service import RealVoiceCloningService
from ..store.rates import DbRateCounts, RateCounts, RedisRateCounts
from .config import ApiSettings
from .deps import ApiState
from .errors import install_error_handlers
from .jobs import JobStarter
from .limits import RateLimiter, RenderQueue
from .middleware import BodyLimit
from .previews import PreviewCache
from .routes import consent, detect, health, jobs, me, openai, samples, speech, voices

DOCS_ASSETS = "/docs/assets"

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
DESCRIPTION = """
Clone a voice from five or more short recordings, then speak any English text in it.

Sign in with an API key made by `realvoice users create NAME`, sent as `Authorization: Bearer KEY`.
Errors are `application/problem+json` with a stable `code`.
"""


def shared_counts(service: RealVoiceCloningService) -> RateCounts:
    """Request counts every API process sees: in Redis where the broker is Redis, else in the database."""
    broker = service.settings.broker_url or ""
    if broker.startswith(("redis://", "rediss://", "unix://")):
        return RedisRateCounts(broker, 60.0)
    return DbRateCounts(service.db)


def create_app(
    service: RealVoiceCloningService | None = None,
    *,
    settings: ApiSettings | None = None,
    counts: RateCounts | None = None,
) -> FastAPI:
    """An app over ``service`` (default: one from the ``REALVOICE_*`` environment); the page is served at ``/``.

    ``counts``: where request rates are counted (default: shared, see :func:`shared_counts`)."""
    service = service or RealVoiceCloningService()
    settings = settings or ApiSettings()
    slots = JobSlots(service.db, settings.jobs_per_user)
    counts = counts or shared_counts(service)
    state = ApiState(
        service=service,
        settings=settings,
        rate=RateLimiter(settings.requests_per_minute, counts=counts),
        slots=slots,
        jobs=JobStarter(service, slots, make_queue(service, settings.workers, settings.jobs_in_child_processes)),
        previews=PreviewCache(service, service.settings.home / "previews", settings.preview_cache),
        renders=RenderQueue(settings.renders, settings.render_queue, settings.render_wait_s),
        auth_failures=RateLimiter(
            settings.bad_keys_per_minute, what="requests without a valid key in a minute", counts=counts
        ),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.jobs.shutdown()

    # FastAPI's own /docs loads Swagger UI from a CDN, blank offline; this serves it from the wheel.
    app = FastAPIOffline(
        title="realvoice",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
    )
    app.state.api = state
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_json_bytes)
    for module in (health, me, voices, speech, consent, jobs, samples, detect, openai):
        app.include_router(module.router)
    if WEB_DIR.is_dir():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app
