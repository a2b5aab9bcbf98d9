"""Consent statements: what the speaker reads aloud before a voice of theirs can be made."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ...models import ConsentChallenge
from ..deps import CurrentUser, ServiceDep
from ..errors import problem_responses

router = APIRouter(prefix="/v1/consent", tags=["consent"], responses=problem_responses(401, 422, 429))


class StatementRequest(BaseModel):
    speaker_name: str = Field(min_length=1, max_length=60, description="The speaker's name, as they will say it.")


@router.post("/statements", status_code=201, response_model=ConsentChallenge)
def new_statement(body: StatementRequest, user: CurrentUser, service: ServiceDep) -> ConsentChallenge:
    """A statement with a one-time code: record the speaker reading it and send the recording as
    ``consent_recording`` (with ``consent_challenge``) when creating the voice. Good for one attempt."""
    return service.issue_consent_challenge(user, body.speaker_name)
