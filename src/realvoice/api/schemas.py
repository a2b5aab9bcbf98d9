"""Request and response bodies that only the API has; the package's own records are reused as they are."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from ..controls import PAUSE_SCALE, PITCH_SEMITONES, SPEED, ControlRange
from ..mix.effects import EFFECTS, PRESETS
from ..models import CloneResult, RefineResult, SpeechResult

AudioFormat = Literal["wav", "mp3", "ogg", "flac"]
MEDIA_TYPES: dict[str, str] = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "flac": "audio/flac"}
JobStatus = Literal["queued", "running", "done", "failed"]


class JobAccepted(BaseModel):
    """The answer to a voice upload or a refinement: the work runs on; follow it here."""

    job_id: str
    status: JobStatus = "queued"
    job_url: str
    events_url: str


class Job(BaseModel):
    """A background job (a voice build, a refinement, a long render): its state, progress in percent, and
    its report once it has ended."""

    job_id: str
    kind: str
    status: JobStatus
    progress: float = Field(ge=0, le=100)
    message: str = ""
    # how many times a worker has started it: more than one means a worker stopped and another took over
    attempts: int = Field(default=0, ge=0)
    voice_id: str | None = None
    result: CloneResult | None = None
    speech: SpeechResult | None = None  # a speech job's result; its audio is at ``audio_url`` once done
    audio_url: str | None = None
    refinement: RefineResult | None = None  # a refinement's result: whether the voice improved, before and after


# What the Python API takes too: names, {name: true/false}, {name: amount} (the seed's {"reverb": 0.2})
# or {name: {parameter: value}}; the effect chain checks names and ranges and says what is allowed.
EffectsField: TypeAlias = list[str] | dict[str, bool | float | dict[str, float]] | None
# A bed by name (True: the default bed). Never a path: a request must not name a server file.
MusicChoice = Literal["default", "ambient", "lofi", "corporate"]
MUSIC_HELP = "False, true (the default bed) or a bed's name."
EFFECTS_HELP = (
    f"Presets ({', '.join(PRESETS)}) and effects ({', '.join(EFFECTS)}) by name, "
    "or {name: true, an amount 0-1, or {parameter: value}}."
)


def _control(span: ControlRange, description: str) -> Any:
    return Field(default=span.default, ge=span.low, le=span.high, allow_inf_nan=False, description=description)


class SpeechRequest(BaseModel):
    """Text to speak in a voice, and how to produce it."""

    text: str = Field(
        min_length=1, max_length=100_000, examples=["Hello from my cloned voice!"], description="English text to speak."
    )
    format: AudioFormat = Field(default="wav", description="The file's format.")
    effects: EffectsField = Field(
        default=None,
        description=EFFECTS_HELP,
        examples=[["eq", "compression", "reverb"]],
    )
    background_music: bool | MusicChoice = Field(default=False, description=MUSIC_HELP)
    speed: float = _control(SPEED, "Speaking rate (1 = the voice's own).")
    pitch_semitones: float = _control(PITCH_SEMITONES, "Pitch shift in semitones.")
    pause_scale: float = _control(PAUSE_SCALE, "Pauses between sentences and clauses (1 = natural, 0 = none).")


StreamFormatName = Literal["mp3", "opus", "ogg", "aac", "flac", "wav", "pcm"]


class SpeechStreamRequest(BaseModel):
    """Text to speak as a stream: the audio arrives in chunked transfer as each sentence is made."""

    text: str = Field(
        min_length=1, max_length=100_000, examples=["Hello from my cloned voice!"], description="English text to speak."
    )
    format: StreamFormatName = Field(
        default="mp3", description="pcm is 16-bit signed little-endian mono at 24 kHz, with no header."
    )
    effects: EffectsField = Field(
        default=None,
        description="As for /speech. Reverb and echo tails carry across sentences; compression and "
        "normalize act on each sentence.",
    )
    background_music: bool | MusicChoice = Field(default=False, description=MUSIC_HELP)
    speed: float = _control(SPEED, "Speaking rate (1 = the voice's own).")
    pitch_semitones: float = _control(PITCH_SEMITONES, "Pitch shift in semitones.")
    pause_scale: float = _control(PAUSE_SCALE, "Pauses between sentences and clauses (1 = natural, 0 = none).")


class SpeechJobRequest(BaseModel):
    """A long text (a chapter, a book) rendered in the background into one file you download when done."""

    text: str = Field(min_length=1, max_length=200_000, description="English text to speak, up to a book chapter.")
    format: AudioFormat = Field(default="mp3", description="The file's format.")
    effects: EffectsField = Field(default=None, description="As for /speech.")
    background_music: bool | MusicChoice = Field(default=False, description=MUSIC_HELP)
    speed: float = _control(SPEED, "Speaking rate (1 = the voice's own).")
    pitch_semitones: float = _control(PITCH_SEMITONES, "Pitch shift in semitones.")
    pause_scale: float = _control(PAUSE_SCALE, "Pauses between sentences and clauses (1 = natural, 0 = none).")


class SpeechHistoryItem(BaseModel):
    """One of your recent speech jobs: what was asked, how it went, and where its file is."""

    job_id: str
    status: JobStatus
    progress: float = Field(ge=0, le=100)
    message: str = ""
    created_at: datetime
    voice_id: str
    voice_name: str
    # what was asked: send it again to POST /v1/voices/{voice_id}/speech/jobs to make it anew
    request: SpeechJobRequest
    duration_s: float | None = None
    audio_url: str | None = None  # once it is done
    file_name: str | None = Field(
        default=None, description="A name to save the file under: the voice's name and the text's first words."
    )
    job_url: str = Field(description="DELETE it to forget the render and delete its file.")


class VoiceUpdate(BaseModel):
    """A new name, a new description, or both; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None, min_length=1, max_length=100, examples=["Joe, warm"], description="The new name."
    )
    description: str | None = Field(
        default=None,
        max_length=2000,
        examples=["My voice for the podcast intros."],
        description="The new description; an empty string clears it.",
    )


class Me(BaseModel):
    """Who the key belongs to: the name its user was created with (``realvoice users create NAME``)."""

    user: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    engine: str
    consent_recording_required: bool = False  # a voice needs its speaker reading the consent statement
