"""Each recording made ready for teacher forcing: its tokens aligned to its frames, its pitch and energy."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ....progress import Progress
from .config import HOP, SR
from .model import TextSide, alignment, bf16_decoder, predict, text_side, tokens_of
from .signals import dtw_durations, real_energy, real_f0, trim_and_normalise

# (tokens, style row [1, 256]) -> (the start voice's audio, its whole-frame durations)
Synthesize = Callable[[list[int], np.ndarray], tuple[np.ndarray, np.ndarray]]
# (the decoder's text input, pitch, energy, audio) of a stretch of a sample
Crop = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class PreparedSample:
    """One recording on Kokoro's grids: 40 Hz duration frames, 80 Hz pitch and energy frames."""

    tokens: list[int]
    audio: np.ndarray  # trimmed, at the start voice's level, padded to whole duration frames
    dur: torch.Tensor  # frames per token, from DTW against the start voice
    f0: torch.Tensor  # Hz at 80 Hz, 0 where unvoiced
    N: torch.Tensor  # energy in the predictor's units at 80 Hz
    text: TextSide
    asr: torch.Tensor  # the decoder's text input spread over the real frames
    pred_frames: int  # the start voice's length in frames
    real_frames: int

    def crop(self, frames: int, rng: np.random.Generator, start: int | None = None) -> Crop:
        """(text input, pitch, energy, audio) of ``frames`` duration frames from ``start`` (random if None)."""
        K = min(frames, self.real_frames)
        a = int(rng.integers(0, self.real_frames - K + 1)) if start is None else start
        return (
            self.asr[..., a : a + K],
            self.f0[None, 2 * a : 2 * (a + K)],
            self.N[None, 2 * a : 2 * (a + K)],
            torch.tensor(self.audio[a * HOP : (a + K) * HOP]),
        )


def prepare_samples(
    model: Any,
    samples: Sequence[tuple[np.ndarray, str]],
    start_style: np.ndarray,
    *,
    progress: Progress | None = None,
    bf16: bool = False,
    synthesize: Synthesize | None = None,
) -> list[PreparedSample]:
    """Trim, synthesise at predicted durations, DTW-align, extract F0 and N; progress runs from 0 to 1.

    ``synthesize`` may supply the start voice's speech from a faster runtime (the ONNX session); its own
    predicted durations then define the token of each synthesised frame.
    """
    s0 = torch.tensor(np.asarray(start_style, np.float32).reshape(1, 256))
    prepared = []
    for k, (audio, phonemes) in enumerate(samples):
        prepared.append(_prepare_one(model, audio, tokens_of(model.vocab, phonemes), s0, bf16, synthesize))
        if progress:
            progress((k + 1) / len(samples), f"prepared sample {k + 1}/{len(samples)}")
    return prepared


def _prepare_one(
    model: Any, audio: np.ndarray, tokens: list[int], s0: torch.Tensor, bf16: bool, synthesize: Synthesize | None
) -> PreparedSample:
    audio = trim_and_normalise(audio)
    text = text_side(model, tokens)
    with torch.no_grad():
        pred = predict(model, text, s0[:, 128:])
        pdur = pred.dur
        if synthesize is not None:
            synth, onnx_dur = synthesize(tokens, s0.numpy())
            if len(onnx_dur) == len(pdur):
                pdur = torch.tensor(onnx_dur)
        else:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                decoder = bf16_decoder(model) if bf16 else model.decoder
                synth = decoder(text.t_en @ pred.aln, pred.F0, pred.N, s0[:, :128])
            synth = synth.float().reshape(-1).numpy()
    # match the recording's level to the model's own output (keeps N in distribution)
    rms_s = np.sqrt(np.mean(synth**2) + 1e-12)
    rms_r = np.sqrt(np.mean(audio**2) + 1e-12)
    audio = (audio * (rms_s / rms_r)).astype(np.float32)
    n_real = int(math.ceil(len(audio) / HOP))
    audio = np.pad(audio, (0, n_real * HOP - len(audio)))
    dur = dtw_durations(audio, synth, pdur.numpy(), n_real)
    f0 = real_f0(audio, 2 * n_real)
    N = real_energy(audio, 2 * n_real)
    # the model's own energy in pauses is higher than the (denoised or not) recording's:
    # clamp from below so the fit does not learn to reproduce the noise floor
    N = np.maximum(N, float(np.percentile(pred.N.numpy(), 2)))
    return PreparedSample(
        tokens=tokens,
        audio=audio,
        dur=torch.tensor(dur),
        f0=torch.tensor(f0),
        N=torch.tensor(N),
        text=text,
        asr=(text.t_en @ alignment(torch.tensor(dur), len(tokens))),
        pred_frames=int(pdur.sum()),
        real_frames=n_real,
    )


def speech_seconds(prepared: Sequence[PreparedSample]) -> float:
    return float(sum(len(p.audio) for p in prepared) / SR)
