"""Faster Kokoro-82M synthesis on x86 CPUs: static int8 vocoder convolutions (VNNI).

The shipped model is dynamically quantised: every decoder convolution runs
DynamicQuantizeLinear -> ConvInteger (uint8 x uint8 through a slow im2col GEMM) -> Cast -> Mul.
This module rewrites the 48 convolutions of the vocoder's residual blocks and noise residual
blocks (most of the compute) into QDQ form that onnxruntime fuses into QLinearConv (U8S8, VNNI):
activations uint8 per tensor (min/max over four fixed sentences), weights int8 symmetric per
output channel, bias int32. Everything else (text side, duration/F0 predictor, sine source, iSTFT,
conv_post) is the source graph, so durations are identical.

Opt-in (``REALVOICE_KOKORO_STATIC_INT8=rb`` or ``c1``): faster, but fitted voices lose identity with
it (figures: docs/runtime.md). Built once per machine and cached, keyed by the source model's hash
and the recipe.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from ...audio.io import atomic_path
from ...errors import EngineError
from . import assets
from .graph import GraphIndex, prune_initializers, toposort

RECIPE = "kokoro-qlinearconv-rb/1"  # bump when the recipe changes: it is part of the cache key

# Calibration: four fixed sentences (token ids from the product's en-us phonemiser), each spoken
# with a different stock voice row.  Stored as ids so the build needs no phonemiser.
_CALIB = (
    "81 83 16 53 65 156 102 53 16 44 123 156 39 56 16 48 156 69 53 61 16 82 156 138 55 58 61 16 157 31 64 "
    "83 123 16 81 83 16 54 156 24 68 51 16 46 156 69 92 3 16 72 56 46 16 81 156 86 56 16 102 62 16 123 "
    "156 138 56 68 16 83 65 156 24 16 157 102 56 62 135 16 81 83 16 48 156 76 123 102 61 62 4",
    "58 54 156 51 68 16 123 177 55 156 86 55 44 83 123 16 62 83 16 44 156 25 16 55 156 102 54 53 3 16 156 "
    "86 92 68 3 16 72 56 46 16 83 16 54 156 31 48 16 138 64 16 44 123 156 86 46 16 157 76 56 16 52 135 "
    "123 16 65 156 24 16 50 156 31 55 16 62 83 56 156 25 62 5",
    "102 68 16 102 62 16 62 123 156 63 16 81 72 62 81 83 16 55 52 63 68 156 51 83 55 16 65 102 54 16 44 "
    "51 16 53 54 156 31 68 46 16 48 76 123 16 123 157 86 56 83 64 156 24 131 83 56 68 16 138 56 62 156 "
    "102 54 16 56 156 86 53 61 62 16 61 58 123 156 102 112 6",
    "61 156 86 64 83 56 16 50 156 138 56 46 123 102 46 16 72 56 46 16 48 156 76 123 125 51 16 62 156 63 "
    "16 58 156 51 58 42 54 16 83 62 156 86 56 46 177 46 16 81 83 16 53 156 69 56 61 83 123 62 16 157 76 "
    "56 16 61 156 72 125 83 123 46 157 24 16 156 51 64 56 102 112 4",
)
CALIB_TOKENS = [[int(x) for x in line.split()] for line in _CALIB]

SELECTIONS = {
    # all convolutions of generator.resblocks.* and generator.noise_res.* (48 convs)
    "rb": lambda name: "/generator/resblocks." in name or "/generator/noise_res." in name,
    # every decoder convolution except generator.conv_post (its input/output must stay float)
    "max": lambda name: name.startswith("/decoder/") and "/conv_post/" not in name,
    # only the first (dilated) conv of each residual unit (24 convs; output quantisation is harmless there)
    "c1": lambda name: ("/generator/resblocks." in name or "/generator/noise_res." in name) and "/convs1." in name,
}


# ------------------------------------------------------------------------------------------------
# graph surgery


def _dequantize_convs(model, select):
    """Replace selected DynamicQuantizeLinear -> ConvInteger -> [Add qbias] -> Cast -> Mul chains by a
    float Conv (dequantised weights + float bias), keeping the output tensor name."""
    from onnx import helper
    from onnx import numpy_helper as nh

    g = model.graph
    index = GraphIndex(g)
    init, arr, prod, cons = index.init, index.array, index.producer, index.consumers
    replace, new_inits, chosen = {}, [], []
    drop: set[str] = set()
    for n in g.node:
        if n.op_type != "ConvInteger" or not select(n.name):
            continue
        dq = prod[n.input[0]]
        assert dq.op_type == "DynamicQuantizeLinear", n.name
        wq = arr(n.input[1]).astype(np.float32)
        zp = arr(n.input[3]).astype(np.float32) if len(n.input) > 3 and n.input[3] in init else 0.0
        cur, chain, bias, wscale, out = n, [], None, None, None
        while True:
            (c,) = cons[cur.output[0]]
            chain.append(c)
            other = [y for y in c.input if y != cur.output[0]]
            if c.op_type == "Add":
                p = prod.get(other[0])
                while p is not None:
                    fl = [z for z in p.input if z in init and arr(z).dtype == np.float32 and arr(z).ndim == 1]
                    if p.op_type == "Div" and fl:
                        bias = arr(fl[0])
                        break
                    p = prod.get(p.input[0])
            if c.op_type == "Mul":
                p = prod[other[0]]
                (ws,) = [y for y in p.input if y in init]
                wscale, out = arr(ws), c.output[0]
                break
            cur = c
        W = ((wq - zp) * (wscale.reshape(-1, 1, 1) if np.ndim(wscale) else wscale)).astype(np.float32)
        ins = [dq.input[0], n.name + "_W"]
        new_inits.append(nh.from_array(W, n.name + "_W"))
        if bias is not None:
            new_inits.append(nh.from_array(bias.astype(np.float32), n.name + "_B"))
            ins.append(n.name + "_B")
        conv = helper.make_node("Conv", ins, [out], name=n.name.replace("_quant", ""))
        conv.attribute.extend(n.attribute)
        replace[n.name] = conv
        drop.update(c.name for c in chain)
        chosen.append(conv)
    nodes = [replace.get(n.name, n) for n in g.node if n.name not in drop]
    # prune what no output needs any more (the DynamicQuantizeLinear / bias-quantisation nodes)
    prod2 = {o: i for i, n in enumerate(nodes) for o in n.output}
    keep, stack = set(), [o.name for o in g.output]
    while stack:
        i = prod2.get(stack.pop())
        if i is None or i in keep:
            continue
        keep.add(i)
        stack.extend(x for x in nodes[i].input if x)
    nodes = [n for i, n in enumerate(nodes) if i in keep]
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(new_inits)
    prune_initializers(g)
    return chosen


def _calibrate(model, tensor_names, threads):
    import onnx
    import onnxruntime as ort

    m = onnx.ModelProto()
    m.CopyFrom(model)
    for t in tensor_names:
        m.graph.output.append(onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None))
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    o.log_severity_level = 3
    s = ort.InferenceSession(m.SerializeToString(), o, providers=["CPUExecutionProvider"])
    outs = [x.name for x in s.get_outputs()]
    voices = assets.stock_voices()
    names = sorted(voices)
    ranges: dict[str, list[float]] = {}
    runs = []
    for i, toks in enumerate(CALIB_TOKENS):
        table = voices[names[i % len(names)]].reshape(voices[names[i % len(names)]].shape[0], -1)
        feed = {
            "tokens": np.array([[0, *toks, 0]], np.int64),
            "style": table[len(toks) - 1].reshape(1, -1).astype(np.float32),
            "speed": np.array([1.0], np.float32),
        }
        runs.append(feed)
    for feed in runs:
        for name, v in zip(outs, s.run(None, feed), strict=True):
            if name in tensor_names:
                lo, hi = float(v.min()), float(v.max())
                a = ranges.get(name, [lo, hi])
                ranges[name] = [min(a[0], lo), max(a[1], hi)]
    return ranges


def _qparams(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    sc = max(hi - lo, 1e-8) / 255.0
    return np.float32(sc), np.uint8(np.clip(round(-lo / sc), 0, 255))


def _to_qdq(model, convs, ranges):
    """Wrap each float Conv in Q/DQ (u8 activations in and out, s8 per-channel weights, s32 bias)."""
    from onnx import helper as h
    from onnx import numpy_helper as nh

    g = model.graph
    init = {i.name: i for i in g.initializer}
    wanted = {c.name for c in convs}
    new = []
    for n in [x for x in g.node if x.name in wanted]:  # the graph's own (copied) node messages
        p = n.name + "_qq"
        xin, out = n.input[0], n.output[0]
        sx, zx = _qparams(*ranges[xin])
        so, zo = _qparams(*ranges[out])
        W = nh.to_array(init[n.input[1]]).astype(np.float32)
        b = nh.to_array(init[n.input[2]]).astype(np.float32) if len(n.input) > 2 else np.zeros(W.shape[0], np.float32)
        sw = np.abs(W).reshape(W.shape[0], -1).max(1) / 127.0
        sw = np.maximum(sw, np.abs(b) / (float(sx) * 2.0**30))  # keep the int32 bias in range
        sw = np.maximum(sw, 1e-12).astype(np.float32)
        Wq = np.clip(np.round(W / sw.reshape(-1, 1, 1)), -127, 127).astype(np.int8)
        sb = (sx * sw).astype(np.float32)
        bq = np.round(b / sb).astype(np.int32)
        c = W.shape[0]
        g.initializer.extend(
            [
                nh.from_array(np.array(sx), p + "_xs"),
                nh.from_array(np.array(zx), p + "_xz"),
                nh.from_array(Wq, p + "_wq"),
                nh.from_array(sw, p + "_ws"),
                nh.from_array(np.zeros(c, np.int8), p + "_wz"),
                nh.from_array(bq, p + "_bq"),
                nh.from_array(sb, p + "_bs"),
                nh.from_array(np.zeros(c, np.int32), p + "_bz"),
                nh.from_array(np.array(so), p + "_ys"),
                nh.from_array(np.array(zo), p + "_yz"),
            ]
        )
        new += [
            h.make_node("QuantizeLinear", [xin, p + "_xs", p + "_xz"], [p + "_xq"]),
            h.make_node("DequantizeLinear", [p + "_xq", p + "_xs", p + "_xz"], [p + "_xdq"]),
            h.make_node("DequantizeLinear", [p + "_wq", p + "_ws", p + "_wz"], [p + "_wdq"], axis=0),
            h.make_node("DequantizeLinear", [p + "_bq", p + "_bs", p + "_bz"], [p + "_bdq"], axis=0),
            h.make_node("QuantizeLinear", [p + "_y", p + "_ys", p + "_yz"], [p + "_yq"]),
            h.make_node("DequantizeLinear", [p + "_yq", p + "_ys", p + "_yz"], [out]),
        ]
        del n.input[:]
        n.input.extend([p + "_xdq", p + "_wdq", p + "_bdq"])
        n.output[0] = p + "_y"
    g.node.extend(new)
    prune_initializers(g)
    toposort(g)


# ------------------------------------------------------------------------------------------------
# build + cache


_build_lock = threading.Lock()


def model_path(source: Path, key: str, *, threads: int = 0, selection: str = "rb") -> Path:
    """Build (once) the static-int8 vocoder variant of ``source`` next to it; return its path.

    ``key`` identifies the source's content (its hash and any rewrite already applied); it and the
    recipe name the file, which is written to a temp file and renamed: never half-written.
    """
    import onnx

    if selection not in SELECTIONS:
        raise EngineError(
            f"unknown static-int8 variant {selection!r}; choose from {', '.join(SELECTIONS)}",
            code="bad_static_int8_variant",
        )
    digest = hashlib.sha256(f"{key}|{RECIPE}|{selection}".encode()).hexdigest()[:16]
    out = Path(source).parent / f"kokoro-static-int8-{selection}-{digest}.onnx"
    if out.exists():
        return out
    with _build_lock:
        if out.exists():
            return out
        model = onnx.load(str(source))
        convs = _dequantize_convs(model, SELECTIONS[selection])
        names = sorted({n.input[0] for n in convs} | {n.output[0] for n in convs})
        ranges = _calibrate(model, names, threads or os.cpu_count() or 1)
        _to_qdq(model, convs, ranges)
        with atomic_path(out) as tmp:
            onnx.save(model, tmp)
    return out
