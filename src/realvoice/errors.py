"""One exception tree. Every error has a stable ``code`` and a sentence a person can act on."""

from __future__ import annotations


class RealVoiceError(Exception):
    """Base of every error this package raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InvalidSampleError(RealVoiceError):
    """An uploaded file cannot be used as a voice sample (unreadable, silent, too short...)."""

    code = "invalid_sample"


class NotEnoughSamplesError(RealVoiceError):
    """Fewer good samples than a voice needs."""

    code = "not_enough_samples"


class LimitExceededError(RealVoiceError):
    """An input is larger or longer than the configured limits allow."""

    code = "limit_exceeded"


class BusyError(RealVoiceError):
    """Too much is running for this user or this server now; try again after ``retry_after_s``."""

    code = "busy"

    def __init__(self, message: str, *, code: str | None = None, retry_after_s: int = 5) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class InvalidInputError(RealVoiceError):
    """A parameter is malformed: an empty name, a bad user id, text with nothing to speak."""

    code = "invalid_input"


class ConsentError(RealVoiceError):
    """The speaker's consent is missing or could not be confirmed (the statement, its code, or the speaker)."""

    code = "consent_failed"


class VoiceNotFoundError(RealVoiceError):
    """No voice with that id belongs to this user (another user's voice reads the same)."""

    code = "voice_not_found"


class DuplicateVoiceError(RealVoiceError):
    """The user already has a voice made from the same recordings."""

    code = "duplicate_voice"


class ModelFileError(RealVoiceError):
    """A voice-model file is corrupt, or comes from an engine or version we cannot load."""

    code = "model_file"


class EngineError(RealVoiceError):
    """The synthesis engine failed or its assets are missing or corrupt."""

    code = "engine"


class StorageError(RealVoiceError):
    """The voice store could not save or remove something; nothing partial is left visible."""

    code = "storage"
