"""Rewrites of Kokoro's graph into operators a CPU runtime runs fast, and its quantisation.

OpenVINO runs ``Sin`` with a single-threaded reference kernel (15 % of the decoder's time) and the
upsampling ``ConvTranspose`` at a fraction of its convolution speed; onnxruntime's ``STFT`` is 43 %
of the text side's time. Each pattern has an equivalent made of convolutions and element-wise
arithmetic, equal up to float rounding:

- AdaIN + Snake's ``sin(a x) ** 2``: two fused passes (see ``snake_in_two_passes``), the sine from a
  quadratic and double-angle steps (largest error 1.7e-5 on sin²).
- Instance norm: a per-channel scale and offset from two reductions, which the passes above fold in.
- The 1-D signal path on [1, C, 1, T] tensors, where OpenVINO keeps one channel-last layout for the
  reductions, element-wise passes and convolutions alike (``lift_to_4d``).
- ``STFT`` of a real signal: a strided convolution with the windowed DFT basis.
- ``ConvTranspose`` whose kernel is twice its stride: a two-tap convolution with ``stride`` times
  the output channels, interleaved back (sub-pixel convolution), then cropped by the padding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .graph import GraphIndex, toposort

# Snake's sine: cos of the doubled argument from a quadratic in (angle / 2**COS_HALVINGS)² and as many
# double-angle steps; with 3, 1.7e-5 worst error on sin² (float32, arguments up to 300 rad).
COS_HALVINGS = 3


def _cos_quadratic(halvings: int = COS_HALVINGS) -> tuple[float, float, float]:
    """``(a, d, e)`` with ``cos(phi) ~ a * (phi² + d)² + e`` for |phi| <= pi / 2**halvings (least squares)."""
    q = np.linspace(0.0, (np.pi / 2**halvings) ** 2, 5001)
    p0, p1, p2 = np.polynomial.polynomial.polyfit(q, np.cos(np.sqrt(q)), 2)
    return float(p2), float(p1 / (2 * p2)), float(p0 - p1**2 / (4 * p2))


class _Graph:
    """One rewrite pass: the graph's index, constants (initializers and Constant nodes), and the new
    nodes and initializers it commits."""

    def __init__(self, graph: Any) -> None:
        self.g = graph
        self.index = GraphIndex(graph)
        self.const_nodes = {n.output[0]: n for n in graph.node if n.op_type == "Constant"}
        self.replace: dict[str, list] = {}
        self.new_init: list = []
        self.new_nodes: list = []

    def consumers(self, name: str) -> list:
        return self.index.consumers.get(name, [])

    def value(self, name: str) -> np.ndarray | None:
        if name in self.index.init:
            return self.index.array(name)
        if name in self.const_nodes:
            from onnx import numpy_helper

            return numpy_helper.to_array(self.const_nodes[name].attribute[0].t)
        return None

    def const(self, name: str, value: Any) -> str:
        from onnx import numpy_helper

        self.new_init.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def commit(self) -> int:
        nodes = []
        for n in self.g.node:
            nodes.extend(self.named(self.replace[n.name]) if n.name and n.name in self.replace else [n])
        del self.g.node[:]
        self.g.node.extend(nodes)
        self.g.initializer.extend(self.new_init)
        return len([v for v in self.replace.values() if v])

    @staticmethod
    def named(nodes: list) -> list:
        for node in nodes:
            node.name = node.name or node.output[0] + "/node"
        return nodes


def instance_norm_as_affine(model: Any) -> int:
    """Rewrite each instance norm over time as exported, ``(x - mean) / sqrt(var + eps)`` (ReduceMean,
    Sub, Mul, ReduceMean, Add, Sqrt, Div), into ``x * r + o`` with per-channel vectors ``r = 1 /
    sqrt(var + eps)`` and ``o = -mean * r``; returns how many.

    OpenVINO fuses the exported form into its ``MVN``, which runs channel-first only: around it the
    channel-last convolutions' outputs and the int8 inputs were reordered, 16 % of the decoder's time.
    Reductions and element-wise passes take any layout, and the per-channel form lets the AdaIN and
    the activation after it fold into one pass over ``x`` (``snake_in_two_passes``). The variance is
    still taken around the mean (a second reduction over ``(x - mean)²``), not as E[x²] - mean²,
    which loses precision where the mean is large."""
    from onnx import helper

    gr = _Graph(model.graph)
    producer = gr.index.producer
    one = gr.const("norm/one", np.float32(1.0))
    two = gr.const("norm/two", np.float32(2.0))
    count = 0
    for div in model.graph.node:
        if div.op_type != "Div" or any(x not in producer for x in div.input):
            continue
        d, s = div.input
        sub, sqrt = producer[d], producer[s]
        if sub.op_type != "Sub" or sqrt.op_type != "Sqrt" or sqrt.input[0] not in producer:
            continue
        add_eps = producer[sqrt.input[0]]
        eps = next((gr.value(x) for x in add_eps.input if gr.value(x) is not None), None)
        var = next((producer.get(x) for x in add_eps.input if gr.value(x) is None), None)
        x, m = sub.input
        mean = producer.get(m)
        if add_eps.op_type != "Add" or eps is None or var is None or var.op_type != "ReduceMean" or mean is None:
            continue
        square = producer.get(var.input[0])
        if mean.op_type != "ReduceMean" or mean.input[0] != x or square is None or square.op_type != "Mul":
            continue
        if (
            list(square.input) != [d, d]
            or _reduce_axes(gr, mean) not in ([-1], [2])
            or _reduce_axes(gr, var) not in ([-1], [2])
        ):
            continue
        if {c.name for c in gr.consumers(d)} != {square.name, div.name} or len(gr.consumers(s)) != 1:
            continue
        p = div.name + "/affine"
        gr.replace[square.name] = [helper.make_node("Pow", [d, two], list(square.output), name=square.name)]
        gr.replace[div.name] = [
            helper.make_node("Div", [one, s], [p + "/r"], name=p + "/r"),
            helper.make_node("Neg", [m], [p + "/neg_mean"], name=p + "/neg_mean"),
            helper.make_node("Mul", [p + "/neg_mean", p + "/r"], [p + "/o"], name=p + "/o"),
            helper.make_node("Mul", [x, p + "/r"], [p + "/xr"], name=p + "/xr"),
            helper.make_node("Add", [p + "/xr", p + "/o"], list(div.output), name=p + "/n"),
        ]
        count += 1
    gr.commit()
    return count


def _affine_norm(gr: _Graph, n: str) -> tuple[str, str, str] | None:
    """``(x, r, o)`` where ``n`` is ``x * r + o`` as ``instance_norm_as_affine`` writes it."""
    add = gr.index.producer.get(n)
    if add is None or not add.name.endswith("/affine/n"):
        return None
    xr = gr.index.producer[add.input[0]]
    return xr.input[0], xr.input[1], add.input[1]


def _reduce_axes(gr: _Graph, node: Any) -> list[int] | None:
    """A ReduceMean's axes (attribute or second input) that keeps its dimensions, else None."""
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if attrs.get("keepdims", 1) != 1:
        return None
    axes = attrs.get("axes")
    if axes is None and len(node.input) > 1:
        value = gr.value(node.input[1])
        axes = None if value is None else value.reshape(-1).tolist()
    return [int(a) for a in axes] if axes is not None else None


