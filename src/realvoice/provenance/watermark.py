"""An inaudible watermark on every output: Resemble AI's Perth implicit watermarker (resemble-perth, MIT).

Perth works at 32 kHz; audio is resampled to it and back by realvoice (soxr), not by perth's librosa call.
Perth's network and weights ship in its wheel. Its audio front end imports two STFT modules from
torchaudio, which has no build for our torch; while perth is imported, ``torchaudio.transforms``
names a stand-in whose ``Spectrogram`` and ``InverseSpectrogram`` are ``torch.stft``/``torch.istft``
with torchaudio's defaults (centred, reflect padding, one-sided, complex output). The stand-in is
removed straight after, so nothing else sees it; tests check the round trip and the detector.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..audio import resample
from ..errors import EngineError

# The decoder's output is a confidence in [0, 1]; chosen from marked and unmarked audio (docs/provenance.md).
THRESHOLD = 0.5
# Below this much audio the decoder has too few frames to say anything.
MIN_SECONDS = 0.5
# The encoder works on anything longer than its STFT window; a short sentence ("Hi.") is still marked.
MIN_MARK_SECONDS = 0.1


@dataclass(frozen=True)
class Detection:
    """Whether a clip carries the watermark, and the detector's confidence (0 none, 1 certain)."""

    watermarked: bool
    confidence: float


def _stft_module():
    import torch

    class Spectrogram(torch.nn.Module):
        def __init__(self, n_fft: int, win_length: int, hop_length: int, window_fn: Callable, **_: object) -> None:
            super().__init__()
            self.n_fft, self.hop_length = n_fft, hop_length
            self.window: torch.Tensor
            self.register_buffer("window", window_fn(win_length))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.stft(
                x,
                self.n_fft,
                self.hop_length,
                window=self.window,
                center=True,
                pad_mode="reflect",
                return_complex=True,
            )

    class InverseSpectrogram(Spectrogram):
        def forward(self, spec: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
            return torch.istft(spec, self.n_fft, self.hop_length, window=self.window, center=True)

    class TimeStretch(torch.nn.Module):  # perth trains with it; only its buffer is in the checkpoint
        def __init__(self, n_freq: int, hop_length: int, **_: object) -> None:
            super().__init__()
            self.register_buffer("phase_advance", torch.linspace(0, math.pi * hop_length, n_freq)[..., None])

    module = types.ModuleType("torchaudio.transforms")
    module.Spectrogram = Spectrogram  # type: ignore[attr-defined]
    module.InverseSpectrogram = InverseSpectrogram  # type: ignore[attr-defined]
    module.TimeStretch = TimeStretch  # type: ignore[attr-defined]
    return module


@contextlib.contextmanager
def _torchaudio_stand_in() -> Iterator[None]:
    if "torchaudio" in sys.modules:  # a real torchaudio (another torch build): use it
        yield
        return
    parent = types.ModuleType("torchaudio")
    parent.transforms = _stft_module()  # type: ignore[attr-defined]
    sys.modules["torchaudio"], sys.modules["torchaudio.transforms"] = parent, parent.transforms
    try:
        yield
    finally:
        del sys.modules["torchaudio"], sys.modules["torchaudio.transforms"]


class Watermarker:
    """Loads Perth once; ``mark`` embeds the watermark, ``detect`` looks for it. Thread-safe."""

    _shared: Watermarker | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        import torch

        try:
            with _torchaudio_stand_in(), contextlib.redirect_stdout(None), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # perth imports pkg_resources, which warns
                from perth.perth_net.perth_net_implicit.perth_watermarker import PerthImplicitWatermarker

                self._perth = PerthImplicitWatermarker(device="cpu")
        except Exception as exc:  # perth's own __init__ hides import errors; ours must not
            raise EngineError(f"the watermark model could not be loaded: {type(exc).__name__}: {exc}") from exc
        self._perth.perth_net.eval()
        self._torch = torch
        self._run_lock = threading.Lock()

    @classmethod
    def load(cls) -> Watermarker:
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def mark(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """``audio`` with the watermark embedded: same rate, same length, float32 in [-1, 1]."""
        x = np.asarray(audio, np.float32)
        if len(x) < int(MIN_MARK_SECONDS * sample_rate):
            return x  # shorter than the encoder's window: nothing to mark
        rate = self._perth.perth_net.hp.sample_rate
        with self._run_lock, self._torch.inference_mode():
            y = np.asarray(self._perth.apply_watermark(resample(x, sample_rate, rate), sample_rate=rate), np.float32)
        y = _fit_length(resample(y, rate, sample_rate), len(x))
        return np.clip(np.nan_to_num(y), -1.0, 1.0)

    def detect(self, audio: np.ndarray, sample_rate: int) -> Detection:
        x = np.asarray(audio, np.float32)
        if len(x) < int(MIN_SECONDS * sample_rate) or not np.any(x):
            return Detection(False, 0.0)
        rate = self._perth.perth_net.hp.sample_rate
        with self._run_lock, self._torch.inference_mode():
            value = float(np.mean(self._perth.get_watermark(resample(x, sample_rate, rate), rate, round=False)))
        return Detection(value >= THRESHOLD, round(value, 4))


def _fit_length(y: np.ndarray, n: int) -> np.ndarray:
    if len(y) >= n:
        return y[:n]
    return np.concatenate([y, np.zeros(n - len(y), np.float32)])
