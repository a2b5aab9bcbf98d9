"""Sample intake: speed, and how well its reverberation and two-speaker checks detect what they claim.

Speed (default): seconds of processing per minute of audio, with and without the speaker checks, beside
decoding alone. Uses ../shared/speech-dev (VCC2016 SF1, 10 files) when present, else six Piper recordings.

Detectors (``--detectors``, needs ../shared/speech-dev):
- reverberant: warning rate on every dry dev clip (must be 0), and on every third clip convolved with a
  synthetic room (exponentially decaying noise, RT60 0.2-1.0 s) or with white noise at 15/25 dB SNR;
- multiple_speakers: false alarms on single-speaker clips (each utterance, and runs of four utterances)
  and recall on clips concatenating two dev speakers (2+2 and 1+3 utterances; 20 different-gender and
  20 same-gender pairs).

Usage: python bench/intake.py [--detectors [reverb] [speakers]]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np

from realvoice.analysis import SpeakerEncoder
from realvoice.audio import Audio, decode, resample
from realvoice.samples import measure, take_in
from realvoice.samples.intake import DEGRADED, TWO_VOICES_DEGRADED_MAX, TWO_VOICES_MAX, second_speaker
from realvoice.samples.reverb import add_reverb

ROOT = Path(__file__).resolve().parents[2] / "shared" / "speech-dev"
DEV = ROOT / "vcc2016" / "SF1"
LIMITS = {"max_bytes": 50_000_000, "max_seconds": 300.0}
RT60S = (0.2, 0.4, 0.7, 1.0)


def speed() -> None:
    if DEV.exists():
        files = sorted(DEV.glob("*.wav"))[:10]
        source = "VCC2016 SF1 x10"
    else:
        from realvoice.demo import make_piper_samples

        files = make_piper_samples(Path(tempfile.mkdtemp()))
        source = "Piper x6"
    minutes = sum(decode(f, **LIMITS).duration_s for f in files) / 60
    embed = SpeakerEncoder.load().embed
    take_in(files[:1], **LIMITS, min_speech_s=1.0)  # warm-up: loads the VAD
    rows = []
    t = time.perf_counter()
    for f in files:
        decode(f, **LIMITS)
    rows.append(("decode only (baseline)", time.perf_counter() - t))
    t = time.perf_counter()
    take_in(files, **LIMITS, min_speech_s=1.0)
    rows.append(("decode + validate + clean", time.perf_counter() - t))
    t = time.perf_counter()
    take_in(files, **LIMITS, min_speech_s=1.0, embed=embed)
    rows.append(("+ speaker checks", time.perf_counter() - t))
    print(f"{source}: {minutes * 60:.1f} s of audio")
    print(f"{'stage':<28}{'seconds':>9}{'s per audio minute':>20}")
    for name, secs in rows:
        print(f"{name:<28}{secs:>9.2f}{secs / minutes:>20.2f}")


def _dev() -> tuple[dict[str, list[Path]], dict[str, str]]:
    with open(ROOT / "MANIFEST.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    files: dict[str, list[Path]] = {}
    for r in rows:
        files.setdefault(r["speaker"], []).append(ROOT / r["path"])
    return {s: sorted(f) for s, f in files.items()}, {r["speaker"]: r["gender"] for r in rows}


def _load(path: Path, sr: int = 16000) -> np.ndarray:
    a = decode(path, **LIMITS)
    return resample(a.samples, a.sample_rate, sr)


def _audio(x: np.ndarray, sr: int = 16000) -> Audio:
    return Audio(samples=np.asarray(x, np.float32), sample_rate=sr, channels=1, format="wav")


def _warned(x: np.ndarray, sr: int = 16000) -> tuple[bool, float | None]:
    m = measure(_audio(x, sr), min_speech_s=1.0)
    return "reverberant" in {i.code for i in m.issues}, m.metrics.decay_rate_db_s


def reverberation(files: dict[str, list[Path]]) -> None:
    paths = [p for f in files.values() for p in f]
    counts: dict[str, list[bool]] = {}
    rates: dict[str, list[float]] = {}

    def add(cond: str, x: np.ndarray, sr: int) -> None:
        warned, rate = _warned(x, sr)
        counts.setdefault(cond, []).append(warned)
        if rate is not None:
            rates.setdefault(cond, []).append(rate)

    for k, p in enumerate(paths):
        a = decode(p, **LIMITS)
        add("dry (all clips)", a.samples, a.sample_rate)
        if k % 3:
            continue
        for rt in RT60S:
            add(f"RT60 {rt:.1f} s", add_reverb(a.samples, a.sample_rate, rt, seed=k), a.sample_rate)
        rng = np.random.default_rng(k)
        for snr in (15, 25):
            level = np.sqrt(np.mean(a.samples**2) / 10 ** (snr / 10))
            add(f"dry + noise {snr} dB", a.samples + rng.standard_normal(len(a.samples)) * level, a.sample_rate)
    print(f"\nreverberant warning{'':<14}{'clips':>6}{'warned':>8}{'rate':>7}   decay dB/s min / median / max")
    for cond, v in counts.items():
        r = np.asarray(rates.get(cond, [np.nan]))
        print(
            f"{cond:<33}{len(v):>6}{sum(v):>8}{np.mean(v):>7.2f}   "
            f"{np.nanmin(r):.0f} / {np.nanmedian(r):.0f} / {np.nanmax(r):.0f}"
        )


def _previous_rule(audio: Audio, segments: list[tuple[float, float]], embed) -> bool:
    """The check this one replaced, for comparison on the same clips: the most different before/after
    halves over every turn point, two people below 0.62, judged only on >= 4.8 s of speech."""
    sr = audio.sample_rate
    speech = np.concatenate([audio.samples[int(a * sr) : int(b * sr)] for a, b in segments])
    n = int(1.6 * sr)
    if len(speech) < 3 * n:
        return False
    e = np.stack([embed(speech[i : i + n], sr) for i in range(0, len(speech) - n + 1, n // 2)])
    sims = [float(_unit(e[: k - 1].mean(0)) @ _unit(e[k:].mean(0))) for k in range(2, len(e) - 1)]
    return bool(sims) and min(sims) < 0.62


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) + 1e-9)


def two_speakers(files: dict[str, list[Path]], gender: dict[str, str]) -> None:
    encoder = SpeakerEncoder.load()
    cache: dict[bytes, np.ndarray] = {}

    def embed(x: np.ndarray, sr: int) -> np.ndarray:  # both rules embed the same windows: embed each once
        key = x.tobytes()
        if key not in cache:
            cache[key] = encoder.embed(x, sr)
        return cache[key]

    clips: list[tuple[str, list[Path]]] = []
    for f in files.values():
        clips += [("one speaker, 1 utterance", [p]) for p in f]
        clips += [("one speaker, 4 utterances", f[g : g + 4]) for g in range(0, len(f) - 3, 4)]
    rng = np.random.default_rng(0)
    pairs = [(a, b) for a in files for b in files if a != b]
    rng.shuffle(pairs)
    for label, same in (("different gender", False), ("same gender", True)):
        for a, b in [p for p in pairs if (gender[p[0]] == gender[p[1]]) == same][:20]:
            i, j, m = (int(rng.integers(len(files[s]) - 2)) for s in (a, b, b))
            clips.append((f"two, {label}, 2+2", [*files[a][i : i + 2], *files[b][j : j + 2]]))
            clips.append((f"two, {label}, 1+3", [files[a][i], *files[b][m : m + 3]]))
    flagged: dict[str, list[bool]] = {}
    before: dict[str, list[bool]] = {}
    judged: dict[str, int] = {}
    for kind, paths in clips:
        x = np.concatenate([_load(p) for p in paths])
        m = measure(_audio(x), min_speech_s=1.0)
        degraded = any(i.code in DEGRADED for i in m.issues)  # the limit take_in would use for this clip
        sim = second_speaker(_audio(x), m.segments, embed, TWO_VOICES_DEGRADED_MAX if degraded else TWO_VOICES_MAX)
        flagged.setdefault(kind, []).append(sim is not None)
        before.setdefault(kind, []).append(_previous_rule(_audio(x), m.segments, embed))
        cache.clear()
        judged[kind] = judged.get(kind, 0) + (m.metrics.speech_s >= 3.2)  # shorter clips are not judged
    print(f"\nmultiple_speakers{'':<18}{'clips':>6}{'judged':>8}{'flagged':>9}{'rate':>7}   previous rule")
    for kind, v in flagged.items():
        old = before[kind]
        print(
            f"{kind:<35}{len(v):>6}{judged[kind]:>8}{sum(v):>9}{np.mean(v):>7.2f}   {sum(old):>4} ({np.mean(old):.2f})"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--detectors", nargs="*", choices=["reverb", "speakers"], help="detection rates instead of speed (default both)"
    )
    args = ap.parse_args()
    if args.detectors is None:
        speed()
        return
    if not (ROOT / "MANIFEST.tsv").exists():
        raise SystemExit(f"{ROOT} is absent: the detector benchmark needs the dev recordings")
    files, gender = _dev()
    chosen = args.detectors or ["reverb", "speakers"]
    if "reverb" in chosen:
        reverberation(files)
    if "speakers" in chosen:
        two_speakers(files, gender)


if __name__ == "__main__":
    main()
