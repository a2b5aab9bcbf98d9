"""Does the 0-100 quality score predict how well the clone sounds like the speaker?

For a few ../shared/speech-dev speakers, build voices through the real service from sample sets that
all pass intake but differ in quality (clean, white or babble noise at ~12 dB SNR, a reverberant room,
phone band, few short clips), then measure each clone's identity as bench/clone_quality.py does:
Resemblyzer similarity of three rendered test sentences to the speaker's held-out real recordings,
scaled so 0 is "like the other dev speakers" and 1 is "like another real recording of the speaker".
Prints score and identity per row and their Pearson and Spearman correlations.

Each fit takes 60-90 s on an idle 2-core CPU: the default (3 speakers x 5 conditions) is 15 fits. The fast
fit normally stops at 45 steps or 55 s, whichever comes first; on a loaded machine the clock would cut
some fits short and add noise unrelated to the samples, so here every fit runs its 45 steps
(``--time-budget`` restores the product's clock). The steps each fit ran are printed.
``--rescore out/score_vs_clone.csv`` recomputes only the scores (intake and analysis, no fit) against
the identities measured earlier, to check a change to the score without refitting.

Usage: python bench/score_vs_clone.py [--speakers SF1 SM1 TM1] [--conditions clean white ...]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

from realvoice import RealVoiceCloningService
from realvoice.analysis import SpeakerEncoder, extract_features, score_voice, voice_features
from realvoice.analysis.transcribe import transcribe
from realvoice.audio import decode, resample
from realvoice.config import Settings
from realvoice.samples import take_in
from realvoice.samples.reverb import add_reverb

DEV = Path(__file__).resolve().parents[2] / "shared" / "speech-dev"
OUT = Path(__file__).resolve().parents[1] / "out" / "score_vs_clone.csv"
# Parallel corpus: the same id is the same sentence for every speaker (as in bench/clone_quality.py).
ENROLL_IDS = ("100001", "100003", "100005", "100006", "100010", "100011", "100012", "100013")
TEST_IDS = ("100016", "100018", "100029")
LIMITS = {"max_bytes": 10**8, "max_seconds": 60.0}
SR = 16000

Degrade = Callable[[np.ndarray, int], tuple[np.ndarray, int]]


def _load(path: Path) -> np.ndarray:
    a = decode(path, **LIMITS)
    return resample(a.samples, a.sample_rate, SR)


def _at_snr(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    gain = np.sqrt(np.mean(x**2) / (np.mean(noise**2) + 1e-12) / 10 ** (snr_db / 10))
    y = x + gain * noise[: len(x)]
    return (y / max(1.0, float(np.max(np.abs(y))))).astype(np.float32)


def _babble(others: list[Path], n: int, seed: int) -> np.ndarray:
    """Four other speakers talking at once, looped to length ``n``."""
    rng = np.random.default_rng(seed)
    voices = [_load(p) for p in rng.choice(np.array(others, dtype=object), 4, replace=False)]
    return sum(np.resize(v / (np.sqrt(np.mean(v**2)) + 1e-9), n) for v in voices)


def conditions(files: list[Path], others: list[Path]) -> dict[str, Callable[[], list[tuple[np.ndarray, int]]]]:
    """Each condition's sample set as (samples, rate) pairs; deterministic, so --rescore rebuilds it."""
    enroll = [p for p in files if p.stem in ENROLL_IDS]
    # Few and short: the five shortest other sentences that still hold >= 1 s of speech each.
    rest = sorted((p for p in files if p.stem not in ENROLL_IDS + TEST_IDS), key=lambda p: len(_load(p)))
    short = [p for p in rest if len(_load(p)) > 1.8 * SR][:5]

    def each(paths: list[Path], f: Degrade) -> Callable[[], list[tuple[np.ndarray, int]]]:
        return lambda: [f(_load(p), k) for k, p in enumerate(paths)]

    rng_noise = np.random.default_rng
    return {
        "clean": each(enroll, lambda x, k: (x, SR)),
        "white": each(enroll, lambda x, k: (_at_snr(x, rng_noise(k).standard_normal(len(x)), 12.0), SR)),
        "babble": each(enroll, lambda x, k: (_at_snr(x, _babble(others, len(x), k), 12.0), SR)),
        "reverb": each(enroll, lambda x, k: (add_reverb(x, SR, 0.7, seed=k), SR)),
        "phone": each(enroll, lambda x, k: (resample(x, SR, 8000), 8000)),
        "short": each(short, lambda x, k: (x, SR)),
    }


