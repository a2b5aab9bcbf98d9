"""A job's state (a voice build, a refinement, a long render), as one answer or as a stream of
server-sent events until it ends."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ...models import CloneResult, RefineResult, SpeechResult
from ...service import RealVoiceCloningService
from ...store.blobs import check_id
from ..deps import CurrentUser, StateDep
from ..errors import ApiError, problem_responses
from ..history import file_name
from ..schemas import MEDIA_TYPES, Job

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=problem_responses(401, 404, 429))


def read_job(service: RealVoiceCloningService, job_id: str, user_id: str) -> Job:
    """The user's job; another user's job reads exactly as a missing one (404)."""
    job = service.get_job(job_id, user_id)
    stored = job.result
    result = CloneResult.model_validate(stored) if "success" in stored else None
    voice_id = result.voice_id if result else stored.get("voice_id")
    speech = SpeechResult.model_validate(stored["speech"]) if "speech" in stored else None
    refinement = RefineResult.model_validate(stored["refinement"]) if "refinement" in stored else None
    done = job.status == "done" and speech is not None and speech.success
    return Job(
        speech=speech,
        refinement=refinement,
        audio_url=f"/v1/jobs/{job.job_id}/audio" if done else None,
        job_id=job.job_id,
        kind=job.kind,
        status=job.status,
        progress=round(100 * job.progress, 1),
        message=job.message,
        voice_id=voice_id,
        result=result,
        attempts=job.attempts,
    )


@router.get("/{job_id}", response_model=Job)
def get_job(job_id: str, user: CurrentUser, state: StateDep) -> Job:
    """A job's status, progress and, when it has ended, its result (a build's report, a refinement's verdict)."""
    return read_job(state.service, job_id, user)


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`progress` events, then one `done`."}},
)
async def job_events(job_id: str, user: CurrentUser, state: StateDep, request: Request) -> StreamingResponse:
    """Server-sent events: a `progress` event whenever the job changes, then `done` (the whole job) at the end."""
    first = await run_in_threadpool(read_job, state.service, job_id, user)  # 404 before the stream starts
    interval, keepalive = state.settings.sse_interval_s, state.settings.sse_keepalive_s

    async def events() -> AsyncIterator[str]:
        job, last, quiet_since = first, None, time.monotonic()
        yield "retry: 2000\n\n"
        while True:
            if job.status in ("done", "failed"):
                yield _event("done", job.model_dump(mode="json"))
                return
            now = (job.status, job.progress, job.message)
            if now != last:
                last, quiet_since = now, time.monotonic()
                yield _event("progress", job.model_dump(mode="json", exclude={"result"}))
            elif time.monotonic() - quiet_since > keepalive:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(interval)
            if await request.is_disconnected():
                return
            job = await run_in_threadpool(read_job, state.service, job_id, user)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@router.get(
    "/{job_id}/audio",
    response_class=FileResponse,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "The rendered speech."}},
)
def job_audio(job_id: str, user: CurrentUser, state: StateDep) -> FileResponse:
    """The file a finished speech job made."""
    job = read_job(state.service, job_id, user)
    stored = state.service.get_job(job_id, user)
    name = stored.result.get("audio_file")
    if job.kind != "speech" or job.status != "done" or not isinstance(name, str):
        raise ApiError(409, f"job {job_id!r} has no audio (it is a {job.kind} job, {job.status})", code="no_audio")
    path = state.service.settings.renders_dir / check_id(job_id, "job id") / Path(name).name
    if not path.is_file():
        raise ApiError(410, f"the audio of job {job_id!r} is gone (its voice was deleted)", code="audio_gone")
    ext = path.suffix.lstrip(".")
    names = {v.voice_id: v.name for v in state.service.get_user_voices(user)}
    text = str(stored.request.get("text", ""))
    filename = file_name(names.get(job.voice_id or "", ""), text, ext)
    return FileResponse(path, media_type=MEDIA_TYPES.get(ext, "application/octet-stream"), filename=filename)


@router.delete("/{job_id}", status_code=204)
def delete_job(job_id: str, user: CurrentUser, state: StateDep) -> Response:
    """Forget a finished job and delete what it made (a running job cannot be deleted)."""
    job = read_job(state.service, job_id, user)
    if job.status not in ("done", "failed"):
        raise ApiError(409, f"job {job_id!r} is still {job.status}; delete it when it has ended", code="job_running")
    state.service.delete_job(job_id, user)
    return Response(status_code=204)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
