"""Files of a voice under one folder per voice; ids are checked before they touch a path."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

from ..errors import InvalidInputError, StorageError

_ID = re.compile(r"^[0-9a-f]{32}$")
# A voice's model file in any version (voice.rvm.npz, voice.v2.rvm.npz…), or a temporary file one was
# being written through (audio.atomic_path: ".voice.v2.rvm.<random>.npz").
MODEL_FILES = re.compile(r"^\.?voice(\.v\d{1,6})?\.rvm(\.[^/]+)?\.npz$")


def new_id() -> str:
    return uuid.uuid4().hex


def check_id(value: str, what: str = "voice id") -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidInputError(f"malformed {what}: expected 32 hex characters")
    return value


class FileBlobStore:
    """Staging folders become a voice's folder by one atomic rename; nothing half-written is ever final."""

    def __init__(self, voices_dir: Path, staging_dir: Path) -> None:
        self.voices_dir = voices_dir
        self.staging_dir = staging_dir
        voices_dir.mkdir(parents=True, exist_ok=True)
        staging_dir.mkdir(parents=True, exist_ok=True)

    def staging(self, voice_id: str) -> Path:
        path = self.staging_dir / check_id(voice_id)
        path.mkdir(parents=True, exist_ok=False)
        return path

    def voice_dir(self, voice_id: str) -> Path:
        return self.voices_dir / check_id(voice_id)

    def publish(self, voice_id: str) -> Path:
        """Move a complete staging folder into place (same filesystem: an atomic rename)."""
        src, dst = self.staging_dir / check_id(voice_id), self.voice_dir(voice_id)
        _fsync_dir(src)
        try:
            os.replace(src, dst)
        except OSError as exc:
            raise StorageError(f"could not store the voice's files: {exc.strerror}") from exc
        _fsync_dir(self.voices_dir)
        return dst

    def discard(self, voice_id: str) -> None:
        for base in (self.staging_dir, self.voices_dir):
            shutil.rmtree(base / check_id(voice_id), ignore_errors=True)

    def orphans(self, known: set[str]) -> list[Path]:
        return [p for p in self.voices_dir.iterdir() if p.name not in known]

    def stray_versions(self, voice_id: str, in_use: str) -> list[Path]:
        """Model files in the voice's folder other than the one its row names: a refinement that died
        before its row named its new file, or after, before it removed the previous one."""
        folder = self.voice_dir(voice_id)
        if not folder.is_dir():
            return []
        return [p for p in folder.iterdir() if p.name != in_use and MODEL_FILES.match(p.name) and p.is_file()]


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
