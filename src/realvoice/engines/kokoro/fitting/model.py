"""The pieces of the PyTorch Kokoro a fit drives: the text side, the predictor, the decoder's AdaIN layers."""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import torch

MAX_PHONEMES = 508  # the model's 510 positions less the two pads


class TextSide(NamedTuple):
    """A text's encodings, computed once per sample: they do not depend on the style."""

    d_en: torch.Tensor  # the predictor's input (BERT, projected)
    t_en: torch.Tensor  # the decoder's text input
    lengths: torch.Tensor
    mask: torch.Tensor


class Prediction(NamedTuple):
    """The predictor's output for one style: durations (continuous and whole frames), the alignment,
    pitch and energy."""

    dur_cont: torch.Tensor
    dur: torch.Tensor
    aln: torch.Tensor
    F0: torch.Tensor
    N: torch.Tensor


def tokens_of(vocab: dict[str, int], phonemes: str) -> list[int]:
    """The model's token ids for a phoneme string, padded at both ends (unknown symbols dropped)."""
    ids = [vocab[p] for p in phonemes if p in vocab][:MAX_PHONEMES]
    return [0, *ids, 0]


@torch.no_grad()
def text_side(model: Any, tokens: list[int]) -> TextSide:
    ids = torch.tensor([tokens], dtype=torch.long)
    lengths = torch.tensor([ids.shape[1]])
    mask = torch.zeros(1, ids.shape[1], dtype=torch.bool)
    bert = model.bert(ids, attention_mask=(~mask).int())
    d_en = model.bert_encoder(bert).transpose(-1, -2)
    t_en = model.text_encoder(ids, lengths, mask)
    return TextSide(d_en, t_en, lengths, mask)


def predict(model: Any, text: TextSide, s_pros: torch.Tensor, dur: torch.Tensor | None = None) -> Prediction:
    """The predictor with prosody style ``s_pros`` [1, 128]; at its own durations where ``dur`` is None."""
    d = model.predictor.text_encoder(text.d_en, s_pros, text.lengths, text.mask)
    x, _ = model.predictor.lstm(d)
    logits = model.predictor.duration_proj(x)
    dur_cont = torch.sigmoid(logits).sum(-1)[0]  # [T]
    if dur is None:
        dur = torch.round(dur_cont).clamp(min=1).long()
    aln = alignment(dur, d.shape[1])
    en = d.transpose(-1, -2) @ aln
    F0, N = model.predictor.F0Ntrain(en, s_pros)
    return Prediction(dur_cont, dur, aln, F0, N)


def alignment(dur: torch.Tensor, T: int) -> torch.Tensor:
    """The [1, T, frames] one-hot alignment of T tokens to frames for whole-frame durations."""
    idx = torch.repeat_interleave(torch.arange(T), dur)
    aln = torch.zeros(T, idx.shape[0])
    aln[idx, torch.arange(idx.shape[0])] = 1
    return aln[None]


def adain_layers(decoder: torch.nn.Module) -> dict[str, torch.nn.Linear]:
    """The decoder's AdaIN style projections (Linear layers), keyed by module path."""
    return {
        name: mod for name, mod in decoder.named_modules() if name.endswith(".fc") and isinstance(mod, torch.nn.Linear)
    }


def native_bf16() -> bool:
    """Whether this CPU runs bf16 convolutions natively (oneDNN's bf16 path: AVX-512 or AMX).

    Elsewhere (AVX2-only machines) PyTorch emulates them: a decoder convolution's forward and backward
    took many times as long as in fp32 (docs/experiments.md), which turned a one-minute fit into a rough draft.
    """
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


def bf16_decoder(model: Any) -> torch.nn.Module:
    """The decoder with its convolution and linear weights stored in bf16, made once per model.

    Under autocast these layers cast their fp32 weights to bf16 on every call, because frozen weights
    are not in autocast's cast cache; stored in bf16 they give the same output and gradients
    and a fit step is faster (docs/experiments.md).
    """
    decoder = getattr(model, "_bf16_decoder", None)
    if decoder is None:
        decoder = copy.deepcopy(model.decoder)
        for mod in decoder.modules():
            if isinstance(mod, (torch.nn.Conv1d, torch.nn.ConvTranspose1d, torch.nn.Conv2d, torch.nn.Linear)):
                mod.weight.data = mod.weight.data.to(torch.bfloat16)
                if mod.bias is not None:
                    mod.bias.data = mod.bias.data.to(torch.bfloat16)
        for p in decoder.parameters():
            p.requires_grad_(False)
        model._bf16_decoder = decoder
    return decoder
