"""The stock voice a fit starts from."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .model import predict, text_side, tokens_of
from .signals import speech_median_f0, trim_and_normalise


@torch.no_grad()
def choose_start_style(
    model: Any, samples: Sequence[tuple[np.ndarray, str]], voices: Mapping[str, np.ndarray]
) -> tuple[str, np.ndarray]:
    """The stock voice whose *predicted* median F0 (predictor only, cheap) is nearest to the
    recordings' median F0, on a log scale: (name, style row [256])."""
    real = np.median([speech_median_f0(trim_and_normalise(a)) for a, _ in samples[:3]])
    tokens = tokens_of(model.vocab, samples[0][1])
    text = text_side(model, tokens)
    best: tuple[float, str, np.ndarray] | None = None
    for name, table in voices.items():
        row = np.asarray(table)[len(tokens) - 2].reshape(256)
        F0 = predict(model, text, torch.tensor(row[128:])[None]).F0
        f = F0[0].numpy()
        med = float(np.median(f[f > 40])) if (f > 40).any() else 1.0
        d = abs(math.log(max(med, 1.0) / max(real, 1.0)))
        if best is None or d < best[0]:
            best = (d, name, row)
    if best is None:
        raise ValueError("no stock voices to start from")
    return best[1], best[2]
