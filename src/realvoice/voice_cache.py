"""Loaded voice models, least recently used first out, shared by every request thread."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from .engines import VoiceModel


class VoiceModels:
    """At most ``size`` loaded voice models; ``get`` loads a missing one outside the lock (a load reads
    a file, and other requests must not wait on it)."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._models: OrderedDict[str, VoiceModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, voice_id: str, load: Callable[[], VoiceModel]) -> VoiceModel:
        with self._lock:
            model = self._models.get(voice_id)
            if model is not None:
                self._models.move_to_end(voice_id)
                return model
        model = load()
        with self._lock:
            self._models[voice_id] = model
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return model

    def forget(self, voice_id: str) -> None:
        with self._lock:
            self._models.pop(voice_id, None)
