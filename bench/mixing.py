"""Mixing: is the produced voice still intelligible over the music, and how long does mixing take?

For each effects preset and music bed, prints the word error rate of the bundled Whisper (tiny.en) on the final
mix next to the dry voice's (the baseline, measured in the same run), the speech-to-music loudness ratio while
the voice speaks, the mix's loudness and true peak, and mixing time per minute of audio next to plain
gain-only loudness normalisation (the old mastering step).
The voice is the Piper "joe" voice reading about a minute of text.
Usage: python bench/mixing.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from realvoice.analysis.transcribe import transcribe, word_error_rate
from realvoice.audio import loudness_lufs, normalize_loudness
from realvoice.demo import DEMO_PARAGRAPH, DEMO_SENTENCES, make_piper_samples
from realvoice.mix import BEDS, apply_effects, load_music, mix_music, true_peak_dbtp

SENTENCES = (
    *DEMO_SENTENCES,
    *(s.strip() + "." for s in DEMO_PARAGRAPH.replace("?", ".").replace("!", ".").split(".") if s.strip()),
    "The weather tomorrow looks bright, with a gentle breeze from the west and a high of twenty degrees.",
    "Remember to subscribe, and tell me in the comments which recipe you want to see next week.",
)

# name -> (effects, music, mix options)
CONFIGS: dict[str, tuple[Any, str | None, dict[str, float]]] = {
    "podcast": ("podcast", None, {}),
    "radio": ("radio", None, {}),
    "cinematic": ("cinematic", None, {}),
    "phone": ("phone", None, {}),
    **{f"podcast + {bed}": ("podcast", bed, {}) for bed in BEDS},
    "podcast + corporate, no duck": ("podcast", "corporate", {"duck_db": 0.0}),
    "podcast + corporate, bed -6 LU": ("podcast", "corporate", {"music_db": -6.0}),
}


def _voice(folder: Path) -> tuple[np.ndarray, int, str]:
    paths = make_piper_samples(folder, SENTENCES)
    parts = [sf.read(p, dtype="float32") for p in paths]
    return np.concatenate([a for a, _ in parts]), parts[0][1], " ".join(SENTENCES)


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return result, statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        voice, sr, reference = _voice(Path(tmp) / "piper")
        cache = Path(tmp) / "beds"
        minutes = len(voice) / sr / 60
        t = time.perf_counter()
        for bed in BEDS:
            load_music(bed, sr, cache_dir=cache)
        print(
            f"voice: Piper 'joe', {len(voice) / sr:.1f} s at {sr} Hz; beds composed in {time.perf_counter() - t:.1f} s"
        )

        _, base_s = _timed(lambda: normalize_loudness(voice, sr, -16.0), args.repeats)
        dry_wer = word_error_rate(reference, transcribe(voice, sr))
        header = f"{'configuration':<32}{'WER':>6}{'ΔWER':>7}{'speech/music LU':>17}{'LUFS':>7}{'dBTP':>7}{'s/min':>7}"
        print(header + f"{'× baseline':>12}")
        print(f"{'dry voice (baseline)':<32}{dry_wer:>6.1%}{'':>7}{'-':>17}{loudness_lufs(voice, sr):>7.1f}"
              f"{true_peak_dbtp(voice, sr):>7.1f}{base_s / minutes:>7.2f}{'1.00':>12}")  # fmt: skip
        for name, (effects, music, options) in CONFIGS.items():

            def produce(effects=effects, music=music, options=options):
                wet = apply_effects(voice, sr, effects)
                return mix_music(wet, sr, music, cache_dir=cache, **options) if music else wet

            out, secs = _timed(produce, args.repeats)
            audio = out.audio if music else out
            ratio = "-"
            if music:
                ratio = f"{loudness_lufs(out.voice[out.speech], sr) - loudness_lufs(out.music[out.speech], sr):.1f}"
            wer = word_error_rate(reference, transcribe(audio, sr))
            print(f"{name:<32}{wer:>6.1%}{(wer - dry_wer) * 100:>+6.1f}p{ratio:>17}{loudness_lufs(audio, sr):>7.1f}"
                  f"{true_peak_dbtp(audio, sr):>7.1f}{secs / minutes:>7.2f}{secs / base_s:>11.1f}x")  # fmt: skip
    print("WER: Whisper tiny.en on the output vs the script; ΔWER in points vs the dry voice. s/min: mixing seconds")
    print("per minute of audio (median); baseline: gain-only loudness normalisation (pyloudnorm) of the dry voice.")


if __name__ == "__main__":
    main()
