"""Request and response bodies that only the API has; the package's own records are reused as they are."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..models import CloneResult

AudioFormat = Literal["wav", "mp3", "ogg", "flac"]
MEDIA_TYPES: dict[str, str] = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "flac": "audio/flac"}
JobStatus = Literal["queued", "running", "done", "failed"]


class JobAccepted(BaseModel):
    """The answer to a voice upload: the build runs on; follow it here."""

    job_id: str
    status: JobStatus = "queued"
    job_url: str
    events_url: str


class Job(BaseModel):
    """A voice build: its state, progress in percent, and the full clone report once it has ended."""

    job_id: str
    kind: str
    status: JobStatus
    progress: float = Field(ge=0, le=100)
    message: str = ""
    voice_id: str | None = None
    result: CloneResult | None = None


class SpeechRequest(BaseModel):
    """Text to speak in a voice, and how to produce it."""

    text: str = Field(min_length=1, max_length=100_000, examples=["Hello from my cloned voice!"])
    format: AudioFormat = "wav"
    effects: list[str] | dict[str, dict[str, float]] | None = Field(
        default=None,
        description="Names (reverb, echo, compression, eq, normalize) or {name: {parameter: value}}.",
        examples=[["eq", "compression", "reverb"]],
    )
    background_music: bool = False
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    pitch_semitones: float = Field(default=0.0, ge=-4.0, le=4.0)


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    engine: str
