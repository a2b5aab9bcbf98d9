"""Clone quality on ../shared/speech-dev through the product's own path (intake, Whisper transcripts, fit).

For each speaker: enroll 5 utterances, speak 3 other sentences, and score them against the speaker's
real held-out recordings with two speaker encoders, neither of them the fitting objective (log-mel
distance): Resemblyzer (which the product's validation also uses) and CAM++ (bench/campplus.py,
independent of both): identity = (sim(clone, spk) - sim(others, spk)) / (sim(spk, spk) - sim(others, spk));
speaker-ID top-1 among all dev speakers; WER with Whisper tiny.en; tone (how far the clone's
octave-smoothed long-term spectrum is from the speaker's held-out recordings', dB); median F0 against
the speaker's; enrollment seconds; synthesis RTF — beside the nearest-stock baseline measured in the same run. Fitted
voices with a spectral correction are also scored without it ("-noeq" rows, same voice, same run), and
with --runtimes through the engine's onnxruntime graph as well ("-onnxruntime" rows).

Usage: python bench/clone_quality.py [--speakers SF1 SM1 ...] [--modes fast style thorough] [--runtimes]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np

import campplus
from realvoice import RealVoiceCloningService
from realvoice.analysis import SpeakerEncoder, median_f0
from realvoice.analysis.transcribe import transcribe, word_error_rate
from realvoice.audio import decode, resample, spectrum
from realvoice.engines.kokoro.engine import EQ_ARRAY

DEV = Path(__file__).resolve().parents[2] / "shared" / "speech-dev"
# Parallel corpus: the same id is the same sentence for every speaker. Enroll on five ids, test on three others.
ENROLL_IDS = ("100001", "100003", "100005", "100006", "100010")
TEST_IDS = ("100016", "100018", "100029")
LIMITS = {"max_bytes": 10**8, "max_seconds": 60.0}


def _load(path: Path) -> np.ndarray:
    a = decode(path, **LIMITS)
    return resample(a.samples, a.sample_rate, 16000)


class Scorer:
    """One speaker encoder's view of the dev set: held-out centroids, and identity / top-1 of a clip."""

    def __init__(self, embed: Callable[[np.ndarray, int], np.ndarray], held_out: dict[str, list[np.ndarray]]):
        self.embed = embed
        emb = {s: np.stack([embed(x, 16000) for x in clips]) for s, clips in held_out.items()}
        self.cent = {s: e.mean(0) / np.linalg.norm(e.mean(0)) for s, e in emb.items()}
        self.self_sim, self.others = {}, {}
        for spk, e in emb.items():
            rest = [(e.sum(0) - x) / np.linalg.norm(e.sum(0) - x) for x in e]  # each clip against the others
            self.self_sim[spk] = float(np.mean([x @ r for x, r in zip(e, rest, strict=True)]))
            self.others[spk] = float(np.mean([x @ self.cent[spk] for s, es in emb.items() if s != spk for x in es]))

    def score(self, audio: np.ndarray, sr: int, spk: str) -> tuple[float, float]:
        e = self.embed(audio, sr)
        identity = (float(e @ self.cent[spk]) - self.others[spk]) / (self.self_sim[spk] - self.others[spk])
        return identity, float(max(self.cent, key=lambda k: float(e @ self.cent[k])) == spk)


