"""realvoice: offline voice cloning on a plain CPU.

Public surface: the seed's services, their typed results, the settings and the error tree.
"""

from .config import Settings
from .errors import (
    DuplicateVoiceError,
    EngineError,
    InvalidInputError,
    InvalidSampleError,
    LimitExceededError,
    ModelFileError,
    NotEnoughSamplesError,
    RealVoiceError,
    StorageError,
    VoiceNotFoundError,
)
from .models import CloneResult, SampleReport, SpeechResult, VoiceCharacteristics, VoiceDetail, VoiceSummary
from .service import RealVoiceCloningService
from .tts import TTSService

__version__ = "0.1.0"

__all__ = [
    "CloneResult",
    "DuplicateVoiceError",
    "EngineError",
    "InvalidInputError",
    "InvalidSampleError",
    "LimitExceededError",
    "ModelFileError",
    "NotEnoughSamplesError",
    "RealVoiceCloningService",
    "RealVoiceError",
    "SampleReport",
    "Settings",
    "SpeechResult",
    "StorageError",
    "TTSService",
    "VoiceCharacteristics",
    "VoiceDetail",
    "VoiceNotFoundError",
    "VoiceSummary",
]