def snake_in_two_passes(model: Any, halvings: int = COS_HALVINGS) -> int:
    """Rewrite each AdaIN + Snake (``y = a * n + b``; ``out = y + sin²(alpha * y) / alpha``, ``a`` and
    ``b`` per channel from the style) into two element-wise passes over the signal; returns how many.

    OpenVINO fuses an element-wise chain into one pass only while no step takes a side input from a
    node that already feeds the chain (or from a Split), so a polynomial that reuses its argument
    (Horner's scheme) breaks into a pass per reuse: the AdaIN and Snake took six. Here each step reads
    the running value, constants and per-channel vectors, and the second pass the first one's output:

    1. ``t = (2 alpha a) * n + 2 alpha b`` (``= 2 alpha y``), reduced to ``theta`` in [-pi, pi) with
       ``cos(theta) = -cos(t)`` (``|t mod 2 pi| - pi``); ``c = cos(theta)`` from a quadratic in
       ``(theta / 2**halvings)²`` and ``halvings`` double-angle steps ``c -> 2c² - 1``; then
       ``w = c / (2 alpha)``, so that ``sin²(alpha y) / alpha = w + 1 / (2 alpha)``;
    2. ``out = a * n + (b + 1 / (2 alpha)) + w``, with ``w`` from the first pass.

    The per-channel products (``2 alpha a``, ``2 alpha b``, ``b + 1 / (2 alpha)``) are vectors, not
    signal passes. Where ``n`` is ``x * r + o`` (``instance_norm_as_affine``), both passes read ``x``
    instead, with ``a * r`` for ``a`` and ``a * o + b`` for ``b``."""

    gr = _Graph(model.graph)
    quad_a, quad_d, quad_e = _cos_quadratic(halvings)
    constants = {
        "two_pi": 2 * np.pi, "minus_pi": -np.pi, "step": 2.0**-halvings, "two": 2.0, "minus_one": -1.0,
        "quad_d": quad_d, "quad_a": quad_a, "quad_e": quad_e,
    }  # fmt: skip
    k = {name: gr.const(f"snake/{name}", np.float32(v)) for name, v in constants.items()}
    count = 0
    folded: dict[str, int] = {}  # norm output -> how many Snakes now read its input instead
    for sin in model.graph.node:
        match = _snake_match(gr, sin)
        if match is not None:
            _rewrite_snake(gr, match, k, halvings, folded)
            count += 1
    producer = gr.index.producer
    for n, readers in folded.items():  # a norm every reader of which now reads its input (the export
        if readers == len(gr.consumers(n)):  # shares one norm between parallel residual blocks)
            gr.replace[producer[n].name] = gr.replace[producer[producer[n].input[0]].name] = []
    gr.commit()
    toposort(model.graph)
    return count


