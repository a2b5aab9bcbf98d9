"""The caller: whose key this is, so a front end can say who is signed in."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import CurrentUser
from ..errors import problem_responses
from ..schemas import Me

router = APIRouter(prefix="/v1", tags=["account"], responses=problem_responses(401, 429))


@router.get("/me", response_model=Me)
def me(user: CurrentUser) -> Me:
    """The user name of the key you sent."""
    return Me(user=user)
