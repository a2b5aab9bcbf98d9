"""Naturalness for the benchmarks: Distill-MOS (distillmos 0.9.1, MIT; its weights ship in the wheel).

A speech-quality MOS predictor (1-5) distilled from XLS-R. The product does not use it anywhere (not
in validation, not in the fit), so it can judge what the product optimises without being gamed.

distillmos imports torchaudio at module level, but only its command-line file reader uses it, and
torchaudio has no build for our torch. While distillmos is imported, ``torchaudio`` names a module
that fails loudly if anything touches it; it is removed again straight after, so nothing else sees it.
Audio is decoded and resampled to 16 kHz by realvoice itself.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Callable, Iterator

import numpy as np

from realvoice.audio import resample

RATE = 16000


class _Absent(types.ModuleType):
    def __getattr__(self, name: str):
        raise ImportError(f"torchaudio.{name}: torchaudio is not installed (distillmos' command line needs it)")


@contextlib.contextmanager
def _placeholder(name: str) -> Iterator[None]:
    if name in sys.modules:
        yield
        return
    sys.modules[name] = _Absent(name)
    try:
        yield
    finally:
        del sys.modules[name]


def load() -> Callable[[np.ndarray, int], float] | None:
    """``mos(audio, sample_rate)``, or None where distillmos is not installed (make bench-deps)."""
    try:
        import torch

        with _placeholder("torchaudio"), contextlib.redirect_stdout(None):
            from distillmos import ConvTransformerSQAModel

            model = ConvTransformerSQAModel().eval()
    except ImportError:
        return None

    def mos(audio: np.ndarray, sample_rate: int) -> float:
        x = resample(np.asarray(audio, np.float32), sample_rate, RATE)
        with torch.inference_mode():
            return float(model(torch.from_numpy(x)[None]).reshape(-1)[0])

    return mos
