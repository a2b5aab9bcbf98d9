"""Kokoro in two halves: the text side on onnxruntime, the decoder on OpenVINO in int8 and bfloat16.

The decoder is over 90 % of synthesis time, nearly all of it convolutions. The shipped graph runs
them as dynamic int8 (DynamicQuantizeLinear -> ConvInteger), which onnxruntime executes well below
what the CPU can do. Here the decoder is rebuilt once per machine for OpenVINO:

- the 48 convolutions of the vocoder's residual blocks take static int8 inputs (ranges calibrated
  on stock voices, with and without offset AdaIN biases) and int8 weights per channel, with float
  outputs; the other convolutions (but the last, whose output is the spectrum) run in bfloat16;
- everything between them (residual sums, instance norms, Snake activations) stays float32: the
  whole decoder in bf16 was faster still, but cost fitted voices 0.02 of identity (CAM++, paired);
- each instance norm + AdaIN + Snake becomes two reductions and two fused element-wise passes (it
  took an instance norm and six), the upsampling transposed convolutions sub-pixel convolutions, and
  the signal runs on [1, C, 1, T] tensors so everything keeps the convolutions' channel-last layout;
  all equal up to float rounding (``rewrites``).

The text side (phonemes -> durations, pitch, energy) and the harmonic source built from the pitch
stay the shipped graph on onnxruntime: a sentence's timing and intonation are exactly those of the
onnxruntime path (in bf16 the source's running phase drifts and every pitch comes out wrong).

The default wherever OpenVINO's CPU device runs. Without bf16 instructions (AVX512-BF16 or AMX) the
bf16 convolutions run in float32 on bf16-rounded values: the same numbers, slower, and still faster
than onnxruntime's int8 graph on an AVX2-only CPU (docs/experiments.md).
Both halves are built beside the source model (atomic, keyed by the source's hash and ``FORMAT``;
about 20 s, once); OpenVINO's compiled decoder is cached there too, so a later process opens it in
well under a second.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ...audio.io import atomic_path
from . import assets, rewrites
from .graph import prune_initializers

FORMAT = "kokoro-openvino/11"  # part of the cache key: bump when the cut or a rewrite changes
ASR = "/encoder/MatMul_1_output_0"  # aligned text features [1, 512, frames]
F0 = "/encoder/Reshape_output_0"  # predicted pitch in Hz, already scaled [1, 2 * frames]
ENERGY = "/encoder/Reshape_1_output_0"  # predicted energy [1, 2 * frames]
DURATIONS = "/encoder/Clip_output_0"  # frames per token, pads included
# The harmonic source's spectrum (magnitude and phase) [1, 22, 120 * frames + 1]. Computed from the
# pitch on this side: in bf16 the running phase of its sines drifts, and every pitch comes out wrong.
HARMONICS = "/decoder/decoder/generator/Concat_3_output_0"
TEXT_INPUTS = ("tokens", "style", "speed", "f0_scale")
VOICE_PREFIX = "decoder."  # the exposed AdaIN biases (see ``adapters``)
CALIBRATION_SPREAD = 0.3  # AdaIN bias offsets for calibration, in units of each layer's mean |bias|

# OpenVINO keeps what it prepared for each input length it meets (5000 by default): a process
# speaking many sentence lengths grew by a gigabyte. 500 keeps the last few lengths (a sentence spoken
# again, or a paragraph's) at the same speed (docs/runtime.md).
KERNEL_CACHE_ENTRIES = 500

_build_lock = threading.Lock()


def unavailable_reason() -> str | None:
    """Why this runtime cannot be the fast default here (None when it can)."""
    try:
        import openvino as ov
    except ImportError:
        return "openvino is not installed"
    try:
        caps = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception as exc:  # no CPU plugin: a broken install
        return f"openvino has no CPU device ({exc})"
    if not {"FP32", "INT8"} <= set(caps):
        return f"openvino's CPU device lacks float32 or int8 kernels (it has {', '.join(caps)})"
    return None


def has_bf16_units() -> bool:
    """Whether the decoder's bf16 convolutions run on bf16 instructions; elsewhere OpenVINO runs them
    in float32 on bf16-rounded inputs and weights, which still beat onnxruntime's int8 graph."""
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def model_paths(source: Path, key: str) -> tuple[Path, Path, Path]:
    """The text side, the rewritten decoder and the decoder's default voice inputs, built from
    ``source`` (the model with its AdaIN biases exposed) once, beside it."""
    digest = hashlib.sha256(f"{key}|{FORMAT}".encode()).hexdigest()[:16]
    folder = Path(source).parent
    paths = (
        folder / f"kokoro-text-{digest}.onnx",
        folder / f"kokoro-decoder-{digest}.onnx",
        folder / f"kokoro-decoder-{digest}.npz",
    )
    if all(p.exists() for p in paths):
        return paths
    with _build_lock:
        if not all(p.exists() for p in paths):
            _build(Path(source), *paths)
    return paths


