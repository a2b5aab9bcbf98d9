"""Your speech history: the recent speech jobs, to play again, download, make anew or delete."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import CurrentUser, StateDep
from ..errors import problem_responses
from ..history import history_item
from ..jobs import SPEECH_KIND
from ..schemas import SpeechHistoryItem

router = APIRouter(prefix="/v1/speech", tags=["speech"], responses=problem_responses(401, 429))


@router.get("", response_model=list[SpeechHistoryItem])
def speech_history(user: CurrentUser, state: StateDep) -> list[SpeechHistoryItem]:
    """Your recent speech jobs, newest first (the server keeps the last `speech_history` of them).

    Make one anew by sending its `request` to `POST /v1/voices/{voice_id}/speech/jobs`; forget one, and
    delete its file, with `DELETE` on its `job_url`."""
    service = state.service
    names = {v.voice_id: v.name for v in service.get_user_voices(user)}
    jobs = service.jobs.recent(user, SPEECH_KIND, service.settings.speech_history)
    return [item for job in jobs if (item := history_item(job, names)) is not None]
