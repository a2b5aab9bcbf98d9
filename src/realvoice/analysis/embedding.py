"""Speaker embeddings with Resemblyzer's GE2E encoder (its weights ship in the wheel)."""

from __future__ import annotations

import threading

import numpy as np

from ..audio import resample


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


class SpeakerEncoder:
    """Loads the encoder once; ``embed`` gives a unit 256-d vector per clip."""

    _shared: SpeakerEncoder | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        import warnings

        import torch

        with warnings.catch_warnings():  # webrtcvad, imported by resemblyzer, warns about pkg_resources
            warnings.simplefilter("ignore")
            from resemblyzer import VoiceEncoder

        torch.set_num_threads(max(1, torch.get_num_threads()))
        self._encoder = VoiceEncoder(device="cpu", verbose=False)
        self._encoder.requires_grad_(False)  # never trained here; the fit's loss differentiates through it
        self._run_lock = threading.Lock()

    @classmethod
    def load(cls) -> SpeakerEncoder:
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    @property
    def module(self):  # the torch module; torch is imported lazily
        """The torch encoder itself (frozen), for losses that need gradients through it."""
        return self._encoder

    def embed(self, x: np.ndarray, sr: int) -> np.ndarray:
        from resemblyzer import preprocess_wav

        y = preprocess_wav(resample(x, sr, 16000), source_sr=16000)
        if len(y) < 16000 * 0.5:  # the encoder's VAD trimmed nearly everything: fall back to the raw clip
            y = resample(x, sr, 16000)
        with self._run_lock:
            e = self._encoder.embed_utterance(y.astype(np.float32))
        return (e / (np.linalg.norm(e) + 1e-9)).astype(np.float32)

    def embed_many(self, clips: list[tuple[np.ndarray, int]]) -> np.ndarray:
        """One voice vector for several clips: the normalised mean of their embeddings."""
        embs = np.stack([self.embed(x, sr) for x, sr in clips])
        mean = embs.mean(axis=0)
        return (mean / (np.linalg.norm(mean) + 1e-9)).astype(np.float32)