def _build(source: Path, text_path: Path, decoder_path: Path, defaults_path: Path) -> None:
    import onnx
    from onnx import numpy_helper
    from onnx.utils import Extractor

    from .static_int8 import SELECTIONS, _dequantize_convs

    model = onnx.load(str(source))
    names = [i.name for i in model.graph.input]
    voice_inputs = [n for n in names if n.startswith(VOICE_PREFIX)]
    extractor = Extractor(model)
    text = extractor.extract_model([n for n in TEXT_INPUTS if n in names], [ASR, F0, ENERGY, DURATIONS, HARMONICS])
    decoder = extractor.extract_model([ASR, F0, ENERGY, HARMONICS, "style", *voice_inputs], ["audio"])
    rewrites.stft_as_convolution(text)  # onnxruntime's STFT was 43 % of the text side
    # The cut tensors carry no shape information in the source graph; OpenVINO needs their type and rank.
    ranks = {ASR: 3, F0: 2, ENERGY: 2, HARMONICS: 3}
    for value in decoder.graph.input:
        if value.name in ranks:
            value.CopyFrom(
                onnx.helper.make_tensor_value_info(
                    value.name, onnx.TensorProto.FLOAT, [1] + [None] * (ranks[value.name] - 1)
                )
            )
    # OpenVINO folds an input that also has an initializer into a constant: make the voice inputs
    # plain inputs and keep their stock values aside, to be fed when a voice has no adapter.
    graph = decoder.graph
    defaults = {
        i.name: numpy_helper.to_array(i).astype(np.float32) for i in graph.initializer if i.name in voice_inputs
    }
    kept = [i for i in graph.initializer if i.name not in defaults]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    _dequantize_convs(decoder, lambda name: name.startswith("/decoder/"))
    rewrites.instance_norm_as_affine(decoder)
    rewrites.snake_in_two_passes(decoder)
    rewrites.upsampling_as_convolution(decoder, "/generator/ups")
    quantized = [n for n in decoder.graph.node if n.op_type == "Conv" and SELECTIONS["rb"](n.name)]
    rewrites.quantize_conv_inputs(decoder, _input_ranges(text, decoder, [n.input[0] for n in quantized], defaults))
    rewrites.convolutions_in_bf16(decoder, keep=lambda name: "/conv_post/" in name)  # its output is the spectrum
    rewrites.lift_to_4d(decoder)
    prune_initializers(decoder.graph)
    with atomic_path(defaults_path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **defaults)  # type: ignore[arg-type]  # numpy types the first keyword as allow_pickle
    for part, dest in ((text, text_path), (decoder, decoder_path)):
        with atomic_path(dest) as tmp:
            onnx.save(part, tmp)


