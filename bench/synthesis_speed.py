"""Synthesis speed: the engine's session settings against onnxruntime's defaults, measured in the same run.

Prints a table of real-time factor (synthesis seconds / audio seconds; lower is faster), warm, median of N.
Usage: python bench/synthesis_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from realvoice.engines.kokoro import KokoroEngine

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

    print(f"{'sentence':<16}{'audio s':>9}{'baseline RTF':>14}{'engine RTF':>12}{'speed-up':>10}")
    for label, text in SENTENCES.items():
        ph = engine.phonemize(text)
        base, secs = _rtf(run_baseline, ph, args.repeats)
        ours, _ = _rtf(run_engine, ph, args.repeats)
        print(f"{label:<16}{secs:>9.2f}{base:>14.3f}{ours:>12.3f}{base / ours:>9.2f}x")
    print("baseline: onnxruntime defaults; engine: intra-op = cores, inter-op 1, full graph optimisation")


if __name__ == "__main__":
    main()
