"""A user's voices: upload recordings to build one, list, read, refine, delete, preview and speak."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ...consent import ConsentRecording
from ...enrollment import check_description, check_voice_name
from ...errors import ConsentError, InvalidInputError, LimitExceededError, NotEnoughSamplesError, VoiceNotFoundError
from ...models import VoiceDetail, VoiceSummary
from ..deps import ApiState, CurrentUser, ServiceDep, StateDep
from ..errors import ApiError, problem_responses, status_for_code
from ..jobs import KIND
from ..schemas import MEDIA_TYPES, JobAccepted, SpeechJobRequest, SpeechRequest, SpeechStreamRequest, VoiceUpdate
from ..streams import stream_response
from ..uploads import Limits, UploadForm, read_upload

T = TypeVar("T")
router = APIRouter(prefix="/v1/voices", tags=["voices"], responses=problem_responses(401, 404, 429))

_TRUE = {"true", "1", "yes", "on"}
CONSENT_FIELD = "consent_recording"
VOICE_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["name", "files"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 100},
                        "description": {"type": "string", "maxLength": 2000},
                        "consent_challenge": {
                            "type": "string",
                            "description": "The challenge_id of POST /v1/consent/statements whose statement "
                            "consent_recording reads.",
                        },
                        "consent_recording": {
                            "type": "string",
                            "format": "binary",
                            "description": "The speaker reading the consent statement aloud (required by "
                            "servers that require consent recordings, the default).",
                        },
                        "consent": {
                            "type": "boolean",
                            "description": "Without a consent recording, where the server allows it: true "
                            "attests that you are the speaker or have the speaker's permission.",
                        },
                        "allow_duplicate": {"type": "boolean", "default": False},
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "Five or more recordings of one speaker (WAV, MP3, M4A, OGG, WebM, FLAC).",
                        },
                    },
                }
            }
        },
    }
}


def _gated(state: ApiState, work: Callable[[], T]) -> T:
    """Run CPU-heavy synthesis in a render slot; a full line is answered 503 with Retry-After."""
    with state.renders.slot():
        return work()


def _consent(form: UploadForm) -> ConsentRecording | None:
    """The consent recording and its challenge, or None where the caller attests consent (consent=true)."""
    recording = form.extra_files.get(CONSENT_FIELD)
    challenge = form.fields.get("consent_challenge", "").strip()
    if recording is not None or challenge:
        if recording is None or not challenge:
            raise InvalidInputError(
                "send both the consent recording (file part 'consent_recording') and the 'consent_challenge' "
                "it answers (from POST /v1/consent/statements)",
                code="consent_incomplete",
            )
        return ConsentRecording(challenge, recording.path)
    if form.fields.get("consent", "").strip().lower() not in _TRUE:
        raise InvalidInputError(
            "a voice needs the speaker's consent: send a recording of the consent statement "
            "(POST /v1/consent/statements), or, where this server allows it, consent=true (you are the speaker, "
            "or have the speaker's permission)",
            code="consent_required",
        )
    return None


def _voice_form(form: UploadForm, min_samples: int) -> tuple[str, str, bool]:
    """The form's name, description and duplicate flag, once the file count is right."""
    name = check_voice_name(form.fields.get("name", ""))
    description = check_description(form.fields.get("description", ""))
    if len(form.files) < min_samples:
        raise NotEnoughSamplesError(
            f"{len(form.files)} file(s) sent; a voice needs at least {min_samples} recordings of the same speaker"
        )
    return name, description, form.fields.get("allow_duplicate", "").strip().lower() in _TRUE


@router.post(
    "",
    status_code=202,
    response_model=JobAccepted,
    openapi_extra=VOICE_FORM,
    responses=problem_responses(413, 415, 422),
)
async def create_voice(request: Request, response: Response, user: CurrentUser, state: StateDep) -> JobAccepted:
    """Upload recordings; the voice is built in the background. Follow the job it answers with."""
    settings = state.service.settings
    limits = Limits(
        max_files=settings.max_samples,
        max_file_bytes=settings.max_upload_bytes,
        max_total_bytes=state.settings.max_voice_upload_bytes,
        extra_file_fields=(CONSENT_FIELD,),
    )
    # the slot (the job's row) comes before the upload, so a user at their limit sends no bytes for nothing
    job_id, lease = state.jobs.reserve(user, KIND, "receiving the recordings")
    try:
        form = await read_upload(request, settings.uploads_dir, limits, state.service.leases)
        try:
            name, description, allow_duplicate = _voice_form(form, settings.min_samples)
            consent = _consent(form)
            if consent is None and settings.require_consent_recording:
                raise ConsentError(
                    "this server needs the speaker's consent recording: get a statement from "
                    "POST /v1/consent/statements, record the speaker reading it, and send it as "
                    "'consent_recording' with its 'consent_challenge'",
                    code="consent_recording_required",
                )
            state.jobs.start_voice(
                job_id, lease, name, description, form, allow_duplicate=allow_duplicate, consent=consent
            )
        except BaseException:
            form.cleanup()
            raise
    except BaseException:
        state.jobs.abandon(job_id, lease)
        raise
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return JobAccepted(job_id=job_id, job_url=f"/v1/jobs/{job_id}", events_url=f"/v1/jobs/{job_id}/events")


@router.get("", response_model=list[VoiceSummary])
def list_voices(user: CurrentUser, service: ServiceDep) -> list[VoiceSummary]:
    """Your voices, each with its score and how it was fitted."""
    return service.get_user_voices(user)


@router.get("/{voice_id}", response_model=VoiceDetail)
def get_voice(voice_id: str, user: CurrentUser, service: ServiceDep) -> VoiceDetail:
    """Score, tier, characteristics, recommendations and every sample's report."""
    return service.get_user_voice(voice_id, user)


