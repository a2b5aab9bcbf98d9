"""Does the 0-100 quality score mean something? Score clean, degraded and mixed-speaker sample sets
built from ../shared/speech-dev through the real intake and analysis (no engine needed).

Usage: python bench/score_table.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from realvoice.analysis import SpeakerEncoder, extract_features, score_voice, voice_features
from realvoice.audio import decode
from realvoice.samples import take_in

DEV = Path(__file__).resolve().parents[2] / "shared" / "speech-dev" / "vcc2016"
LIMITS = {"max_bytes": 50_000_000, "max_seconds": 300.0, "min_speech_s": 1.0}
SPEAKERS = ["SF1", "SM1", "TF2", "TM3"]


def _score(files: list[Path], embed) -> tuple[float, int]:
    intake = take_in(files, **LIMITS, embed=embed)
    if not intake.accepted:
        return 0.0, 0
    feats = voice_features([extract_features(s.samples, s.sample_rate) for s in intake.accepted])
    embs = [intake.embeddings[s.name] for s in intake.accepted]
    return score_voice(intake.reports, embs, feats, 5).score, len(intake.accepted)


def _noisy(files: list[Path], folder: Path, snr_db: float) -> list[Path]:
    out = []
    rng = np.random.default_rng(0)
    for f in files:
        a = decode(f, max_bytes=10**8, max_seconds=60)
        level = np.sqrt(np.mean(a.samples**2)) / 10 ** (snr_db / 20)
        path = folder / f"noisy_{f.parent.name}_{f.name}"
        sf.write(path, np.clip(a.samples + rng.standard_normal(len(a.samples)) * level, -1, 1), a.sample_rate)
        out.append(path)
    return out


def main() -> None:
    if not DEV.exists():
        raise SystemExit(f"{DEV} is absent: this benchmark needs the dev recordings")
    embed = SpeakerEncoder.load().embed
    tmp = Path(tempfile.mkdtemp())
    print(f"{'speaker':<8}{'clean x8':>10}{'clean x3':>10}{'noisy 15dB':>12}{'mixed 4+4':>11}")
    rows = []
    for i, spk in enumerate(SPEAKERS):
        files = sorted((DEV / spk).glob("*.wav"))
        other = sorted((DEV / SPEAKERS[(i + 1) % len(SPEAKERS)]).glob("*.wav"))
        row = (
            _score(files[:8], embed)[0],
            _score(files[:3], embed)[0],
            _score(_noisy(files[:8], tmp, 15.0), embed)[0],
            _score(files[:4] + other[4:8], embed)[0],
        )
        rows.append(row)
        print(f"{spk:<8}" + "".join(f"{v:>{w}.1f}" for v, w in zip(row, (10, 10, 12, 11), strict=True)))
    mean = np.mean(rows, axis=0)
    print(f"{'mean':<8}" + "".join(f"{v:>{w}.1f}" for v, w in zip(mean, (10, 10, 12, 11), strict=True)))


if __name__ == "__main__":
    main()
