"""Loaded voice models, least recently used first out, shared by every request thread."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from .engines import VoiceModel


class VoiceModels:
    """At most ``size`` loaded voice models; ``get`` loads a missing one outside the lock (a load reads
    a file, and other requests must not wait on it). A model is kept under its voice id and file name,
    so a refined voice's new file is loaded by every process as soon as its row names it."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._models: OrderedDict[str, VoiceModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, voice_id: str, load: Callable[[], VoiceModel], file: str = "") -> VoiceModel:
        key = f"{voice_id}/{file}"
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
                return model
        model = load()
        with self._lock:
            for older in [k for k in self._models if k.startswith(f"{voice_id}/") and k != key]:
                del self._models[older]  # an earlier version of the voice
            self._models[key] = model
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return model

    def forget(self, voice_id: str) -> None:
        """Drop every loaded version of the voice."""
        with self._lock:
            for key in [k for k in self._models if k.startswith(f"{voice_id}/")]:
                del self._models[key]