def _input_ranges(text: Any, decoder: Any, names: list[str], defaults: dict[str, np.ndarray]) -> dict:
    """Smallest and largest value of each named decoder tensor over the calibration sentences, each
    spoken with a stock voice as it is and with randomly offset AdaIN biases (fitted voices move them)."""
    import onnx
    import onnxruntime as ort

    from .static_int8 import CALIB_TOKENS

    probe = onnx.ModelProto()
    probe.CopyFrom(decoder)
    del probe.graph.output[:]
    probe.graph.output.extend(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in names)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    text_session = ort.InferenceSession(text.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    session = ort.InferenceSession(probe.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    voices = assets.stock_voices()
    rng = np.random.default_rng(0)
    ranges: dict[str, tuple[float, float]] = {}
    for i, tokens in enumerate(CALIB_TOKENS):
        table = voices[sorted(voices)[i % len(voices)]]
        style = table.reshape(table.shape[0], -1)[len(tokens) - 1][None].astype(np.float32)
        asr, f0, energy, _, harmonics = text_session.run(
            None, {"tokens": np.array([[0, *tokens, 0]], np.int64), "style": style, "speed": np.ones(1, np.float32)}
        )
        for spread in (0.0, CALIBRATION_SPREAD):
            voice = {
                k: (v + spread * np.abs(v).mean() * rng.standard_normal(v.shape)).astype(np.float32)
                for k, v in defaults.items()
            }
            feeds = {ASR: asr, F0: f0, ENERGY: energy, HARMONICS: harmonics, "style": style, **voice}
            for name, value in zip(names, session.run(names, feeds), strict=True):
                lo, hi = ranges.get(name, (np.inf, -np.inf))
                ranges[name] = (min(lo, float(value.min())), max(hi, float(value.max())))
    return ranges


class OpenVinoKokoro:
    """``run`` has the onnxruntime session's contract: padded tokens in, [audio, durations] out."""

    def __init__(self, source: Path, key: str, *, threads: int) -> None:
        import onnxruntime as ort
        import openvino as ov

        text_path, decoder_path, defaults_path = model_paths(source, key)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._text = ort.InferenceSession(str(text_path), opts, providers=["CPUExecutionProvider"])
        # an input with a default (the pitch scale) is an overridable initializer, not in get_inputs()
        self._text_inputs = {i.name for i in [*self._text.get_inputs(), *self._text.get_overridable_initializers()]}
        with np.load(defaults_path) as data:
            self.defaults = {k: data[k] for k in data.files}
        core = ov.Core()
        core.set_property({"CACHE_DIR": str(Path(source).parent / "openvino-cache")})
        self._decoder = core.compile_model(
            str(decoder_path),
            "CPU",
            {
                # f32: the graph itself says which convolutions run in int8 or bf16; the rest stays exact
                "INFERENCE_PRECISION_HINT": "f32",
                "INFERENCE_NUM_THREADS": threads,
                "PERFORMANCE_HINT": "LATENCY",
                "CPU_RUNTIME_CACHE_CAPACITY": KERNEL_CACHE_ENTRIES,
            },
        )
        # An infer request is not thread-safe and keeps buffers sized for the longest input it has run, so
        # requests are pooled: as many exist as inferences have run at once, not one per thread that ever
        # asked (the server's thread pool hands each sentence to any of its dozens of threads).
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        text_feeds = {k: v for k, v in feeds.items() if k in self._text_inputs}
        asr, f0, energy, durations, harmonics = self._text.run(None, text_feeds)
        try:
            request = self._idle.get_nowait()
        except queue.Empty:
            request = self._decoder.create_infer_request()
        try:
            voice = {k: np.ascontiguousarray(feeds.get(k, v), np.float32) for k, v in self.defaults.items()}
            result: Any = request.infer(
                {ASR: asr, F0: f0, ENERGY: energy, HARMONICS: harmonics, "style": feeds["style"], **voice}
            )
            audio = np.array(result[self._decoder.output(0)], np.float32, copy=True)  # the request reuses its buffer
        finally:
            self._idle.put(request)
        return [audio, durations]
