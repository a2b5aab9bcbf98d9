"""One preview WAV per voice, made on first request and reused until the voice is deleted."""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from pathlib import Path

from ..errors import RealVoiceError
from ..service import PREVIEW_TEXT, RealVoiceCloningService
from ..store.blobs import check_id
from .errors import ApiError, status_for_code


class PreviewCache:
    """Files under ``folder``, named by voice id; the caller has checked that the voice is the user's."""

    def __init__(self, service: RealVoiceCloningService, folder: Path, enabled: bool = True) -> None:
        self.service, self.folder, self.enabled = service, folder, enabled
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def path(self, voice_id: str) -> Path:
        return self.folder / f"{check_id(voice_id)}.wav"

    def get(self, voice_id: str, user_id: str) -> Path:
        """The preview file, rendering it once (concurrent requests for one voice wait for one render)."""
        path = self.path(voice_id)
        with self._guard:
            lock = self._locks[voice_id]
        with lock:
            if self.enabled and path.exists():
                return path
            self.folder.mkdir(parents=True, exist_ok=True)
            result = self.service.render(voice_id, PREVIEW_TEXT, user_id, output_path=path)
            if not result.success:
                detail = result.errors[0] if result.errors else "the preview could not be made"
                raise ApiError(status_for_code(result.error_code), detail, code=result.error_code or "preview_failed")
            return path

    def drop(self, voice_id: str) -> None:
        with contextlib.suppress(OSError, RealVoiceError):
            self.path(voice_id).unlink(missing_ok=True)
        with self._guard:
            self._locks.pop(voice_id, None)
