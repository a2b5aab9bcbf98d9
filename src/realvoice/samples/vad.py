"""Voice activity detection with Silero VAD (its ONNX model ships in the wheel)."""

from __future__ import annotations

import threading

import numpy as np

from ..audio import resample

_lock = threading.Lock()
_model = None


def _load():
    global _model
    with _lock:
        if _model is None:
            from silero_vad import load_silero_vad

            _model = load_silero_vad(onnx=True)
    return _model


def speech_segments(x: np.ndarray, sr: int, *, threshold: float = 0.5) -> list[tuple[float, float]]:
    """Return (start_s, end_s) of speech regions."""
    import torch
    from silero_vad import get_speech_timestamps

    y = resample(x, sr, 16000)
    if len(y) < 16000 * 0.1:
        return []
    model = _load()
    with _lock:  # the ONNX wrapper keeps recurrent state: one caller at a time
        model.reset_states()
        stamps = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(y)),
            model,
            sampling_rate=16000,
            threshold=threshold,
            min_speech_duration_ms=120,
            min_silence_duration_ms=150,
            speech_pad_ms=30,
        )
    return [(s["start"] / 16000.0, s["end"] / 16000.0) for s in stamps]


def speech_mask(n: int, sr: int, segments: list[tuple[float, float]]) -> np.ndarray:
    mask = np.zeros(n, bool)
    for a, b in segments:
        mask[int(a * sr) : int(b * sr)] = True
    return mask
