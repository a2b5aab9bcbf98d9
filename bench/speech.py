"""Speech generation speed: real-time factor and first-chunk latency for short, medium and long texts.

The baseline is a stock onnxruntime session (default options) synthesising the same sentences one by
one; the pipeline runs on both of the engine's runtimes (onnxruntime int8, OpenVINO int8 and bf16), all
measured in the same run.
Usage: python bench/speech.py [--long]   (--long adds a 10,000-character text of varied sentences)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from realvoice.engines import VoiceModel
from realvoice.engines.kokoro import KokoroEngine, openvino_runtime
from realvoice.pipeline import prepare_text, stream_speech

PARAGRAPH = (
    "When we started this channel three years ago, we had no idea that so many of you would care about home-made "
    "bread. Since then, we have baked 312 loaves, burned at least 20, and spent $1,450 on flour. Today, on "
    "March 3rd, we finally try the recipe you asked for most. Ready? Let's get started!"
)
TEXTS = {"short": "Thanks for watching, see you soon!", "medium": PARAGRAPH}
# Clauses the long text's sentences are drawn from, one to four each, so its sentences differ in
# length as an article's do (OpenVINO prepares each new input length once, at a cost: a text made of
# one repeated paragraph would only pay it for the paragraph's few lengths).
CLAUSES = (
    "the dough needs at least twelve hours in a cold fridge",
    "we tried three different kinds of flour last month",
    "most of you asked about the temperature of the oven",
    "a good crust comes from steam in the first twenty minutes",
    "my grandmother never measured anything",
    "the starter smelled a little like green apples",
    "we burned two loaves before we got it right",
    "you do not need any special tools for this recipe",
    "the kitchen was warmer than usual that morning",
    "rye behaves very differently from wheat",
    "the whole process takes about two days",
    "salt slows the yeast down a little",
    "a cheap thermometer is worth every cent",
    "the bread keeps for almost a week in a paper bag",
    "the comments on the last video were wonderful",
    "we will come back to this question next week",
)


def long_text(chars: int = 10_000, seed: int = 0) -> str:
    """About ``chars`` characters of narration whose sentences (one to four clauses) vary in length."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    while sum(len(x) + 1 for x in out) < chars:
        picked = [CLAUSES[i] for i in rng.choice(len(CLAUSES), int(rng.integers(1, 5)), replace=False)]
        sentence = ", and ".join(picked) if len(picked) == 2 else ", ".join(picked)
        out.append(sentence[0].upper() + sentence[1:] + rng.choice([".", ".", ".", "!", "?"]))
    return " ".join(out)[:chars].rsplit(" ", 1)[0] + "."


def _baseline(engine: KokoroEngine, style: np.ndarray, text: str) -> tuple[float, float, float]:
    session = _baseline.session  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    first = None
    samples = 0
    for sentence in prepare_text(text, 20_000):
        toks = engine.tokens(engine.phonemize(sentence))[:510]
        out = session.run(
            None,
            {
                "tokens": np.array([[0, *toks, 0]], np.int64),
                "style": style[len(toks) - 1].reshape(1, -1),
                "speed": np.ones(1, np.float32),
            },
        )[0]
        samples += out.size
        first = first or time.perf_counter() - t0
    total = time.perf_counter() - t0
    return total / (samples / 24000), first or total, samples / 24000


def _ours(engine: KokoroEngine, voice: VoiceModel, text: str) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    first = None
    samples = 0
    for chunk in stream_speech(engine, voice, text, max_chars=20_000, split_first=True):
        samples += len(chunk.audio)
        first = first or time.perf_counter() - t0
    total = time.perf_counter() - t0
    return total / (samples / 24000), first or total, samples / 24000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--long", action="store_true", help="also a 10,000-character text (several minutes)")
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "realvoice-bench-cache"
    engines = {"ort": KokoroEngine.load(cache, runtime="onnxruntime")}
    reason = openvino_runtime.unavailable_reason()
    if reason is None:
        engines["ov"] = KokoroEngine.load(cache, runtime="openvino")
    else:
        print(f"OpenVINO runtime skipped: {reason}")
    engine = engines["ort"]
    name, style = next(iter(engine._stock.items()))
    voice = VoiceModel(engine.name, engine.version, "stock", {"style": style})
    _baseline.session = ort.InferenceSession(str(engine.model_path), providers=["CPUExecutionProvider"])  # type: ignore[attr-defined]
    texts = dict(TEXTS)
    if args.long:
        texts["10k chars"] = long_text()
    for e in engines.values():
        e.synthesize(voice, "Warm up.")
    print(
        f"{'text':<10}{'chars':>7}{'audio s':>9}{'base RTF':>10}"
        + "".join(f"{k + ' RTF':>9}" for k in engines)
        + f"{'base 1st s':>11}"
        + "".join(f"{k + ' 1st s':>10}" for k in engines)
    )
    for label, text in texts.items():
        b_rtf, b_first, _ = _baseline(engine, style, text)
        ours = {k: _ours(e, voice, text) for k, e in engines.items()}
        secs = ours["ort"][2]
        print(
            f"{label:<10}{len(text):>7}{secs:>9.1f}{b_rtf:>10.3f}"
            + "".join(f"{r[0]:>9.3f}" for r in ours.values())
            + f"{b_first:>11.2f}"
            + "".join(f"{r[1]:>10.2f}" for r in ours.values())
        )
    print(
        "base: stock onnxruntime session, sentence by sentence; ort / ov: the realvoice pipeline (normalise, split, "
        "short first chunk) on the engine's onnxruntime int8 graph / OpenVINO int8 and bf16 decoder (the default "
        "where the CPU has bf16)"
    )


if __name__ == "__main__":
    main()
