"""What a job is asked to do, stored in its row so that any worker can run it from the job id alone."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter


class UploadedSample(BaseModel):
    """One saved upload: its file name in the job's folder, and the name the client gave it (a label)."""

    file: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,120}$")
    label: str


class RedeemedConsent(BaseModel):
    """The consent recording, and the challenge it answers once redeemed (kept, so a retry can check it)."""

    challenge_id: str
    recording: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,120}$")
    speaker_name: str | None = None
    code: str | None = None


class Queued(BaseModel):
    # "local": this process's threads run it, and its lease says whether that process lives;
    # "broker": the task queue owns it, and hands it to another worker if its worker dies
    queue: Literal["local", "broker"] = "local"


class VoiceBuild(Queued):
    kind: Literal["voice"] = "voice"
    voice_id: str  # chosen when the job is made, so a build that runs twice publishes one voice
    name: str
    description: str = ""
    files: list[UploadedSample]
    allow_duplicate: bool = False
    consent: RedeemedConsent | None = None


class SpeechRender(Queued):
    kind: Literal["speech"] = "speech"
    voice_id: str
    text: str
    format: str
    effects: Any = None
    background_music: bool | str = False
    speed: float = 1.0
    pitch_semitones: float = 0.0
    pause_scale: float = 1.0


class VoiceRefine(Queued):
    kind: Literal["refine"] = "refine"
    voice_id: str


JobRequest = Annotated[VoiceBuild | SpeechRender | VoiceRefine, Field(discriminator="kind")]
REQUEST = TypeAdapter(JobRequest)
