"""The engine interface and the versioned voice-model file every engine writes and reads."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..audio import atomic_write
from ..deadline import Deadline
from ..errors import ModelFileError
from ..progress import Progress

# Inline phonemes inside a sentence, ``[word](/phonemes/)``: engines that take phonemes speak them as written.
PHONEME_MARKER = re.compile(r"\[([^\]]{1,64})\]\(/([^/]{1,200})/\)")

MODEL_FORMAT = "realvoice-voice-model"
MODEL_FORMAT_VERSION = 1


@dataclass(frozen=True)
class EnrollSample:
    """A cleaned sample handed to an engine: audio at the engine's rate and its speaker embedding."""

    name: str
    audio: np.ndarray
    sample_rate: int
    embedding: np.ndarray
    transcript: str | None = None


@dataclass(frozen=True)
class VoiceCheck:
    """A voice measured by the engine's validation: how much it sounds like the samples, and how much of
    its validation sentences a recogniser gets wrong."""

    similarity: float
    wer: float


@dataclass
class VoiceModel:
    """What an engine needs to speak in a voice, plus where it came from and how well it validated."""

    engine: str
    engine_version: str
    method: str
    arrays: dict[str, np.ndarray]
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    sample_hashes: list[str] = field(default_factory=list)

    def header(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "engine": self.engine,
            "engine_version": self.engine_version,
            "method": self.method,
            "params": self.params,
            "metrics": self.metrics,
            "sample_hashes": self.sample_hashes,
        }

    def save(self, path: Path) -> Path:
        """Write atomically: temp file in the same folder, fsync, rename."""
        buf = io.BytesIO()
        header = np.frombuffer(json.dumps(self.header()).encode(), dtype=np.uint8)
        np.savez(buf, __header__=header, **self.arrays)  # type: ignore[arg-type]
        return atomic_write(path, lambda tmp: Path(tmp).write_bytes(buf.getvalue()))

    @classmethod
    def load(cls, path: Path, *, engine: str, supported_versions: Sequence[str]) -> VoiceModel:
        """Read a model file, refusing other formats, engines and versions with a clear error."""
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(bytes(data["__header__"]).decode())
                arrays = {k: data[k] for k in data.files if k != "__header__"}
        except FileNotFoundError as exc:
            raise ModelFileError(f"voice model file is missing: {path.name}") from exc
        except Exception as exc:
            raise ModelFileError(f"voice model file {path.name} is corrupt or not a voice model") from exc
        if header.get("format") != MODEL_FORMAT or header.get("format_version") != MODEL_FORMAT_VERSION:
            raise ModelFileError(
                f"{path.name} is format {header.get('format')!r} v{header.get('format_version')}; "
                f"this version reads {MODEL_FORMAT!r} v{MODEL_FORMAT_VERSION}"
            )
        if header.get("engine") != engine or header.get("engine_version") not in supported_versions:
            raise ModelFileError(
                f"{path.name} was made by engine {header.get('engine')!r} {header.get('engine_version')!r}; "
                f"this installation runs {engine!r} {', '.join(supported_versions)}"
            )
        return cls(
            engine=header["engine"],
            engine_version=header["engine_version"],
            method=header.get("method", ""),
            arrays=arrays,
            params=header.get("params", {}),
            metrics=header.get("metrics", {}),
            sample_hashes=header.get("sample_hashes", []),
        )


class Engine(Protocol):
    """Enroll samples into a voice model; speak a sentence with one."""

    name: str
    version: str
    sample_rate: int

    def enroll(
        self,
        samples: Sequence[EnrollSample],
        *,
        progress: Progress | None = None,
        mode: str | None = None,
        deadline: Deadline | None = None,
    ) -> VoiceModel:
        """Build a voice model; ``deadline`` bounds a fast mode's fit."""
        ...

    def synthesize(
        self, voice: VoiceModel, sentence: str, *, speed: float = 1.0, pitch_semitones: float = 0.0
    ) -> np.ndarray: ...

    def load_voice(self, path: Path) -> VoiceModel: ...

    def validate(self, voice: VoiceModel, samples: Sequence[EnrollSample]) -> VoiceCheck:
        """Measure ``voice`` as a build's validation does, against ``samples``: two voices measured in one
        run can be compared (a refinement keeps the better)."""
        ...
