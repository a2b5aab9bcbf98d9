"""Content hash of a voice's cleaned samples: the same recordings always give the same hash."""

from __future__ import annotations

import hashlib

import numpy as np


def sample_hash(x: np.ndarray) -> str:
    return hashlib.sha256(np.round(np.asarray(x) * 32767).astype(np.int16).tobytes()).hexdigest()


def content_hash(clips: list[np.ndarray]) -> str:
    """Order-independent hash over the sample hashes."""
    h = hashlib.sha256()
    for digest in sorted(sample_hash(c) for c in clips):
        h.update(bytes.fromhex(digest))
    return h.hexdigest()
