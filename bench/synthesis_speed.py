"""Synthesis speed of the engine's runtimes, all measured in the same run on the same sentences:
onnxruntime's defaults on the shipped int8 model (baseline), the engine on onnxruntime (the int8
graph, tuned session), the engine on OpenVINO (int8 and bf16 decoder; the default wherever OpenVINO runs),
and the opt-in static-int8 variants (REALVOICE_KOKORO_STATIC_INT8=c1|rb).

Prints real-time factor (synthesis seconds / audio seconds; lower is faster), warm, median of N, and
each runtime's log-mel L1 distance to the onnxruntime engine's output (0 = identical; the decoder
turns rounding differences in silent stretches into different noise, so two correct runtimes
differ by a few tenths).
Usage: python bench/synthesis_speed.py [--repeats 3] [--variants c1 rb]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from realvoice.engines.kokoro import KokoroEngine, adapters, assets, openvino_runtime, static_int8

SENTENCES = {
    "short (~2 s)": "Thanks for watching, see you soon.",
    "medium (~5 s)": "Today I want to show you how I plan a whole week of videos in one single afternoon.",
    "long (~12 s)": (
        "When we started this channel three years ago, we had no idea that so many of you would care about "
        "home-made bread, but here we are, with a brand new oven and a lot more flour than we need."
    ),
}


def _rtf(run, phonemes: str, repeats: int) -> tuple[float, float]:
    run(phonemes)  # warm-up
    times, seconds = [], 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        audio = run(phonemes)
        times.append(time.perf_counter() - t)
        seconds = len(audio) / 24000
    return statistics.median(times) / seconds, seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--variants", nargs="*", default=["c1", "rb"])
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "realvoice-bench-cache"
    reference = KokoroEngine.load(cache, runtime="onnxruntime")
    engines = {"onnxruntime": reference}
    ov_reason = openvino_runtime.unavailable_reason()
    if ov_reason is None:
        engines["openvino"] = KokoroEngine.load(cache, runtime="openvino")
    else:
        print(f"OpenVINO runtime skipped: {ov_reason}")
    style = next(iter(reference._stock.values()))
    baseline = ort.InferenceSession(str(reference.model_path), providers=["CPUExecutionProvider"])

    def feed(ph: str) -> dict[str, np.ndarray]:
        toks = reference.tokens(ph)
        return {
            "tokens": np.array([[0, *toks, 0]], np.int64),
            "style": style[len(toks) - 1].reshape(1, -1),
            "speed": np.ones(1, np.float32),
        }

    runs = {"defaults": lambda ph: baseline.run(None, feed(ph))[0].reshape(-1)}
    for name, engine in engines.items():
        runs[name] = lambda ph, engine=engine: engine.synthesize_phonemes(style, ph)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 0
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    source = adapters.adapter_model_path(reference.model_path)
    for name in args.variants:
        path = static_int8.model_path(source, f"{assets.expected_sha256()}|{adapters.FORMAT}", selection=name)
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        runs[name] = lambda ph, session=session: session.run(None, feed(ph))[0].reshape(-1)

    def logmel(y: np.ndarray) -> np.ndarray:
        import librosa

        return np.log(librosa.feature.melspectrogram(y=y, sr=24000, n_fft=1024, hop_length=256, n_mels=80) + 1e-5)

    print(f"{'sentence':<16}{'audio s':>9}" + "".join(f"{name + ' RTF':>17}{'L1':>6}" for name in runs))
    totals: dict[str, list[float]] = {name: [] for name in runs}
    for label, text in SENTENCES.items():
        ph = reference.phonemize(text)
        ref = logmel(runs["onnxruntime"](ph))
        row, secs = "", 0.0
        for name, run in runs.items():
            rtf, secs = _rtf(run, ph, args.repeats)
            totals[name].append(rtf)
            out = logmel(run(ph))
            n = min(ref.shape[1], out.shape[1])
            row += f"{rtf:>17.3f}{np.abs(ref[:, :n] - out[:, :n]).mean():>6.2f}"
        print(f"{label:<16}{secs:>9.2f}" + row)
    base = statistics.mean(totals["defaults"])
    print(
        "mean RTF, and speed-up over the baseline: "
        + ", ".join(f"{name} {statistics.mean(v):.3f} ({base / statistics.mean(v):.2f}x)" for name, v in totals.items())
    )
    print("defaults: onnxruntime's default session on the shipped int8 model (baseline); onnxruntime / openvino:")
    print("the engine on each runtime; c1 / rb: static-int8 vocoder convolutions")
    print("(opt-in with REALVOICE_KOKORO_STATIC_INT8)")


if __name__ == "__main__":
    main()
