"""OpenAI's speech interface (``POST /v1/audio/speech``), so clients written for it can use a cloned voice.

``voice`` is one of the caller's own voices, by id or by name; ``model`` accepts OpenAI's names and ours
(all speak with the voice's own model). The audio streams by default. Errors here take OpenAI's shape,
``{"error": {"message", "type", "param", "code"}}`` (see ``api/errors.py``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ...controls import SPEED
from ...errors import InvalidInputError, VoiceNotFoundError
from ...service import RealVoiceCloningService
from ..deps import CurrentUser, StateDep
from ..streams import stream_response

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "realvoice", "kokoro")


class OpenAISpeechRequest(BaseModel):
    """The body OpenAI's ``audio.speech.create`` sends."""

    model: str = Field(examples=["tts-1"], description="tts-1, tts-1-hd, gpt-4o-mini-tts, realvoice or kokoro.")
    input: str = Field(min_length=1, max_length=100_000, description="English text to speak.")
    voice: str | dict[str, str] = Field(description="One of your voices: its id or its name.")
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(default=1.0, allow_inf_nan=False, description="Speaking rate, 0.5 to 2.0.")
    instructions: str | None = Field(default=None, description="Accepted and ignored: the voice speaks as cloned.")
    stream_format: Literal["audio", "sse"] = "audio"


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "realvoice"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def resolve_voice(service: RealVoiceCloningService, voice: str | dict[str, str], user_id: str) -> str:
    """A voice id of the user's from an id or a name (the newest voice of that name wins)."""
    wanted = (voice.get("id", "") if isinstance(voice, dict) else voice).strip()
    voices = service.get_user_voices(user_id)  # newest first
    for v in voices:
        if v.voice_id == wanted:
            return v.voice_id
    for v in voices:
        if v.name.casefold() == wanted.casefold():
            return v.voice_id
    names = ", ".join(sorted({v.name for v in voices})) or "none yet"
    raise VoiceNotFoundError(f"no voice {wanted!r} among yours (by id or name); your voices: {names}")


@router.post("/audio/speech", response_class=StreamingResponse)
async def openai_speech(body: OpenAISpeechRequest, user: CurrentUser, state: StateDep) -> StreamingResponse:
    """Speak ``input`` in one of your voices; the audio is sent as it is made (chunked transfer)."""
    if body.model not in MODELS:
        raise InvalidInputError(f"unknown model {body.model!r}; use one of {', '.join(MODELS)}", code="bad_model")
    if body.stream_format != "audio":
        raise InvalidInputError("stream_format 'sse' is not supported; use 'audio'", code="bad_stream_format")
    if not SPEED.contains(body.speed):
        raise InvalidInputError(
            f"speed must be between {SPEED.low} and {SPEED.high}, got {body.speed}", code="bad_speed"
        )
    voice_id = await run_in_threadpool(resolve_voice, state.service, body.voice, user)
    stream = await run_in_threadpool(
        state.service.open_speech_stream, voice_id, body.input, user, format=body.response_format, speed=body.speed
    )
    return await stream_response(state, stream, {"X-Voice-Id": voice_id})


@router.get("/models", response_model=ModelList)
def list_models(user: CurrentUser) -> ModelList:
    """The model names ``/v1/audio/speech`` accepts."""
    return ModelList(data=[ModelCard(id=m) for m in MODELS])