def tone_distance_db(audio16: np.ndarray, reference: np.ndarray) -> float:
    """Mean |difference| (dB) between two octave-smoothed long-term spectra, 100 Hz-7 kHz, level removed."""
    freqs = np.fft.rfftfreq(spectrum.NFFT, 1 / 16000)
    band = (freqs >= 100) & (freqs <= 7000)
    diff = spectrum.smooth_db(spectrum.ltas(audio16), 16000)[band] - spectrum.smooth_db(reference, 16000)[band]
    return float(np.abs(diff - diff.mean()).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speakers", nargs="*", default=None, help="VCC2016 ids, e.g. SF2 TM1 (default: all)")
    ap.add_argument("--modes", nargs="*", default=["fast", "style"], help="fit modes, each beside nearest-stock")
    ap.add_argument("--verbose", action="store_true", help="also print each fit's validation figures")
    ap.add_argument(
        "--runtimes", action="store_true", help="also speak each voice through the onnxruntime engine (paired rows)"
    )
    args = ap.parse_args()
    if not (DEV / "MANIFEST.tsv").exists():
        raise SystemExit(f"{DEV} is absent: this benchmark needs the dev recordings")
    with open(DEV / "MANIFEST.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    files: dict[str, list[Path]] = {}
    for r in rows:
        files.setdefault(r["speaker"], []).append(DEV / r["path"])
    for v in files.values():
        v.sort()
    # Real held-out recordings (not used for enrollment) define each speaker's centroid.
    enroll = {s: [p for p in f if p.stem in ENROLL_IDS] for s, f in files.items()}
    test = {s: [p for p in f if p.stem in TEST_IDS] for s, f in files.items()}
    held_out = {s: [_load(p) for p in f if p.stem not in ENROLL_IDS] for s, f in files.items()}
    tone = {s: np.mean([spectrum.ltas(x) for x in clips], axis=0) for s, clips in held_out.items()}
    scorers = {"Rz": Scorer(SpeakerEncoder.load().embed, held_out)}
    second = campplus.load()
    if second is None:
        print("CAM++ is not installed (make bench-deps): scoring with Resemblyzer only")
    else:
        scorers["CAM++"] = Scorer(second, held_out)
    speakers = [s for s in files if s.startswith("vcc2016_")]
    if args.speakers:
        speakers = [s for s in speakers if s.split("_")[1] in args.speakers]
    home = Path(tempfile.mkdtemp())
    svc = RealVoiceCloningService(home)
    cols = "".join(f"{'id ' + n:>10}{'top1':>6}" for n in scorers)
    print(f"{'speaker':<8}{'method':<24}{cols}{'WER':>7}{'tone dB':>8}{'F0 clone/real':>15}{'enroll s':>10}{'RTF':>6}")
    table: dict[str, list[list[float]]] = {}
    load_model = svc._voice_model
    other_runtime = None  # the same voices spoken by the onnxruntime int8 graph, for a paired comparison
    if args.runtimes and getattr(svc.engine, "runtime", "onnxruntime") != "onnxruntime":
        from realvoice.engines.kokoro import KokoroEngine

        other_runtime = KokoroEngine.load(svc.settings.cache_dir, runtime="onnxruntime")

    def without_eq(row):  # the same voice with its spectral correction removed, for a same-run comparison
        model = load_model(row)
        return dataclasses.replace(model, arrays={k: v for k, v in model.arrays.items() if k != EQ_ARRAY})

    for spk in speakers:
        texts = [transcribe(_load(p), 16000) for p in test[spk]]
        real_f0 = np.median([median_f0(_load(p), 16000) for p in test[spk]])
        for mode in (*args.modes, "nearest-stock"):
            t0 = time.perf_counter()
            r = svc.create_voice("bench", f"{spk} {mode}", enroll[spk], mode=mode, allow_duplicate=True)
            enroll_s = time.perf_counter() - t0
            if not r.success:
                print(spk, mode, "failed:", r.errors)
                continue
            variants = [(r.method, contextlib.nullcontext())]
            if r.validation.get("eq_applied"):
                variants.append((r.method + "-noeq", mock.patch.object(svc, "_voice_model", without_eq)))
            if other_runtime is not None:
                variants.append((r.method + "-onnxruntime", mock.patch.object(svc, "_engine", other_runtime)))
            for method, patch in variants:
                rows_here = []
                for text in texts:
                    with patch:
                        s = svc.render(r.voice_id, text, "bench", output_path=home / "x.wav")
                    audio = decode(s.audio_path, **LIMITS)
                    scores = [v for sc in scorers.values() for v in sc.score(audio.samples, audio.sample_rate, spk)]
                    wer = word_error_rate(text, transcribe(audio.samples, audio.sample_rate))
                    f0 = median_f0(audio.samples, audio.sample_rate)
                    off = tone_distance_db(resample(audio.samples, audio.sample_rate, 16000), tone[spk])
                    rows_here.append([*scores, wer, off, f0, enroll_s, s.real_time_factor])
                table.setdefault(method, []).extend(rows_here)
                m = np.mean(rows_here, axis=0)
                f0s = np.median([x[-3] for x in rows_here])
                cells = "".join(f"{m[2 * i]:>10.2f}{m[2 * i + 1]:>6.2f}" for i in range(len(scorers)))
                print(
                    f"{spk.split('_')[1]:<8}{method:<24}{cells}{m[-5]:>7.3f}{m[-4]:>8.1f}"
                    f"{f0s:>8.0f}/{real_f0:<6.0f}{enroll_s:>10.1f}{m[-1]:>6.2f}"
                )
            if args.verbose:
                print("   ", {k: v for k, v in r.validation.items() if not isinstance(v, (list, dict))})
            svc.delete_user_voice(r.voice_id, "bench")
    print("\nmean over speakers and sentences")
    print(f"{'method':<26}{cols}{'WER':>7}{'tone dB':>8}{'enroll s':>10}{'RTF':>6}")
    for method, vals in table.items():
        m = np.mean(vals, axis=0)
        cells = "".join(f"{m[2 * i]:>10.2f}{m[2 * i + 1]:>6.2f}" for i in range(len(scorers)))
        print(f"{method:<26}{cells}{m[-5]:>7.3f}{m[-4]:>8.1f}{m[-2]:>10.1f}{m[-1]:>6.2f}")


if __name__ == "__main__":
    main()
