"""The decoder rewrites compute what the patterns they replace compute (small graphs on onnxruntime)."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from onnx import numpy_helper as nh

from realvoice.engines.kokoro import openvino_runtime, rewrites


def _model(nodes, inputs, inits):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in inputs],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        [nh.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model, **feeds):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)[0]


def _ops(model):
    return [n.op_type for n in model.graph.node]


def test_stft_becomes_a_strided_convolution_with_the_same_spectrum():
    window = np.hanning(20).astype(np.float32)
    model = _model(
        [
            helper.make_node("STFT", ["x", "step", "window", "length"], ["spec"], name="stft", onesided=1),
            helper.make_node("Transpose", ["spec"], ["out"], name="t", perm=[0, 2, 1, 3]),
        ],
        [("x", [1, None, 1])],
        {"step": np.int64(5), "window": window, "length": np.int64(20)},
    )
    x = np.random.default_rng(1).standard_normal((1, 1000, 1)).astype(np.float32)
    before = _run(model, x=x)
    assert rewrites.stft_as_convolution(model) == 1
    assert "STFT" not in _ops(model)
    after = _run(model, x=x)
    assert after.shape == before.shape == (1, 11, 197, 2)
    assert np.abs(after - before).max() < 1e-4 * np.abs(before).max()  # float32 sums in another order


@pytest.mark.parametrize(
    ("cin", "cout", "stride", "pad", "bias"), [(8, 4, 10, 5, True), (6, 3, 6, 3, True), (4, 2, 3, 0, False)]
)
def test_upsampling_becomes_a_subpixel_convolution_with_the_same_output(cin, cout, stride, pad, bias):
    rng = np.random.default_rng(2)
    inits = {"w": rng.standard_normal((cin, cout, 2 * stride)).astype(np.float32)}
    inputs = ["x", "w"]
    if bias:
        inits["b"] = rng.standard_normal(cout).astype(np.float32)
        inputs.append("b")
    node = helper.make_node(
        "ConvTranspose",
        inputs,
        ["out"],
        name="up/ConvTranspose",
        strides=[stride],
        kernel_shape=[2 * stride],
        pads=[pad, pad],
    )
    model = _model([node], [("x", [1, cin, None])], inits)
    x = rng.standard_normal((1, cin, 37)).astype(np.float32)
    before = _run(model, x=x)
    assert rewrites.upsampling_as_convolution(model, "up/") == 1
    assert "ConvTranspose" not in _ops(model)
    after = _run(model, x=x)
    assert after.shape == before.shape == (1, cout, 37 * stride + stride - 2 * pad)
    assert np.abs(after - before).max() < 1e-4


def test_upsampling_with_another_kernel_or_name_is_left_alone():
    w = np.ones((2, 2, 5), np.float32)
    node = helper.make_node(
        "ConvTranspose", ["x", "w"], ["out"], name="up/ConvTranspose", strides=[2], kernel_shape=[5]
    )
    model = _model([node], [("x", [1, 2, None])], {"w": w})
    assert rewrites.upsampling_as_convolution(model, "up/") == 0  # kernel is not twice the stride
    node = helper.make_node("ConvTranspose", ["x", "w"], ["out"], name="other", strides=[2], kernel_shape=[4])
    model = _model([node], [("x", [1, 2, None])], {"w": np.ones((2, 2, 4), np.float32)})
    assert rewrites.upsampling_as_convolution(model, "up/") == 0


def _conv_model(rng, cin=8, cout=16, k=7):
    inits = {
        "w": (rng.standard_normal((cout, cin, k)) * 0.2).astype(np.float32),
        "b": rng.standard_normal(cout).astype(np.float32),
    }
    conv = helper.make_node(
        "Conv", ["x", "w", "b"], ["out"], name="block/conv", kernel_shape=[k], pads=[k // 2, k // 2]
    )
    return _model([conv], [("x", [1, cin, None])], inits)


def test_quantized_conv_inputs_stay_close_to_float_and_keep_a_float_output():
    rng = np.random.default_rng(3)
    model = _conv_model(rng)
    x = rng.uniform(-2.0, 3.0, (1, 8, 500)).astype(np.float32)
    before = _run(model, x=x)
    assert rewrites.quantize_conv_inputs(model, {"nothing": (0.0, 1.0)}) == 0  # no range: left alone
    assert rewrites.quantize_conv_inputs(model, {"x": (-2.0, 3.0)}) == 1
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= set(_ops(model))
    after = _run(model, x=x)
    assert after.dtype == np.float32
    error = np.abs(after - before).max() / np.abs(before).max()
    assert 0 < error < 0.02  # 8-bit steps of 5/255 on the input, 1/127 of each filter's largest weight


def test_convolutions_in_bf16_cast_around_them_and_keep_what_is_asked(tmp_path):
    rng = np.random.default_rng(4)
    model = _conv_model(rng)
    assert rewrites.convolutions_in_bf16(model, keep=lambda name: name == "block/conv") == 0
    x = rng.standard_normal((1, 8, 300)).astype(np.float32)
    before = _run(model, x=x)
    assert rewrites.convolutions_in_bf16(model, keep=lambda name: False) == 1
    assert _ops(model) == ["Cast", "Conv", "Cast"]
    bf16 = {i.name: i for i in model.graph.initializer if i.data_type == onnx.TensorProto.BFLOAT16}
    assert len(bf16) == 2  # weights and bias
    if openvino_runtime.unavailable_reason() is not None:
        pytest.skip(f"no OpenVINO CPU runtime here: {openvino_runtime.unavailable_reason()}")
    import openvino

    onnx.save(model, tmp_path / "conv.onnx")
    compiled = openvino.Core().compile_model(str(tmp_path / "conv.onnx"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    after = np.asarray(compiled({"x": x})[compiled.output(0)])
    error = np.abs(after - before).max() / np.abs(before).max()
    assert 0 < error < 0.02  # bfloat16 keeps 8 bits of mantissa


def _adain_snake(alpha):
    return _model(
        [
            helper.make_node("Add", ["gamma", "one"], ["a"], name="adain/one_plus"),
            helper.make_node("Mul", ["a", "n"], ["an"], name="adain/mul"),
            helper.make_node("Add", ["an", "beta"], ["y"], name="adain/add"),
            helper.make_node("Mul", ["alpha", "y"], ["u"], name="snake/mul"),
            helper.make_node("Sin", ["u"], ["s"], name="snake/sin"),
            helper.make_node("Pow", ["s", "two"], ["s2"], name="snake/pow"),
            helper.make_node("Mul", ["recip", "s2"], ["scaled"], name="snake/recip"),
            helper.make_node("Add", ["y", "scaled"], ["out"], name="snake/add"),
        ],
        [("n", [1, 6, None]), ("gamma", [1, 6, 1]), ("beta", [1, 6, 1])],
        {"one": np.float32(1.0), "alpha": alpha, "recip": (1 / alpha).astype(np.float32), "two": np.float32(2.0)},
    )


def test_adain_and_snake_become_two_passes_with_the_same_values():
    rng = np.random.default_rng(5)
    alpha = rng.uniform(0.3, 12.0, (1, 6, 1)).astype(np.float32)
    model = _adain_snake(alpha)
    feeds = {
        "n": (4 * rng.standard_normal((1, 6, 5000))).astype(np.float32),
        "gamma": rng.standard_normal((1, 6, 1)).astype(np.float32),
        "beta": rng.standard_normal((1, 6, 1)).astype(np.float32),
    }
    before = _run(model, **feeds)
    assert rewrites.snake_in_two_passes(model) == 1
    assert "Sin" not in _ops(model)
    after = _run(model, **feeds)
    # arguments up to ~300 rad: float32 range reduction and the quadratic, 1.7e-5 on sin² at worst
    error = np.abs(after - before) * alpha
    assert error.max() < 1e-4 and error.mean() < 1e-5
    assert rewrites.snake_in_two_passes(model) == 0  # nothing left to rewrite


def test_a_sine_that_is_not_snake_is_left_alone():
    model = _model([helper.make_node("Sin", ["x"], ["out"], name="sin")], [("x", [4])], {})
    assert rewrites.snake_in_two_passes(model) == 0 and _ops(model) == ["Sin"]


def _norm_block(rng, channels=6, k=5):
    """conv -> instance norm (as Kokoro's export writes it) -> AdaIN -> Snake -> conv, and the same
    norm -> AdaIN -> LeakyRelu beside it; both outputs summed."""
    alpha = rng.uniform(0.3, 6.0, (1, channels, 1)).astype(np.float32)
    inits = {
        "w1": (rng.standard_normal((channels, channels, k)) * 0.3).astype(np.float32),
        "w2": (rng.standard_normal((channels, channels, k)) * 0.3).astype(np.float32),
        "axes": np.array([-1], np.int64),
        "eps": np.float32(1e-5),
        "one": np.float32(1.0),
        "two": np.float32(2.0),
        "alpha": alpha,
        "recip": (1 / alpha).astype(np.float32),
        "offset": np.float32(3.0),
    }
    pads = [k // 2, k // 2]
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["h"], name="c1", kernel_shape=[k], pads=pads),
        helper.make_node("Add", ["h", "offset"], ["x0"], name="shifted"),  # a mean far from zero
        helper.make_node("ReduceMean", ["x0", "axes"], ["m"], name="norm/ReduceMean"),
        helper.make_node("Sub", ["x0", "m"], ["d"], name="norm/Sub"),
        helper.make_node("Mul", ["d", "d"], ["d2"], name="norm/Mul_2"),
        helper.make_node("ReduceMean", ["d2", "axes"], ["v"], name="norm/ReduceMean_2"),
        helper.make_node("Add", ["v", "eps"], ["ve"], name="norm/Add_2"),
        helper.make_node("Sqrt", ["ve"], ["s"], name="norm/Sqrt"),
        helper.make_node("Div", ["d", "s"], ["n"], name="norm/Div_1"),
        helper.make_node("Add", ["gamma", "one"], ["a"], name="adain/one_plus"),
        helper.make_node("Mul", ["a", "n"], ["an"], name="adain/mul"),
        helper.make_node("Add", ["an", "beta"], ["y"], name="adain/add"),
        helper.make_node("Mul", ["alpha", "y"], ["u"], name="snake/mul"),
        helper.make_node("Sin", ["u"], ["sn"], name="snake/sin"),
        helper.make_node("Pow", ["sn", "two"], ["s2"], name="snake/pow"),
        helper.make_node("Mul", ["recip", "s2"], ["scaled"], name="snake/recip"),
        helper.make_node("Add", ["y", "scaled"], ["act"], name="snake/add"),
        helper.make_node("Conv", ["act", "w2"], ["c2"], name="c2", kernel_shape=[k], pads=pads),
        helper.make_node("Mul", ["a", "n"], ["an2"], name="adain2/mul"),  # the same norm read twice
        helper.make_node("Add", ["an2", "beta"], ["y2"], name="adain2/add"),
        helper.make_node("LeakyRelu", ["y2"], ["lr"], name="lrelu", alpha=0.2),
        helper.make_node("Add", ["c2", "lr"], ["sum"], name="sum"),
        helper.make_node("Transpose", ["sum"], ["out"], name="t", perm=[0, 2, 1]),  # not lifted: back to 3-D
    ]
    model = _model(nodes, [("x", [1, channels, None]), ("gamma", [1, channels, 1]), ("beta", [1, channels, 1])], inits)
    model.opset_import[0].version = 18  # ReduceMean's axes as an input, as in the export
    feeds = {
        "x": rng.standard_normal((1, channels, 3000)).astype(np.float32),
        "gamma": rng.standard_normal((1, channels, 1)).astype(np.float32),
        "beta": rng.standard_normal((1, channels, 1)).astype(np.float32),
    }
    return model, feeds


def test_instance_norm_becomes_a_per_channel_scale_folded_into_snake_with_the_same_values():
    model, feeds = _norm_block(np.random.default_rng(6))
    before = _run(model, **feeds)
    assert rewrites.instance_norm_as_affine(model) == 1
    assert "Div" not in {n.op_type for n in model.graph.node if n.output[0] == "n"}
    assert rewrites.snake_in_two_passes(model) == 1
    # the Snake's AdaIN reads the conv output itself; the LeakyRelu's still reads the norm
    snake_input = next(n for n in model.graph.node if n.name.endswith("/snake/t0")).input[0]
    assert snake_input == "x0"
    assert any(n.output[0] == "n" for n in model.graph.node)
    after = _run(model, **feeds)
    assert np.abs(after - before).max() < 1e-4 * np.abs(before).max()


def test_a_norm_read_only_by_snakes_is_removed():
    model, feeds = _norm_block(np.random.default_rng(7))
    keep = [n for n in model.graph.node if not n.name.startswith(("adain2/", "lrelu"))]
    for node in keep:
        if node.name == "sum":
            node.input[1] = "c2"
    del model.graph.node[:]
    model.graph.node.extend(keep)
    before = _run(model, **feeds)
    rewrites.instance_norm_as_affine(model)
    rewrites.snake_in_two_passes(model)
    assert not any(n.output[0] == "n" for n in model.graph.node)
    assert np.abs(_run(model, **feeds) - before).max() < 1e-4 * np.abs(before).max()


def test_lifted_to_4d_the_graph_computes_the_same_and_its_convolutions_are_2d(tmp_path):
    model, feeds = _norm_block(np.random.default_rng(8), channels=64)
    before = _run(model, **feeds)
    rewrites.instance_norm_as_affine(model)
    rewrites.snake_in_two_passes(model)
    original = onnx.ModelProto()
    original.CopyFrom(model)
    assert rewrites.lift_to_4d(model) > 0
    weights = {i.name: i for i in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    assert convs and all(len(weights[c.input[1]].dims) == 4 for c in convs)
    assert {n.op_type for n in model.graph.node} >= {"Unsqueeze", "Squeeze"}  # in at x, out before Transpose
    after = _run(model, **feeds)
    assert after.shape == before.shape
    assert np.abs(after - before).max() < 1e-4 * np.abs(before).max()
    if openvino_runtime.unavailable_reason() is not None:
        pytest.skip(f"no OpenVINO CPU runtime here: {openvino_runtime.unavailable_reason()}")
    import openvino

    def reorders(m, name):
        """Layout reorders from one computing node to another (not the way in or out)."""
        onnx.save(m, tmp_path / name)
        compiled = openvino.Core().compile_model(str(tmp_path / name), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        compute = {"Convolution", "Eltwise", "Subgraph", "Reduce", "MVN"}

        def kind(op):
            return op.get_rt_info()["layerType"].astype(str)

        return sum(
            kind(op) == "Reorder"
            and kind(op.input_value(0).get_node()) in compute
            and all(kind(t.get_node()) in compute for t in op.output(0).get_target_inputs())
            for op in compiled.get_runtime_model().get_ordered_ops()
        )

    # what the lift is for: OpenVINO runs the convolutions channel-last but 3-D reductions channel-first,
    # so each norm reordered the signal; on 4-D tensors everything between the convolutions stays put
    assert reorders(model, "lifted.onnx") == 0 < reorders(original, "flat.onnx")
