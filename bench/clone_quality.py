"""Clone quality on ../shared/speech-dev through the product's own path (intake, Whisper transcripts, fit).

For each speaker: enroll 5 utterances, speak 3 other sentences, and score them against the speaker's
real held-out recordings with Resemblyzer (not the fitting objective, which is log-mel distance):
identity = (sim(clone, spk) - sim(others, spk)) / (sim(spk, spk) - sim(others, spk)); speaker-ID top-1
among all dev speakers; WER with Whisper tiny.en; median F0 against the speaker's; enrollment
seconds; synthesis RTF — beside the nearest-stock baseline measured in the same run.

Usage: python bench/clone_quality.py [--speakers SF1 SM1 ...] [--modes fast adapters thorough]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np

from realvoice import RealVoiceCloningService
from realvoice.analysis import SpeakerEncoder, median_f0
from realvoice.analysis.transcribe import transcribe, word_error_rate
from realvoice.audio import decode, resample

DEV = Path(__file__).resolve().parents[2] / "shared" / "speech-dev"
# Parallel corpus: the same id is the same sentence for every speaker. Enroll on five ids, test on three others.
ENROLL_IDS = ("100001", "100003", "100005", "100006", "100010")
TEST_IDS = ("100016", "100018", "100029")
LIMITS = {"max_bytes": 10**8, "max_seconds": 60.0}


def _load(path: Path) -> np.ndarray:
    a = decode(path, **LIMITS)
    return resample(a.samples, a.sample_rate, 16000)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speakers", nargs="*", default=None, help="VCC2016 ids, e.g. SF2 TM1 (default: all)")
    ap.add_argument("--modes", nargs="*", default=["fast", "adapters"], help="fit modes, each beside nearest-stock")
    ap.add_argument("--verbose", action="store_true", help="also print each fit's validation figures")
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
    enc = SpeakerEncoder.load()
    # Real held-out recordings (not used for enrollment) define each speaker's centroid.
    enroll = {s: [p for p in f if p.stem in ENROLL_IDS] for s, f in files.items()}
    test = {s: [p for p in f if p.stem in TEST_IDS] for s, f in files.items()}
    emb = {s: np.stack([enc.embed(_load(p), 16000) for p in f if p.stem not in ENROLL_IDS]) for s, f in files.items()}
    cent = {s: e.mean(0) / np.linalg.norm(e.mean(0)) for s, e in emb.items()}
    speakers = [s for s in files if s.startswith("vcc2016_")]
    if args.speakers:
        speakers = [s for s in speakers if s.split("_")[1] in args.speakers]
    home = Path(tempfile.mkdtemp())
    svc = RealVoiceCloningService(home)
    head = f"{'speaker':<8}{'method':<18}{'identity':>9}{'top1':>6}{'WER':>7}{'F0 clone/real':>15}"
    print(head + f"{'enroll s':>10}{'RTF':>6}")
    table: dict[str, list[list[float]]] = {}
    for spk in speakers:
        self_sim = np.mean([e @ ((emb[spk].sum(0) - e) / np.linalg.norm(emb[spk].sum(0) - e)) for e in emb[spk]])
        others = np.mean([float(e @ cent[spk]) for s, es in emb.items() if s != spk for e in es])
        texts = [transcribe(_load(p), 16000) for p in test[spk]]
        real_f0 = np.median([median_f0(_load(p), 16000) for p in test[spk]])
        for mode in (*args.modes, "nearest-stock"):
            t0 = time.perf_counter()
            r = svc.create_voice("bench", f"{spk} {mode}", enroll[spk], mode=mode, allow_duplicate=True)
            enroll_s = time.perf_counter() - t0
            if not r.success:
                print(spk, mode, "failed:", r.errors)
                continue
            ids, wers, f0s, rtfs = [], [], [], []
            for text in texts:
                s = svc.render(r.voice_id, text, "bench", output_path=home / "x.wav")
                audio = decode(s.audio_path, **LIMITS)
                e = enc.embed(audio.samples, audio.sample_rate)
                ids.append((float(e @ cent[spk]) - others) / (self_sim - others))
                top = max(cent, key=lambda k: float(e @ cent[k]))
                wers.append(word_error_rate(text, transcribe(audio.samples, audio.sample_rate)))
                f0s.append(median_f0(audio.samples, audio.sample_rate))
                rtfs.append(s.real_time_factor)
                table.setdefault(r.method, []).append(
                    [ids[-1], float(top == spk), wers[-1], enroll_s, s.real_time_factor]
                )
            print(
                f"{spk.split('_')[1]:<8}{r.method:<18}{np.mean(ids):>9.2f}"
                f"{np.mean([x[1] for x in table[r.method][-3:]]):>6.2f}{np.mean(wers):>7.3f}"
                f"{np.median(f0s):>8.0f}/{real_f0:<6.0f}{enroll_s:>10.1f}{np.mean(rtfs):>6.2f}"
            )
            if args.verbose:
                print("   ", {k: v for k, v in r.validation.items() if not isinstance(v, (list, dict))})
            svc.delete_user_voice(r.voice_id, "bench")
    print("\nmean over speakers and sentences")
    print(f"{'method':<20}{'identity':>9}{'top1':>6}{'WER':>7}{'enroll s':>10}{'RTF':>6}")
    for method, vals in table.items():
        m = np.mean(vals, axis=0)
        print(f"{method:<20}{m[0]:>9.2f}{m[1]:>6.2f}{m[2]:>7.3f}{m[3]:>10.1f}{m[4]:>6.2f}")


if __name__ == "__main__":
    main()
