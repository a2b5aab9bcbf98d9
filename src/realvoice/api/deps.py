"""What routes need, declared once: the service, the settings, the job runner, and the signed-in user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..jobs import JobSlots
from ..service import RealVoiceCloningService
from ..store.users import hash_key, user_for_key
from .config import ApiSettings
from .errors import ApiError
from .jobs import JobStarter
from .limits import RateLimiter, RenderQueue
from .previews import PreviewCache


@dataclass
class ApiState:
    """Everything one app instance owns, kept on ``app.state.api``."""

    service: RealVoiceCloningService
    settings: ApiSettings
    rate: RateLimiter
    slots: JobSlots
    jobs: JobStarter
    previews: PreviewCache
    renders: RenderQueue
    auth_failures: RateLimiter


def get_state(request: Request) -> ApiState:
    return request.app.state.api


StateDep = Annotated[ApiState, Depends(get_state)]


def get_service(state: StateDep) -> RealVoiceCloningService:
    return state.service


ServiceDep = Annotated[RealVoiceCloningService, Depends(get_service)]

bearer = HTTPBearer(
    auto_error=False,
    description="An API key from `realvoice users create NAME`, sent as `Authorization: Bearer KEY`.",
)


def current_user(
    request: Request, state: StateDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str:
    """The key's user; every authenticated request also counts against the key's rate limit, and every
    request without a valid key against its client address's (so keys cannot be guessed at speed)."""
    challenge = {"WWW-Authenticate": "Bearer"}
    address = f"address:{request.client.host if request.client else 'unknown'}"
    state.auth_failures.check(address)
    if credentials is None or not credentials.credentials:
        state.auth_failures.hit(address)
        raise ApiError(
            401, "sign in: send your API key as 'Authorization: Bearer KEY'", code="no_api_key", headers=challenge
        )
    user_id = user_for_key(state.service.db, credentials.credentials)
    if user_id is None:
        state.auth_failures.hit(address)
        raise ApiError(401, "this API key is not valid (unknown or revoked)", code="bad_api_key", headers=challenge)
    state.rate.hit(hash_key(credentials.credentials))
    return user_id


CurrentUser = Annotated[str, Depends(current_user)]