@dataclass(frozen=True)
class _Snake:
    """One AdaIN + Snake found in the graph: its nodes, ``alpha``, and the names of ``a``, ``n`` and ``b``."""

    sin: Any
    scale: Any
    power: Any
    recip_mul: Any
    final: Any
    shift: Any
    affine: Any
    alpha: np.ndarray
    a: str
    n: str
    b: str


def _snake_match(gr: _Graph, sin: Any) -> _Snake | None:
    """The AdaIN + Snake around a Sin node, or None where the pattern does not hold exactly."""
    producer = gr.index.producer
    if sin.op_type != "Sin" or sin.input[0] not in producer or len(gr.consumers(sin.output[0])) != 1:
        return None
    scale, (power,) = producer[sin.input[0]], gr.consumers(sin.output[0])
    exponent = gr.value(power.input[1]) if power.op_type == "Pow" else None
    if scale.op_type != "Mul" or exponent is None or float(exponent) != 2.0:
        return None
    alpha_name = next((x for x in scale.input if gr.value(x) is not None), None)
    y = next((x for x in scale.input if x != alpha_name), None)
    users = gr.consumers(power.output[0])
    if alpha_name is None or y is None or y not in producer or len(users) != 1 or users[0].op_type != "Mul":
        return None
    recip_mul = users[0]
    recip = next((gr.value(x) for x in recip_mul.input if x != power.output[0]), None)
    alpha = gr.value(alpha_name)
    finals = gr.consumers(recip_mul.output[0])
    if recip is None or alpha is None or recip.shape != alpha.shape or len(finals) != 1:
        return None
    final, shift = finals[0], producer[y]
    if final.op_type != "Add" or {c.name for c in gr.consumers(y)} != {scale.name, final.name}:
        return None
    if shift.op_type != "Add" or not np.allclose(recip * alpha, 1, rtol=1e-4):
        return None
    affine = next((producer[x] for x in shift.input if x in producer and producer[x].op_type == "Mul"), None)
    if affine is None or len(gr.consumers(affine.output[0])) != 1:
        return None
    if any(gr.value(x) is not None for x in affine.input):
        return None
    # a: the AdaIN's per-channel (1 + gamma), an Add's output; n: the normalised signal
    a = next((x for x in affine.input if x in producer and producer[x].op_type == "Add"), None)
    if a is None:
        return None
    n = next(x for x in affine.input if x != a)
    b = next(x for x in shift.input if x != affine.output[0])
    return _Snake(sin, scale, power, recip_mul, final, shift, affine, alpha, a, n, b)