@router.patch("/{voice_id}", response_model=VoiceDetail, responses=problem_responses(422))
def update_voice(voice_id: str, body: VoiceUpdate, user: CurrentUser, service: ServiceDep) -> VoiceDetail:
    """Rename the voice or change its description; a field left out stays as it is."""
    return service.update_user_voice(voice_id, user, name=body.name, description=body.description)


@router.delete("/{voice_id}", status_code=204)
def delete_voice(voice_id: str, user: CurrentUser, state: StateDep) -> Response:
    """Delete the voice, its files and its cached preview."""
    if not state.service.delete_user_voice(voice_id, user):
        raise VoiceNotFoundError(f"voice {voice_id!r} not found")
    state.previews.drop(voice_id)
    return Response(status_code=204)


@router.get(
    "/{voice_id}/preview",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "A short sentence in the voice (WAV)."}},
)
def preview_voice(voice_id: str, user: CurrentUser, state: StateDep) -> FileResponse:
    """A short sample sentence in the voice; made once, then served from the cache."""
    state.service.get_user_voice(voice_id, user)  # 404 unless it is this user's voice
    path = _gated(state, lambda: state.previews.get(voice_id, user))
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/{voice_id}/report.png",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}, "description": "Pitch histogram, sample quality, consistency."}},
)
def voice_report(voice_id: str, user: CurrentUser, service: ServiceDep) -> FileResponse:
    """The voice's report as a picture: pitch distribution, each sample's quality, speaker consistency."""
    return FileResponse(service.voice_report_plot(voice_id, user), media_type="image/png")


@router.post(
    "/{voice_id}/speech",
    response_class=FileResponse,
    responses={
        200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "The speech, as a file."},
        **problem_responses(413, 422),
    },
)
async def speak(voice_id: str, body: SpeechRequest, user: CurrentUser, state: StateDep) -> FileResponse:
    """Speak the text in the voice, with optional effects and background music; answers the audio file."""
    service = state.service
    if len(body.text) > service.settings.max_text_chars:
        raise LimitExceededError(
            f"the text has {len(body.text)} characters; the limit is {service.settings.max_text_chars}",
            code="text_too_long",
        )
    folder = Path(tempfile.mkdtemp(prefix="speech-"))
    out = folder / f"speech.{body.format}"
    try:
        result = await run_in_threadpool(
            _gated,
            state,
            lambda: service.render(
                voice_id,
                body.text,
                user,
                output_path=out,
                speed=body.speed,
                pitch_semitones=body.pitch_semitones,
                pause_scale=body.pause_scale,
                background_music=body.background_music,
                effects=body.effects,
            ),
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if not result.success:
        shutil.rmtree(folder, ignore_errors=True)
        code = result.error_code or "speech_failed"
        raise ApiError(status_for_code(code), result.errors[0] if result.errors else "speech failed", code=code)
    return FileResponse(
        out,
        media_type=MEDIA_TYPES[body.format],
        filename=f"speech.{body.format}",
        headers={"X-Duration-Seconds": str(result.duration_s), "X-Real-Time-Factor": str(result.real_time_factor)},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


_STREAM_TYPES = ("audio/mpeg", "audio/ogg", "audio/aac", "audio/flac", "audio/wav", "audio/pcm")


@router.post(
    "/{voice_id}/speech/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {t: {} for t in _STREAM_TYPES}, "description": "The speech, sent as it is made."},
        **problem_responses(413, 422),
    },
)
async def speak_stream(
    voice_id: str, body: SpeechStreamRequest, user: CurrentUser, state: StateDep
) -> StreamingResponse:
    """Speak the text in the voice, sending the audio in chunked transfer as each sentence is ready.

    Every part of the request is checked before the first byte: errors are problem+json, never a cut stream.
    """
    stream = await run_in_threadpool(
        state.service.open_speech_stream,
        voice_id,
        body.text,
        user,
        format=body.format,
        speed=body.speed,
        pitch_semitones=body.pitch_semitones,
        pause_scale=body.pause_scale,
        effects=body.effects,
        background_music=body.background_music,
    )
    return await stream_response(state, stream)


@router.post("/{voice_id}/refine", status_code=202, response_model=JobAccepted, responses=problem_responses(409))
def refine_voice(voice_id: str, response: Response, user: CurrentUser, state: StateDep) -> JobAccepted:
    """Refine the voice in the background: a thorough fit from its recordings (a few minutes), which becomes
    the voice's next version only if it validates better. Follow the job; its result says whether the voice
    improved, with the likeness before and after. One refinement of a voice at a time (409 otherwise)."""
    state.service.get_user_voice(voice_id, user)  # 404 before a job exists
    job_id = state.jobs.start_refine(user, voice_id)
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return JobAccepted(job_id=job_id, job_url=f"/v1/jobs/{job_id}", events_url=f"/v1/jobs/{job_id}/events")


@router.post(
    "/{voice_id}/speech/jobs", status_code=202, response_model=JobAccepted, responses=problem_responses(413, 422)
)
def speak_job(
    voice_id: str, body: SpeechJobRequest, response: Response, user: CurrentUser, state: StateDep
) -> JobAccepted:
    """Render a long text (up to a book chapter) in the background; download it from the job when done."""
    service = state.service
    service.get_user_voice(voice_id, user)  # 404 before a job exists
    job_id = state.jobs.start_speech(user, voice_id, body)
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return JobAccepted(job_id=job_id, job_url=f"/v1/jobs/{job_id}", events_url=f"/v1/jobs/{job_id}/events")
