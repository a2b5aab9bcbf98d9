"""A plain metadata tag on every file we write: what made it, from which voice (hashed), and when.

Trivially removable, but it is what a well-behaved tool reads first; the watermark is what survives.
WAV (RIFF INFO), FLAC and Ogg (Vorbis comments) and MP3 (ID3) all carry it through libsndfile.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

GENERATOR = "realvoice"
TITLE = "Synthetic speech (AI-generated voice)"
_COMMENT = re.compile(r"generator=(?P<generator>[^;\s]+); voice=(?P<voice>[^;\s]+); time=(?P<time>\S+)")


@dataclass(frozen=True)
class ProvenanceTag:
    """What a file says about itself: the generator, a hash of the voice id (never the id), the time."""

    generator: str
    voice_hash: str
    created: str

    @classmethod
    def for_voice(cls, voice_id: str) -> ProvenanceTag:
        digest = hashlib.sha256(f"realvoice-voice:{voice_id}".encode()).hexdigest()[:16]
        return cls(GENERATOR, digest, datetime.now(UTC).replace(microsecond=0).isoformat())

    @property
    def comment(self) -> str:
        return f"AI-generated speech; generator={self.generator}; voice={self.voice_hash}; time={self.created}"

    def fields(self) -> dict[str, str]:
        """The tag as libsndfile string fields (title, software, comment, date)."""
        from .. import __version__

        return {
            "title": TITLE,
            "software": f"{self.generator} {__version__}",
            "comment": self.comment,
            "date": self.created,
        }

    @classmethod
    def parse(cls, comment: str) -> ProvenanceTag | None:
        match = _COMMENT.search(comment or "")
        if match is None:
            return None
        return cls(match["generator"], match["voice"], match["time"])


def read_tag(path: str | os.PathLike[str]) -> ProvenanceTag | None:
    """The file's provenance tag, or None when it has none (or cannot be read as tagged audio)."""
    import av

    try:
        with av.open(os.fspath(path)) as container:
            found = dict(container.metadata)
            for stream in container.streams.audio:
                found.update(stream.metadata)
    except (av.FFmpegError, OSError, ValueError):
        return None
    for key, value in found.items():
        if key.lower() == "comment":
            tag = ProvenanceTag.parse(value)
            if tag is not None:
                return tag
    return None