def _rewrite_snake(gr: _Graph, m: _Snake, k: dict[str, str], halvings: int, folded: dict[str, int]) -> None:
    """Replace one matched AdaIN + Snake with the two passes of ``snake_in_two_passes``."""
    from onnx import helper

    p, nodes = m.scale.name + "/snake", []

    def op(kind: str, inputs: list[str], tag: str, out: str | None = None, **attrs: Any) -> str:
        out = out or f"{p}/{tag}"
        nodes.append(helper.make_node(kind, inputs, [out], name=f"{p}/{tag}", **attrs))
        return out

    a, n, b = m.a, m.n, m.b
    norm = _affine_norm(gr, n)
    if norm is not None:
        # n = x * r + o (instance_norm_as_affine): read x itself, with a * r and a * o + b per channel
        x, r, o = norm
        b = op("Add", [op("Mul", [a, o], "ao"), b], "bo")
        a = op("Mul", [a, r], "ar")
        gr.replace[m.affine.name] = [helper.make_node("Mul", [x, a], list(m.affine.output), name=m.affine.name)]
        folded[n] = folded.get(n, 0) + 1
        n = x
    two_alpha = gr.const(p + "/two_alpha", (2 * m.alpha).astype(np.float32))
    half_recip = gr.const(p + "/half_recip", (0.5 / m.alpha).astype(np.float32))
    t = op("Add", [op("Mul", [n, op("Mul", [a, two_alpha], "a2")], "t0"), op("Mul", [b, two_alpha], "b2")], "t")
    reduced = op("Abs", [op("Mod", [t, k["two_pi"]], "mod", fmod=1)], "abs")  # [0, 2 pi)
    theta = op("Add", [reduced, k["minus_pi"]], "theta")
    q = op("Pow", [op("Mul", [theta, k["step"]], "phi"), k["two"]], "q")
    c = op("Pow", [op("Add", [q, k["quad_d"]], "qd"), k["two"]], "qd2")
    c = op("Add", [op("Mul", [c, k["quad_a"]], "qa"), k["quad_e"]], "cos0")
    for j in range(halvings):
        c2 = op("Mul", [op("Pow", [c, k["two"]], f"c{j}sq"), k["two"]], f"c{j}x2")
        c = op("Add", [c2, k["minus_one"]], f"cos{j + 1}")
    # b + 1/(2 alpha) joins in pass 2, as one per-channel vector: at the end of pass 1 a vector computed
    # from reductions of x ended the pass (and a Split's output, b itself, would end either pass)
    w = op("Mul", [c, half_recip], "w")
    hb = op("Add", [b, half_recip], "hb")
    gr.replace[m.scale.name] = nodes
    gr.replace[m.shift.name] = [
        helper.make_node("Add", [m.affine.output[0], hb], [p + "/y_hb"], name=p + "/y_hb"),
        helper.make_node("Add", [p + "/y_hb", w], list(m.final.output), name=m.shift.name),
    ]
    for done in (m.sin, m.power, m.recip_mul, m.final):
        gr.replace[done.name] = []


