"""Liveness: the process answers and its database does."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from ... import __version__
from ..deps import ServiceDep
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(service: ServiceDep) -> Health:
    """Whether the server and its database answer, and the version."""
    with service.db.session() as s:
        s.execute(text("SELECT 1"))
    return Health(
        version=__version__,
        engine=service.settings.engine,
        consent_recording_required=service.settings.require_consent_recording,
    )