def _write(clips: list[tuple[np.ndarray, int]], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (x, sr) in enumerate(clips):
        sf.write(folder / f"s{k}.wav", x, sr, subtype="PCM_16")
        paths.append(folder / f"s{k}.wav")
    return paths


def _score_only(paths: list[Path]) -> tuple[float, int]:
    """The score exactly as the service computes it, without fitting a voice."""
    s = Settings()
    intake = take_in(
        paths,
        max_bytes=s.max_upload_bytes,
        max_seconds=s.max_sample_seconds,
        min_speech_s=s.min_speech_seconds,
        embed=SpeakerEncoder.load().embed,
    )
    if len(intake.accepted) < s.min_samples:
        return 0.0, len(intake.accepted)
    feats = voice_features([extract_features(c.samples, c.sample_rate) for c in intake.accepted])
    embs = [intake.embeddings[c.name] for c in intake.accepted]
    return score_voice(intake.reports, embs, feats, s.min_samples).score, len(intake.accepted)


def _speaker_files() -> dict[str, list[Path]]:
    with open(DEV / "MANIFEST.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    files: dict[str, list[Path]] = {}
    for r in rows:
        if r["speaker"].startswith("vcc2016_"):
            files.setdefault(r["speaker"].split("_")[1], []).append(DEV / r["path"])
    return {s: sorted(f) for s, f in files.items()}


class Judge:
    """Identity of a clone: held-out real recordings define each speaker (bench/clone_quality.py's measure)."""

    def __init__(self, files: dict[str, list[Path]]) -> None:
        self.enc = SpeakerEncoder.load()
        held = {s: [p for p in f if p.stem not in ENROLL_IDS] for s, f in files.items()}
        self.emb = {s: np.stack([self.enc.embed(_load(p), SR) for p in f]) for s, f in held.items()}
        self.cent = {s: e.mean(0) / np.linalg.norm(e.mean(0)) for s, e in self.emb.items()}

    def identity(self, spk: str, clips: list[np.ndarray], sr: int) -> float:
        e_spk = self.emb[spk]
        total = e_spk.sum(0)
        self_sim = np.mean([e @ ((total - e) / np.linalg.norm(total - e)) for e in e_spk])
        others = np.mean([float(e @ self.cent[spk]) for s, es in self.emb.items() if s != spk for e in es])
        sims = [float(self.enc.embed(c, sr) @ self.cent[spk]) for c in clips]
        return float((np.mean(sims) - others) / (self_sim - others))


def _correlations(scores: list[float], ids: list[float]) -> str:
    from scipy.stats import pearsonr, spearmanr

    if len(scores) < 3 or np.std(scores) == 0 or np.std(ids) == 0:
        return "too few distinct rows for a correlation"
    p, sp = pearsonr(scores, ids), spearmanr(scores, ids)
    return (
        f"Pearson r = {p.statistic:.2f} (p = {p.pvalue:.3f}); Spearman rho = {sp.statistic:.2f} "
        f"(p = {sp.pvalue:.3f}); n = {len(scores)}"
    )


def _print(rows: list[dict]) -> None:
    print(f"{'speaker':<8}{'condition':<10}{'accepted':>9}{'score':>7}{'identity':>10}{'steps':>7}   C/Q/D/V")
    for r in rows:
        print(
            f"{r['speaker']:<8}{r['condition']:<10}{r['accepted']:>9}{float(r['score']):>7.1f}"
            f"{float(r['identity']):>10.2f}{r.get('steps', ''):>7}   {r.get('breakdown', '')}"
        )
    ok = [r for r in rows if float(r["score"]) > 0]
    print(_correlations([float(r["score"]) for r in ok], [float(r["identity"]) for r in ok]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speakers", nargs="*", default=["SF1", "SM1", "TM1"])
    ap.add_argument("--conditions", nargs="*", default=["clean", "white", "reverb", "phone", "short"])
    ap.add_argument("--time-budget", action="store_true", help="keep the fast fit's 55 s clock")
    ap.add_argument("--rescore", type=Path, help="a CSV from an earlier run: recompute scores, keep identities")
    args = ap.parse_args()
    if not (DEV / "MANIFEST.tsv").exists():
        raise SystemExit(f"{DEV} is absent: this benchmark needs the dev recordings")
    files = _speaker_files()
    tmp = Path(tempfile.mkdtemp())
    if args.rescore:
        with open(args.rescore, newline="") as fh:
            rows = list(csv.DictReader(fh))
        for row in rows:
            others = [p for s, f in files.items() if s != row["speaker"] for p in f]
            clips = conditions(files[row["speaker"]], others)[row["condition"]]()
            row["score"], row["accepted"] = _score_only(_write(clips, tmp / f"{row['speaker']}_{row['condition']}"))
            row["breakdown"] = "(rescored)"
        _print(rows)
        return
    if not args.time_budget:
        from realvoice.engines.kokoro.fitting import config

        config.FAST = replace(config.FAST, time_budget_s=None)
    judge = Judge(files)
    svc = RealVoiceCloningService(tmp / "home")
    rows = []
    for spk in args.speakers:
        others = [p for s, f in files.items() if s != spk for p in f]
        texts = [transcribe(_load(p), SR) for p in files[spk] if p.stem in TEST_IDS]
        made = conditions(files[spk], others)
        for cond in args.conditions:
            paths = _write(made[cond](), tmp / f"{spk}_{cond}")
            r = svc.create_voice("bench", f"{spk} {cond}", paths, mode="fast", allow_duplicate=True)
            if not r.success:
                print(spk, cond, "failed:", r.errors)
                continue
            renders = []
            for text in texts:
                s = svc.render(r.voice_id, text, "bench", output_path=tmp / "x.wav")
                renders.append(decode(s.audio_path, **LIMITS))
            identity = judge.identity(spk, [a.samples for a in renders], renders[0].sample_rate)
            b = r.quality_breakdown
            rows.append(
                {
                    "speaker": spk,
                    "condition": cond,
                    "accepted": sum(x.accepted for x in r.sample_reports),
                    "score": r.quality_score,
                    "identity": round(identity, 3),
                    "steps": int(r.validation.get("timbre_steps", 0)),
                    "breakdown": f"{b.consistency:.0f}/{b.sample_quality:.0f}/{b.duration_adequacy:.0f}/{b.variety:.0f}"
                    if b
                    else "",
                }
            )
            print(f"  {spk} {cond}: score {r.quality_score:.1f}, identity {identity:.2f}", flush=True)  # progress
            svc.delete_user_voice(r.voice_id, "bench")
    svc.close()
    OUT.parent.mkdir(exist_ok=True)
    with open(OUT, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    _print(rows)
    print(f"rows saved to {OUT}")


if __name__ == "__main__":
    main()