def stft_as_convolution(model: Any) -> int:
    """Replace ``STFT`` (real input, one-sided, followed by its [0, 2, 1, 3] transpose) by a strided
    convolution with the windowed DFT basis; returns how many."""
    from onnx import helper

    gr = _Graph(model.graph)
    for n in model.graph.node:
        if n.op_type != "STFT":
            continue
        users = gr.consumers(n.output[0])
        step, window, length = (gr.value(x) for x in n.input[1:4])
        perm: list = []
        if users:
            perm = next((list(helper.get_attribute_value(a)) for a in users[0].attribute if a.name == "perm"), [])
        if len(users) != 1 or users[0].op_type != "Transpose" or list(perm) != [0, 2, 1, 3]:
            continue
        if step is None or window is None or length is None or len(window) != int(length):
            continue
        size, bins = int(length), int(length) // 2 + 1
        t, k = np.arange(size), np.arange(bins)[:, None]
        w = window.astype(np.float64)
        basis = np.concatenate([w * np.cos(2 * np.pi * k * t / size), -w * np.sin(2 * np.pi * k * t / size)])
        # The DC and Nyquist bins of a real signal have no imaginary part, and the model reads their
        # phase as atan2(imag, real): +pi where the real part is negative in training (torch.atan2 of
        # +0), but the export's atan2 says -pi for an imaginary part that is not > 0. onnxruntime's STFT
        # leaves a small positive residue there, which gives +pi. A bias of +1e-20 on those two
        # channels gives +pi everywhere; exact zeros (or sin(pi n) ~ 1e-16 of either sign) flipped them
        # and cost fitted voices 0.09 of identity (CAM++).
        basis[np.abs(basis) < 1e-9] = 0.0
        bias = np.zeros(2 * bins, np.float32)
        bias[[bins, 2 * bins - 1]] = 1e-20
        p = n.name + "/dft"
        gr.replace[n.name] = [
            helper.make_node(
                "Reshape", [n.input[0], gr.const(p + "/as_1d", np.array([1, 1, -1], np.int64))], [p + "/x"]
            ),
            helper.make_node(
                "Conv",
                [p + "/x", gr.const(p + "/basis", basis[:, None, :].astype(np.float32)), gr.const(p + "/bias", bias)],
                [p + "/y"],
                strides=[int(step)],
                kernel_shape=[size],
            ),
            helper.make_node(
                "Reshape", [p + "/y", gr.const(p + "/split", np.array([1, 2, bins, -1], np.int64))], [p + "/r"]
            ),
            helper.make_node("Transpose", [p + "/r"], [users[0].output[0]], perm=[0, 2, 3, 1]),
        ]
        gr.replace[users[0].name] = []
    return gr.commit()


