"""Per-voice AdaIN adapters: offsets to the decoder's style-projection biases.

The style vector cannot reach every voice, so a fitted voice may also move the biases of the 58
AdaIN projections in the decoder (37,396 values; the AdaSpeech idea). The ONNX model is shared by
all voices, so those biases are exposed once as optional graph inputs (an initializer that is
also a graph input is an overridable default in ONNX); a voice feeds ``stock bias + its offset``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ...audio.io import atomic_path
from ...errors import ModelFileError
from .assets import expected_sha256

PREFIX = "decoder.decoder."  # ONNX initializer names keep the export wrapper's module path
FORMAT = "voice-inputs/3"
F0_OUTPUT = "/encoder/F0_proj/Conv_output_0"  # the prosody predictor's F0 curve (Hz), before the decoder
F0_SCALE = "f0_scale"
DURATIONS = "/encoder/Clip_output_0"  # predicted frames per token (after rounding, at least 1)


def bias_name(layer: str) -> str:
    """ONNX initializer name of a decoder AdaIN layer's bias (``encode.norm1.fc`` → full name)."""
    return f"{PREFIX}{layer}.bias"


def is_adain_bias(name: str) -> bool:
    return name.startswith(PREFIX) and name.endswith(".fc.bias")


def adapter_model_path(source: Path) -> Path:
    """The source model, beside it, with the AdaIN biases and a pitch scale exposed as inputs and the
    durations as an output; built once, cached, atomic."""
    digest = hashlib.sha256(f"{FORMAT}|{expected_sha256()}".encode()).hexdigest()[:16]
    dest = source.parent / f"{source.stem}.adain-{digest}.onnx"
    if dest.exists():
        return dest
    import onnx
    import onnx.numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    inputs = {i.name for i in graph.input}
    for init in graph.initializer:
        if is_adain_bias(init.name) and init.name not in inputs:
            graph.input.append(onnx.helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    # A per-voice pitch scale on the predicted F0 curve: the decoder then sings the scaled pitch
    # through its own source, so formants stay where they are (unlike shifting the audio).
    scaled = F0_OUTPUT + "_scaled"
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name == F0_OUTPUT:
                node.input[k] = scaled
    graph.node.append(onnx.helper.make_node("Mul", [F0_OUTPUT, F0_SCALE], [scaled], name="voice_f0_scale"))
    graph.initializer.append(onnx.numpy_helper.from_array(np.ones(1, np.float32), F0_SCALE))
    graph.input.append(onnx.helper.make_tensor_value_info(F0_SCALE, onnx.TensorProto.FLOAT, [1]))
    # The predicted durations as a second output: enrollment aligns recordings against them.
    graph.output.append(onnx.helper.make_tensor_value_info(DURATIONS, onnx.TensorProto.FLOAT, None))
    with atomic_path(dest) as tmp:
        onnx.save(model, str(tmp))
    return dest


def stock_biases(path: Path) -> dict[str, np.ndarray]:
    """The model's own AdaIN biases, keyed by ONNX name."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path), load_external_data=False)
    return {
        i.name: numpy_helper.to_array(i).astype(np.float32) for i in model.graph.initializer if is_adain_bias(i.name)
    }


def feeds(adapter: dict[str, np.ndarray], stock: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Session inputs for a voice's adapter: the stock bias plus the voice's offset, per layer."""
    out = {}
    for layer, delta in adapter.items():
        name = bias_name(layer)
        if name not in stock or stock[name].shape != delta.shape:
            raise ModelFileError(f"the voice's adapter layer {layer!r} does not match this model")
        out[name] = stock[name] + delta.astype(np.float32)
    return out
