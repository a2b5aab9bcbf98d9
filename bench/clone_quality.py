"""Clone quality on ../shared/speech-dev through the product's own path (intake, transcripts, fit, verdict).

For each speaker: enroll five recordings with ``create_voice``, speak three literary sentences (LJ
Speech transcripts, which no sample contains), and score them beside the same speaker's held-out real
recordings and the nearest stock voice, all in the same run:

- identity with CAM++ (bench/campplus.py; nothing in the product uses it): (sim(clip, speaker) -
  sim(others, speaker)) / (sim(speaker's own clips, speaker) - sim(others, speaker)), so 0 is a
  stranger and 1 is the speaker's own recordings; top-1 speaker identification among all dev speakers;
- identity with Resemblyzer too (the fit's loss and validation use it: a sanity column, not a judge);
- naturalness with Distill-MOS (bench/distill_mos.py; the product does not use it);
- WER with Whisper tiny.en (validation gates on Whisper, so this column is not independent);
- enrollment seconds and what the product told the user (fit outcome, share of the fit kept).

Speakers come in two groups: ``tuning`` (what choices were made on) and ``held-out`` (the headline);
each group mixes VCC2016 studio speakers with hard/ ones (own microphones, noise, non-native, children).

Usage: python bench/clone_quality.py [--group held-out|tuning|all] [--speakers SF3 so_8002 ...] [--modes fast]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import campplus
import distill_mos
from realvoice import RealVoiceCloningService
from realvoice.analysis import SpeakerEncoder
from realvoice.analysis.transcribe import transcribe, word_error_rate
from realvoice.audio import decode, resample

DEV = Path(__file__).resolve().parents[2] / "shared" / "speech-dev"
GROUPS = {
    "tuning": ["SF1", "SF2", "SM1", "SM2", "TF1", "TM2", "cv_b06ec2cd", "cv_c22c452a", "so_0145", "so_1439", "so_6401"],
    "held-out": ["SF3", "TF2", "TM1", "TM3", "cv_4acac047", "cv_6f8426eb", "so_8002", "so_9609", "so_9615"],
}
# VCC2016 is parallel (the same id is the same sentence for every speaker): enroll on these five ids.
VCC_ENROLL_IDS = ("100001", "100003", "100005", "100006", "100010")
ENROLL_COUNT = 5
LITERARY = ("LJ001-0004", "LJ001-0006", "LJ001-0009")  # LJ Speech transcripts used as the test sentences
LIMITS = {"max_bytes": 10**8, "max_seconds": 60.0}


@dataclass(frozen=True)
class Clip:
    path: Path
    speaker: str
    transcript: str


def _manifest(folder: Path) -> list[Clip]:
    with open(folder / "MANIFEST.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [Clip(folder / r["path"], r["speaker"].removeprefix("vcc2016_"), r["transcript"]) for r in rows]


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


COLUMNS = ("id CAM++", "top1", "id Rz", "WER", "MOS")


def _row(label: str, spk: str, values: list[list[float]], extra: str = "") -> list[float]:
    m = np.mean(values, axis=0)
    print(f"{spk:<13}{label:<16}{m[0]:>9.2f}{m[1]:>6.2f}{m[2]:>7.2f}{m[3]:>7.3f}{m[4]:>6.2f}  {extra}")
    return [float(x) for x in m]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--group", choices=[*GROUPS, "all"], default="held-out")
    ap.add_argument("--speakers", nargs="*", default=None, help="only these speakers of the group")
    ap.add_argument("--modes", nargs="*", default=["fast"], help="fit modes, each beside nearest-stock")
    args = ap.parse_args()
    if not (DEV / "MANIFEST.tsv").exists():
        raise SystemExit(f"{DEV} is absent: this benchmark needs the dev recordings")
    clips = _manifest(DEV) + _manifest(DEV / "hard")
    by_speaker: dict[str, list[Clip]] = {}
    for c in sorted(clips, key=lambda c: c.path):
        by_speaker.setdefault(c.speaker, []).append(c)
    texts = [c.transcript for c in clips if c.path.stem in LITERARY]
    enroll: dict[str, list[Path]] = {}
    held: dict[str, list[np.ndarray]] = {}
    for spk, cs in by_speaker.items():
        if spk == "LJ":
            continue  # the test sentences are hers
        chosen = [c for c in cs if c.path.stem in VCC_ENROLL_IDS] or cs[:ENROLL_COUNT]
        enroll[spk] = [c.path for c in chosen]
        held[spk] = [_load(c.path) for c in cs if c not in chosen]
    judge = campplus.load()
    mos = distill_mos.load()
    if judge is None or mos is None:
        raise SystemExit("CAM++ or Distill-MOS is not installed: run make bench-deps")
    scorers = [Scorer(judge, held), Scorer(SpeakerEncoder.load().embed, held)]
    group = [s for g in GROUPS for s in GROUPS[g]] if args.group == "all" else GROUPS[args.group]
    speakers = [s for s in group if not args.speakers or s in args.speakers]
    home = Path(tempfile.mkdtemp())
    svc = RealVoiceCloningService(home)
    cols = "".join(f"{c:>{w}}" for c, w in zip(COLUMNS, (9, 6, 7, 7, 6), strict=True))
    print(f"{'speaker':<13}{'voice':<16}{cols}  outcome (share kept), enroll s")
    table: dict[str, dict[str, list[float]]] = {}

    def measure(audio: np.ndarray, sr: int, spk: str, text: str | None) -> list[float]:
        ids = [v for sc in scorers for v in sc.score(audio, sr, spk)]
        wer = word_error_rate(text, transcribe(audio, sr)) if text else float("nan")
        return [ids[0], ids[1], ids[2], wer, mos(audio, sr)]

    for spk in speakers:
        real = [measure(x, 16000, spk, None) for x in held[spk]]
        real = [[1.0, 1.0, 1.0, r[3], r[4]] for r in real]  # identity is 1 by definition
        table.setdefault("real recordings", {})[spk] = _row("real recordings", spk, real)
        for mode in (*args.modes, "nearest-stock"):
            t0 = time.perf_counter()
            r = svc.create_voice("bench", f"{spk} {mode}", enroll[spk], mode=mode, allow_duplicate=True)
            enroll_s = time.perf_counter() - t0
            if not r.success:
                print(f"{spk:<13}{mode:<16} refused: {r.error_code}: {' '.join(r.errors)[:80]}")
                continue
            rows = []
            for text in texts:
                s = svc.render(r.voice_id, text, "bench", output_path=home / "x.wav")
                audio = decode(s.audio_path, **LIMITS)
                rows.append(measure(audio.samples, audio.sample_rate, spk, text))
            share = r.validation.get("fit_share", 1.0 if r.fit_outcome == "fitted" else 0.0)
            label = "stock voice" if mode == "nearest-stock" else f"clone {mode}"
            table.setdefault(label, {})[spk] = _row(label, spk, rows, f"{r.fit_outcome} ({share:.2f}), {enroll_s:.0f}")
            svc.delete_user_voice(r.voice_id, "bench")
    print("\nmean over speakers (and worst speaker) per voice")
    print(f"{'voice':<29}{cols}")
    for label, per in table.items():
        m = np.nanmean(list(per.values()), axis=0)
        worst_id = min(per, key=lambda k: per[k][0])
        worst_mos = min(per, key=lambda k: per[k][4])
        print(
            f"{label:<29}{m[0]:>9.2f}{m[1]:>6.2f}{m[2]:>7.2f}{m[3]:>7.3f}{m[4]:>6.2f}"
            f"  worst id {per[worst_id][0]:.2f} ({worst_id}), worst MOS {per[worst_mos][4]:.2f} ({worst_mos})"
        )


if __name__ == "__main__":
    main()
