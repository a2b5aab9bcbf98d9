"""realvoice: offline voice cloning on a plain CPU.

Public surface: the seed's services, their typed results, the settings and the error tree.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

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
from .models import (
    CloneResult,
    RefineResult,
    SampleReport,
    SpeechResult,
    ValidationScore,
    VoiceCharacteristics,
    VoiceDetail,
    VoiceSummary,
)

__version__ = "0.1.0"

# The services load numpy, scipy and the audio stack; they are imported when first named (PEP 562),
# so a command line that only answers --help does not wait for them.
_LAZY = {"RealVoiceCloningService": ".service", "TTSService": ".tts"}
if TYPE_CHECKING:
    from .service import RealVoiceCloningService
    from .tts import TTSService


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # once: later look-ups find it directly
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
    "RefineResult",
    "SampleReport",
    "Settings",
    "SpeechResult",
    "StorageError",
    "TTSService",
    "ValidationScore",
    "VoiceCharacteristics",
    "VoiceDetail",
    "VoiceNotFoundError",
    "VoiceSummary",
]