def upsampling_as_convolution(model: Any, name_filter: str = "") -> int:
    """Replace each ``ConvTranspose`` with kernel = 2 x stride (group 1, symmetric padding) whose name
    contains ``name_filter`` by a sub-pixel convolution; returns how many."""
    from onnx import helper

    gr = _Graph(model.graph)
    for n in model.graph.node:
        if n.op_type != "ConvTranspose" or name_filter not in n.name:
            continue
        at = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        weight = gr.value(n.input[1])
        if weight is None or weight.ndim != 3 or at.get("group", 1) != 1 or list(at.get("dilations", [1])) != [1]:
            continue
        stride, kernel = at["strides"][0], at["kernel_shape"][0]
        pads, extra = at.get("pads", [0, 0]), at.get("output_padding", [0])
        if kernel != 2 * stride or pads[0] != pads[1] or extra != [0]:
            continue
        cin, cout, _ = weight.shape
        # output sample q*stride + r gets x[q] * W[..., r] + x[q-1] * W[..., r + stride]
        taps = np.zeros((cout, stride, cin, 2), np.float32)
        for r in range(stride):
            taps[:, r, :, 0] = weight[:, :, r + stride].T
            taps[:, r, :, 1] = weight[:, :, r].T
        p = n.name + "/subpixel"
        nodes = [
            helper.make_node(
                "Conv",
                [n.input[0], gr.const(p + "/W", taps.reshape(cout * stride, cin, 2))],
                [p + "/y"],
                kernel_shape=[2],
                pads=[1, 1],
            ),
            helper.make_node(
                "Reshape", [p + "/y", gr.const(p + "/phases", np.array([1, cout, stride, -1], np.int64))], [p + "/r"]
            ),
            helper.make_node("Transpose", [p + "/r"], [p + "/t"], perm=[0, 1, 3, 2]),
            helper.make_node(
                "Reshape", [p + "/t", gr.const(p + "/interleave", np.array([1, cout, -1], np.int64))], [p + "/f"]
            ),
        ]
        cropped = p + "/c"
        if pads[0]:
            nodes.append(
                helper.make_node(
                    "Slice",
                    [
                        p + "/f",
                        gr.const(p + "/start", np.array([pads[0]], np.int64)),
                        gr.const(p + "/end", np.array([-pads[1]], np.int64)),
                        gr.const(p + "/axis", np.array([2], np.int64)),
                    ],
                    [cropped],
                )
            )
        else:
            cropped = p + "/f"
        bias = gr.value(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        if bias is not None:
            b = gr.const(p + "/b", bias.reshape(1, -1, 1).astype(np.float32))
            nodes.append(helper.make_node("Add", [cropped, b], [n.output[0]]))
        else:
            nodes.append(helper.make_node("Identity", [cropped], [n.output[0]]))
        gr.replace[n.name] = nodes
    return gr.commit()


def quantize_conv_inputs(model: Any, ranges: dict[str, tuple[float, float]]) -> int:
    """Static int8 for the float ``Conv`` nodes whose input is in ``ranges``: Quantize/Dequantize on
    the input (uint8, one scale per tensor, from the calibrated range) and int8 weights with one
    scale per output channel; the output stays float, so the residual sums and normalisations after
    it keep full precision (quantising conv outputs is what cost identity before). Returns how many."""
    from onnx import helper

    gr = _Graph(model.graph)
    count = 0
    for n in model.graph.node:
        weight = gr.value(n.input[1]) if n.op_type == "Conv" and len(n.input) > 1 else None
        if weight is None or weight.dtype != np.float32 or n.input[0] not in ranges:
            continue
        lo, hi = ranges[n.input[0]]
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        x_scale = np.float32(max(hi - lo, 1e-8) / 255.0)
        x_zero = np.uint8(np.clip(round(-lo / float(x_scale)), 0, 255))
        w_scale = np.maximum(np.abs(weight).reshape(weight.shape[0], -1).max(1) / 127.0, 1e-12).astype(np.float32)
        w_int = np.clip(np.round(weight / w_scale.reshape(-1, *[1] * (weight.ndim - 1))), -127, 127).astype(np.int8)
        p = n.name + "/int8"
        xs, xz = gr.const(p + "/x_scale", x_scale), gr.const(p + "/x_zero", x_zero)
        ws, wz = gr.const(p + "/w_scale", w_scale), gr.const(p + "/w_zero", np.zeros(len(w_scale), np.int8))
        wq = gr.const(p + "/w", w_int)
        conv = helper.make_node("Conv", [p + "/x", p + "/w_float", *n.input[2:]], list(n.output), name=n.name)
        conv.attribute.extend(n.attribute)
        gr.replace[n.name] = [
            helper.make_node("QuantizeLinear", [n.input[0], xs, xz], [p + "/xq"], name=p + "/quantize"),
            helper.make_node("DequantizeLinear", [p + "/xq", xs, xz], [p + "/x"], name=p + "/dequantize"),
            helper.make_node("DequantizeLinear", [wq, ws, wz], [p + "/w_float"], name=p + "/weights", axis=0),
            conv,
        ]
        count += 1
    return gr.commit()


def convolutions_in_bf16(model: Any, keep: Callable[[str], bool]) -> int:
    """Cast the input, weights and bias of each float ``Conv`` (but those ``keep`` names) to bfloat16
    and its output back: the convolution runs on the CPU's bf16 units while everything around it
    (residual sums, instance norms, activations) stays float32. Returns how many."""
    from onnx import TensorProto, helper

    gr = _Graph(model.graph)

    def bf16(name: str, array: np.ndarray) -> str:
        bits = np.ascontiguousarray(array, np.float32).view(np.uint32)
        rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)  # round to nearest even
        tensor = TensorProto(name=name, data_type=TensorProto.BFLOAT16, dims=list(array.shape))
        tensor.raw_data = rounded.tobytes()
        gr.new_init.append(tensor)
        return name

    count = 0
    for n in model.graph.node:
        weight = gr.value(n.input[1]) if n.op_type == "Conv" and len(n.input) > 1 else None
        if weight is None or weight.dtype != np.float32 or keep(n.name):
            continue
        bias = gr.value(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        p = n.name + "/bf16"
        inputs = [p + "/x", bf16(p + "/w", weight)] + ([bf16(p + "/b", bias)] if bias is not None else [])
        conv = helper.make_node("Conv", inputs, [p + "/y"], name=n.name)
        conv.attribute.extend(n.attribute)
        gr.replace[n.name] = [
            helper.make_node("Cast", [n.input[0]], [p + "/x"], name=p + "/in", to=TensorProto.BFLOAT16),
            conv,
            helper.make_node("Cast", [p + "/y"], list(n.output), name=p + "/out", to=TensorProto.FLOAT),
        ]
        count += 1
    return gr.commit()


# Ops that work on [1, C, 1, T] as they did on [1, C, T] once their axes, constants and kernels gain
# the new axis, and which of their inputs carry the signal (the rest: axes, scales, biases, splits).
_LIFT_DATA_INPUTS: dict[str, tuple[int, ...] | None] = {
    **dict.fromkeys(("Add", "Sub", "Mul", "Div", "Pow", "Mod", "Concat"), None),  # None: all of them
    **dict.fromkeys(("Abs", "Neg", "Sqrt", "LeakyRelu", "Cast", "QuantizeLinear", "DequantizeLinear"), (0,)),
    **dict.fromkeys(("ReduceMean", "Split"), (0,)),
    "Conv": (0, 1),
}


def lift_to_4d(model: Any) -> int:
    """Run the graph's 1-D signal path ([1, C, T] tensors) on [1, C, 1, T]: 1-D convolutions become
    (1, k) ones, axes move past the new one, constants gain it; returns how many nodes.

    OpenVINO runs its 3-D reductions (and instance norm) channel-first only, but the convolutions
    channel-last, so every normalisation reordered the signal twice (16 % of the decoder's time). On
    4-D tensors the reductions, element-wise passes and convolutions all take the channel-last layout.
    (The [1, C, T, 1] form was tried too: OpenVINO ran its element-wise passes channel-first over a
    last dimension of 1, 18 times slower.) Tensors leave and enter the lifted path by Squeeze and
    Unsqueeze, where an op outside the list reads or writes them."""
    lifter = _Lifter(model)
    for n in model.graph.node:
        if n.name in lifter.region:
            lifter.lift(n)
    gr = lifter.gr
    count = gr.commit()
    model.graph.node.extend(gr.new_nodes)
    del model.graph.value_info[:]
    toposort(model.graph)
    return count


class _Lifter:
    """The region of the graph that can run on [1, C, 1, T], and how each of its nodes is rewritten."""

    def __init__(self, model: Any) -> None:
        import onnx

        self.ranks: dict[str, int] = {}
        inferred = onnx.shape_inference.infer_shapes(model)
        for v in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
            if v.type.tensor_type.HasField("shape"):
                self.ranks[v.name] = len(v.type.tensor_type.shape.dim)
        self.gr = gr = _Graph(model.graph)
        self.constants = {i.name: i for i in model.graph.initializer}
        self.constants.update({name: node.attribute[0].t for name, node in gr.const_nodes.items()})
        self.region = {n.name for n in model.graph.node if self.liftable(n)}
        outputs = {o.name for o in model.graph.output}
        self.inside = {o for n in model.graph.node if n.name in self.region for o in n.output}
        self.entries: dict[str, str] = {}
        self.lifted_consts: dict[str, str] = {}
        self.axis_1 = gr.const("lift/axis", np.array([2], np.int64))
        # lifted tensors that something outside the region reads: written under a 4-D name, squeezed back
        self.escaping = {
            o for o in self.inside if o in outputs or any(c.name not in self.region for c in gr.consumers(o))
        }

    def data_inputs(self, n: Any) -> list[int]:
        chosen = _LIFT_DATA_INPUTS[n.op_type]
        return [i for i in (range(len(n.input)) if chosen is None else chosen) if i < len(n.input) and n.input[i]]

    def liftable(self, n: Any) -> bool:
        ranks, constants = self.ranks, self.constants
        if n.op_type not in _LIFT_DATA_INPUTS or any(ranks.get(o) != 3 for o in n.output):
            return False
        if n.op_type == "Conv" and n.input[1] not in constants and ranks.get(n.input[1]) != 3:
            return False
        if n.op_type == "ReduceMean" and _reduce_axes(self.gr, n) is None:
            return False
        return all(n.input[i] in constants or ranks.get(n.input[i]) in (0, 3) for i in self.data_inputs(n))

    def entry(self, name: str) -> str:
        """A tensor from outside the region, unsqueezed once to 4-D."""
        from onnx import helper

        if name not in self.entries:
            self.entries[name] = name + "/4d"
            unsqueeze = helper.make_node("Unsqueeze", [name, self.axis_1], [name + "/4d"], name=name + "/4d")
            self.gr.new_nodes.append(unsqueeze)
        return self.entries[name]

    def lifted_const(self, name: str) -> str:
        """A constant with the new axis, made once (scalars and anything over 3-D stay as they are)."""
        import onnx

        t = self.constants[name]
        dims = list(t.dims)
        if int(np.prod(dims)) <= 1 or len(dims) > 3:
            return name
        if name not in self.lifted_consts:
            t4 = onnx.TensorProto()
            t4.CopyFrom(t)
            t4.name = name + "/4d"
            dims = [1] * (3 - len(dims)) + dims
            del t4.dims[:]
            t4.dims.extend([*dims[:2], 1, dims[2]])
            self.gr.new_init.append(t4)
            self.lifted_consts[name] = t4.name
        return self.lifted_consts[name]

    def lifted(self, name: str) -> str:
        return name + "/in4d" if name in self.escaping else name

    def lift(self, n: Any) -> None:
        from onnx import helper

        gr = self.gr
        new = helper.make_node(n.op_type, list(n.input), [self.lifted(o) for o in n.output], name=n.name)
        for i in self.data_inputs(n):
            x = n.input[i]
            if x in self.constants:
                new.input[i] = self.lifted_const(x)
            elif self.ranks.get(x) == 3:
                new.input[i] = self.lifted(x) if x in self.inside else self.entry(x)
        new.attribute.extend(_lifted_attributes(n))
        if n.op_type == "ReduceMean" and len(n.input) > 1 and n.input[1] in self.constants:
            axes = _reduce_axes(gr, n) or []
            new.input[1] = gr.const(n.name + "/axes4d", np.array([_lifted_axis(a) for a in axes], np.int64))
        squeezes = [
            helper.make_node("Squeeze", [self.lifted(o), self.axis_1], [o], name=o + "/3d")
            for o in n.output
            if o in self.escaping
        ]
        gr.replace[n.name] = [new, *squeezes]


def _lifted_attributes(n: Any) -> list:
    """``n``'s attributes for [1, C, 1, T]: kernels (1, k), axes past the new one."""
    from onnx import helper

    out = []
    for a in n.attribute:
        v = helper.get_attribute_value(a)
        if n.op_type == "Conv" and a.name in ("kernel_shape", "strides", "dilations"):
            out.append(helper.make_attribute(a.name, [1, *v]))
        elif n.op_type == "Conv" and a.name == "pads":
            out.append(helper.make_attribute(a.name, [0, v[0], 0, v[1]]))
        elif a.name == "axis" and n.op_type in ("Concat", "Split", "QuantizeLinear", "DequantizeLinear"):
            out.append(helper.make_attribute(a.name, _lifted_axis(v)))
        elif a.name == "axes" and n.op_type == "ReduceMean":
            out.append(helper.make_attribute(a.name, [_lifted_axis(x) for x in v]))
        else:
            out.append(a)
    return out


def _lifted_axis(axis: int) -> int:
    """Where a [1, C, T] axis is in [1, C, 1, T]."""
    return 3 if axis % 3 == 2 else axis % 3
