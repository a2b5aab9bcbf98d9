"""Synthesis speed: the engine's session against onnxruntime's defaults and the opt-in static-int8 vocoder
variants (REALVOICE_KOKORO_FAST=c1|rb), all measured in the same run.

Prints real-time factor (synthesis seconds / audio seconds; lower is faster), warm, median of N, and
each variant's log-mel L1 distance to the engine's own output (0 = identical).
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

from realvoice.engines.kokoro import KokoroEngine, adapters, assets, fast

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
    engine = KokoroEngine.load(Path(tempfile.gettempdir()) / "realvoice-bench-cache")
    style = next(iter(engine._stock.values()))
    baseline = ort.InferenceSession(str(engine.model_path), providers=["CPUExecutionProvider"])

    def run_baseline(ph: str) -> np.ndarray:
        toks = engine.tokens(ph)
        return baseline.run(
            None,
            {
                "tokens": np.array([[0, *toks, 0]], np.int64),
                "style": style[len(toks) - 1].reshape(1, -1),
                "speed": np.ones(1, np.float32),
            },
        )[0]

    def run_engine(ph: str) -> np.ndarray:
        return engine.synthesize_phonemes(style, ph)

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 0
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    source = adapters.adapter_model_path(engine.model_path)
    variants = {}
    for name in args.variants:
        path = fast.fast_model_path(source, f"{assets.expected_sha256()}|{adapters.FORMAT}", selection=name)
        variants[name] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def runner(session: ort.InferenceSession):
        def run(ph: str) -> np.ndarray:
            toks = engine.tokens(ph)
            feed = {
                "tokens": np.array([[0, *toks, 0]], np.int64),
                "style": style[len(toks) - 1].reshape(1, -1),
                "speed": np.ones(1, np.float32),
            }
            return session.run(None, feed)[0].reshape(-1)

        return run

    def logmel(y: np.ndarray) -> np.ndarray:
        import librosa

        return np.log(librosa.feature.melspectrogram(y=y, sr=24000, n_fft=1024, hop_length=256, n_mels=80) + 1e-5)

    head = f"{'sentence':<16}{'audio s':>9}{'baseline RTF':>14}{'engine RTF':>12}"
    print(head + "".join(f"{name + ' RTF':>10}{name + ' L1':>8}" for name in variants))
    for label, text in SENTENCES.items():
        ph = engine.phonemize(text)
        base, secs = _rtf(run_baseline, ph, args.repeats)
        ours, _ = _rtf(run_engine, ph, args.repeats)
        row = f"{label:<16}{secs:>9.2f}{base:>14.3f}{ours:>12.3f}"
        ref = logmel(run_engine(ph))
        for session in variants.values():
            rtf, _ = _rtf(runner(session), ph, args.repeats)
            out = logmel(runner(session)(ph))
            n = min(ref.shape[1], out.shape[1])
            row += f"{rtf:>10.3f}{np.abs(ref[:, :n] - out[:, :n]).mean():>8.2f}"
        print(row)
    print("baseline: onnxruntime defaults; engine: intra-op = cores, inter-op 1, full graph optimisation;")
    print("c1 / rb: static-int8 vocoder convolutions (24 / 48 convs), opt-in with REALVOICE_KOKORO_FAST")


if __name__ == "__main__":
    main()
