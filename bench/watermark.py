"""The output watermark (Perth, src/realvoice/provenance/watermark.py): survival, false positives, audibility, speed.

Marked speech, two kinds, reported apart:
- ``generated``: stock voices (``create_voice(mode="nearest-stock")`` on eight VCC2016 recordings of one
  speaker each) speaking LJ Speech and Common Voice transcripts through ``svc.render`` to WAV, marked by the
  product itself (sentence by sentence, then levelled). The unmarked twin of each clip is what the service
  handed to ``Watermarker.mark`` during that same render (the bench wraps ``mark`` to record its input and
  output: no second synthesis), with the same 0.1 s lead;
- ``real``: dev recordings (every few files of ../shared/speech-dev, both manifests), resampled to 24 kHz
  and marked directly with ``Watermarker.load().mark``.

Attacks on every marked clip: none; MP3 128 kbit/s and Ogg/Opus 64 kbit/s (PyAV encode and decode in
memory, at 24 kHz, as the product writes them); resampling to 16 kHz and back (soxr); the podcast preset and
the default music bed applied to already-marked speech with realvoice.mix (effects, music, loudness, as
``render`` chains them: an attacker's remix), and each of the two alone (to tell which hurts); white noise
at 20 dB SNR (against the clip's RMS); a 3 s excerpt from the middle (clips of 4 s and more).
``music + podcast (service)`` is different: a few sentences rendered with ``background_music=True,
effects=["podcast"]``, where the product marks the mix itself.

False positives: ``detect`` on every file of ../shared/speech-dev at its own rate, and on the generated
speech before marking (as is, and after each attack). Audibility: Distill-MOS (bench/distill_mos.py) of each
clip unmarked and marked at the same level, once (speech alone) and twice (what ``render`` does over music).
A table of detection and false-alarm rates at thresholds from 0.3 to 0.8 helps choose ``THRESHOLD``; every
confidence is saved as confidences.json beside the tables. Speed: seconds to mark (and to detect) one minute
of 24 kHz speech, median of five runs.

Usage: python bench/watermark.py [--speakers SF1 SM1] [--sentences 20] [--real 24] [--music-renders 10]
       [--out ../scratch/wm_bench/result.md]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import distill_mos
from realvoice import RealVoiceCloningService
from realvoice.audio import decode, resample
from realvoice.mix import add_background_music, apply_effects, load_music, normalize, parse_effects
from realvoice.provenance.watermark import THRESHOLD, Watermarker

DEV = Path(__file__).resolve().parents[2] / "shared" / "speech-dev"
LIMITS = {"max_bytes": 10**8, "max_seconds": 600.0}
SR = 24000  # the engine's rate: every marked clip is at it
ENROLL_IDS = [f"1000{i:02d}" for i in range(5, 13)]  # VCC2016 ids 5-12: eight files, none too short
EXCERPT_S = 3.0
SNR_DB = 20.0
USER = "bench"

Attack = Callable[[np.ndarray, int], np.ndarray | None]


@dataclass(frozen=True)
class Row:
    path: Path
    speaker: str
    duration_s: float
    transcript: str
    dataset: str


@dataclass
class Clip:
    """One marked clip, its unmarked twin (None for the service's music renders), and where it came from."""

    kind: str
    marked: np.ndarray
    unmarked: np.ndarray | None = None
    unmarked_level: np.ndarray | None = None  # marked at the unmarked twin's level (for the MOS pair)


def _manifest(folder: Path) -> list[Row]:
    with open(folder / "MANIFEST.tsv", newline="") as fh:
        return [
            Row(folder / r["path"], r["speaker"], float(r["duration_s"]), r["transcript"], r["dataset"])
            for r in csv.DictReader(fh, delimiter="\t")
        ]


def _codec(x: np.ndarray, sr: int, container: str, codec: str, bit_rate: int) -> np.ndarray:
    """Encode with PyAV at ``bit_rate`` into memory and decode back to ``sr``, trimmed or padded to ``len(x)``."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=sr)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "mono"
        stream.codec_context.bit_rate = bit_rate
        fmt = stream.codec_context.format
        to_codec = av.AudioResampler(format=fmt.name if fmt else None, layout="mono", rate=sr)
        frame = av.AudioFrame.from_ndarray(np.clip(x, -1, 1).astype(np.float32)[None], format="flt", layout="mono")
        frame.sample_rate = sr
        for f in [*to_codec.resample(frame), *to_codec.resample(None)]:
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buf.seek(0)
    back = av.AudioResampler(format="flt", layout="mono", rate=sr)
    parts = []
    with av.open(buf) as inp:
        for f in inp.decode(audio=0):
            parts += [g.to_ndarray().reshape(-1) for g in back.resample(f)]
        parts += [g.to_ndarray().reshape(-1) for g in back.resample(None)]
    y = np.concatenate(parts).astype(np.float32)
    return y[: len(x)] if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))


def _noise(x: np.ndarray, sr: int) -> np.ndarray:
    rng = np.random.default_rng(len(x))
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    return (x + rng.standard_normal(len(x)) * rms * 10 ** (-SNR_DB / 20)).astype(np.float32)


def _excerpt(x: np.ndarray, sr: int) -> np.ndarray | None:
    n = int(EXCERPT_S * sr)
    if len(x) < int((EXCERPT_S + 1.0) * sr):
        return None
    start = (len(x) - n) // 2
    return x[start : start + n]


def _remix(svc: RealVoiceCloningService, preset: bool, music: bool) -> Attack:
    """The podcast preset and/or the default bed, then the loudness stage, as ``render`` chains them."""
    chain = parse_effects(["podcast"] if preset else [])
    bed = load_music(True, SR, cache_dir=svc.settings.cache_dir / "music")

    def attack(x: np.ndarray, sr: int) -> np.ndarray:
        y = apply_effects(x, sr, chain) if preset else x
        if music:
            y = add_background_music(y, sr, bed)
        if "normalize" not in chain:
            y = normalize(y, sr, svc.settings.output_lufs, svc.settings.output_true_peak_db)
        return y

    return attack


def _attacks(svc: RealVoiceCloningService) -> dict[str, Attack]:
    return {
        "none": lambda x, sr: x,
        "MP3 128k": lambda x, sr: _codec(x, sr, "mp3", "libmp3lame", 128_000),
        "Opus 64k": lambda x, sr: _codec(x, sr, "ogg", "libopus", 64_000),
        "16 kHz and back": lambda x, sr: resample(resample(x, sr, 16000), 16000, sr),
        "podcast + music (remix)": _remix(svc, preset=True, music=True),
        "podcast preset only": _remix(svc, preset=True, music=False),
        "music bed only": _remix(svc, preset=False, music=True),
        f"noise {SNR_DB:g} dB SNR": _noise,
        f"{EXCERPT_S:g} s excerpt": _excerpt,
    }


@contextlib.contextmanager
def _recording_marks(calls: list[tuple[np.ndarray, np.ndarray]]) -> Iterator[None]:
    """Every ``Watermarker.mark`` call's input and output, for as long as the block runs."""
    original = Watermarker.mark

    def mark(self: Watermarker, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        out = original(self, audio, sample_rate)
        calls.append((np.asarray(audio, np.float32).copy(), out.copy()))
        return out

    Watermarker.mark = mark  # type: ignore[method-assign]
    try:
        yield
    finally:
        Watermarker.mark = original  # type: ignore[method-assign]


def _generated(
    svc: RealVoiceCloningService, rows: list[Row], speakers: list[str], per_voice: int, music_renders: int, tmp: Path
) -> tuple[list[Clip], list[Clip]]:
    """The service's marked renders with their unmarked twins, and a few renders with music and the preset."""
    lj = [r.transcript for r in rows if r.dataset.startswith("LJ") or "ljspeech" in str(r.path)]
    cv = [r.transcript for r in rows if r.dataset == "commonvoice_en" and 25 <= len(r.transcript) <= 120]
    texts = [t for pair in zip(lj, cv[: len(lj)], strict=False) for t in pair] + lj[len(cv) :]
    clips: list[Clip] = []
    music: list[Clip] = []
    lead = np.zeros(int(0.1 * SR), np.float32)
    for v, spk in enumerate(speakers):
        files = [DEV / "vcc2016" / spk / f"{i}.wav" for i in ENROLL_IDS]
        t0 = time.perf_counter()
        r = svc.create_voice(USER, f"wm {spk}", files, mode="nearest-stock", allow_duplicate=True)
        if not r.success or r.voice_id is None:
            raise SystemExit(f"voice from {spk} refused: {r.error_code}: {r.errors}")
        print(f"  voice {spk}: {time.perf_counter() - t0:.0f} s", flush=True)
        mine = [texts[(v * per_voice + i) % len(texts)] for i in range(per_voice)]
        t0 = time.perf_counter()
        for i, text in enumerate(mine):
            calls: list[tuple[np.ndarray, np.ndarray]] = []
            with _recording_marks(calls):
                s = svc.render(r.voice_id, text, USER, output_path=tmp / f"{spk}-{i}.wav")
            if not s.success or not calls:
                raise SystemExit(f"render failed: {s.errors}")
            audio = decode(s.audio_path, **LIMITS)
            assert audio.sample_rate == SR
            unmarked = np.concatenate([lead] + [c[0] for c in calls])
            same_level = np.concatenate([lead] + [c[1] for c in calls])
            clips.append(Clip("generated", audio.samples, unmarked, same_level))
        print(f"  {len(mine)} renders of {spk}: {time.perf_counter() - t0:.0f} s", flush=True)
        t0 = time.perf_counter()
        for i, text in enumerate(sorted(mine, key=len)[:music_renders]):
            s = svc.render(
                r.voice_id,
                text,
                USER,
                output_path=tmp / f"{spk}-music-{i}.wav",
                background_music=True,
                effects=["podcast"],
            )
            if not s.success:
                raise SystemExit(f"render with music failed: {s.errors}")
            music.append(Clip("generated", decode(s.audio_path, **LIMITS).samples))
        print(f"  {music_renders} music renders of {spk}: {time.perf_counter() - t0:.0f} s", flush=True)
        svc.delete_user_voice(r.voice_id, USER)
    return clips, music


def _real(rows: list[Row], count: int, wm: Watermarker) -> list[Clip]:
    """``count`` dev recordings spread over the speakers (1.5 s or longer), at 24 kHz, marked directly."""
    usable = [r for r in rows if r.duration_s >= 1.5]
    step = max(1, len(usable) // count)
    clips = []
    for r in usable[::step][:count]:
        a = decode(r.path, **LIMITS)
        x = resample(a.samples, a.sample_rate, SR)
        m = wm.mark(x, SR)
        clips.append(Clip("real", m, x, m))
    return clips


def _stats(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, np.float64)
    return {
        "n": len(v),
        "over": int(np.sum(v >= THRESHOLD)),
        "mean": float(v.mean()),
        "min": float(v.min()),
        "p1": float(np.percentile(v, 1)),
        "p99": float(np.percentile(v, 99)),
        "max": float(v.max()),
    }


THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def _detection_table(found: dict[str, list[float]]) -> list[str]:
    rows = []
    for key, conf in found.items():
        name, kind = key.rsplit(" / ", 1)
        s = _stats(conf)
        rows.append(
            [name, kind, str(s["n"]), f"{s['over']}/{s['n']}", f"{100 * s['over'] / s['n']:.1f} %"]
            + [f"{s[k]:.3f}" for k in ("mean", "min", "p1")]
        )
    return _table(["attack", "speech", "clips", "detected", "rate", "mean conf", "min conf", "1st pct"], rows)


def _false_positive_table(unmarked: dict[str, list[float]]) -> list[str]:
    rows = []
    for label, conf in unmarked.items():
        s = _stats(conf)
        rows.append([label, str(s["n"]), str(s["over"])] + [f"{s[k]:.3f}" for k in ("max", "p99", "mean")])
    return _table(["audio", "clips", "over threshold", "max conf", "99th pct", "mean conf"], rows)


def _threshold_table(found: dict[str, list[float]], unmarked: dict[str, list[float]]) -> list[str]:
    rows = [
        [f"marked: {k}", str(len(v))] + [f"{100 * np.mean(np.asarray(v) >= t):.0f} %" for t in THRESHOLDS]
        for k, v in found.items()
    ]
    rows += [
        [f"unmarked: {k}", str(len(v))] + [str(int(np.sum(np.asarray(v) >= t))) for t in THRESHOLDS]
        for k, v in unmarked.items()
    ]
    return _table(
        ["clips (marked: % detected; unmarked: count flagged)", "n"] + [f">= {t:g}" for t in THRESHOLDS], rows
    )


def _audibility_table(scores: dict[str, list[tuple[float, float, float]]]) -> list[str]:
    rows = []
    for kind, triples in scores.items():
        a, b, c = np.asarray(triples).T
        for label, m in (("marked", b), ("marked twice (as over music)", c)):
            rows.append(
                [kind, label, str(len(a)), f"{a.mean():.3f}", f"{m.mean():.3f}", f"{(m - a).mean():+.3f}"]
                + [f"{(a - m).max():.3f}"]
            )
    head = ["speech", "marking", "clips", "MOS unmarked", "MOS marked", "mean change", "largest drop (one clip)"]
    return _table(head, rows)


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"
    lines = ["| " + " | ".join(head) + " |", rule]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def _minute_of_speech(clips: list[Clip]) -> np.ndarray:
    x = np.concatenate([c.unmarked for c in clips if c.unmarked is not None])
    return np.resize(x, 60 * SR).astype(np.float32)


def _timing(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speakers", nargs="*", default=["SF1", "SM1"], help="VCC2016 speakers, one stock voice each")
    ap.add_argument("--sentences", type=int, default=20, help="renders per voice")
    ap.add_argument("--real", type=int, default=24, help="dev recordings marked directly")
    ap.add_argument("--music-renders", type=int, default=10, help="renders per voice with music and the preset")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "scratch/wm_bench/result.md")
    args = ap.parse_args()
    if not (DEV / "MANIFEST.tsv").exists():
        raise SystemExit(f"{DEV} is absent: this benchmark needs the dev recordings")
    mos = distill_mos.load()
    if mos is None:
        raise SystemExit("Distill-MOS is not installed: run make bench-deps")
    t_start = time.perf_counter()
    rows = _manifest(DEV) + _manifest(DEV / "hard")
    wm = Watermarker.load()
    tmp = Path(tempfile.mkdtemp())
    svc = RealVoiceCloningService(tmp / "home")
    print("making speech", flush=True)
    generated, music = _generated(svc, rows, args.speakers, args.sentences, args.music_renders, tmp)
    real = _real(rows, args.real, wm)
    marked = generated + real
    print("attacks", flush=True)
    t0 = time.perf_counter()
    found: dict[str, list[float]] = {}  # "attack / speech": confidences on marked clips
    fake: dict[str, list[float]] = {}  # confidences on unmarked audio
    for name, attack in _attacks(svc).items():
        for kind in ("generated", "real"):
            found[f"{name} / {kind}"] = [
                wm.detect(y, SR).confidence
                for c in marked
                if c.kind == kind and (y := attack(c.marked, SR)) is not None
            ]
        if name != "none":
            fake[f"generated, unmarked, {name}"] = [
                wm.detect(y, SR).confidence
                for c in generated
                if c.unmarked is not None and (y := attack(c.unmarked, SR)) is not None
            ]
    found["music + podcast (service, marked after mixing) / generated"] = [
        wm.detect(c.marked, SR).confidence for c in music
    ]
    print(f"  {time.perf_counter() - t0:.0f} s", flush=True)

    print("false positives", flush=True)
    t0 = time.perf_counter()
    by_set: dict[str, list[tuple[float, str]]] = {}
    for r in rows:
        a = decode(r.path, **LIMITS)
        found_in = wm.detect(a.samples, a.sample_rate).confidence
        by_set.setdefault(r.dataset.split(" ")[0], []).append((found_in, str(r.path.relative_to(DEV))))
    every = sorted(v for vs in by_set.values() for v in vs)
    unmarked = {"speech-dev, every file": [v for v, _ in every]}
    unmarked |= {f"speech-dev, {k}": [v for v, _ in vs] for k, vs in sorted(by_set.items())}
    unmarked["generated, unmarked"] = [
        wm.detect(c.unmarked, SR).confidence for c in generated if c.unmarked is not None
    ]
    unmarked["all unmarked above"] = unmarked["speech-dev, every file"] + unmarked["generated, unmarked"]
    print(f"  {time.perf_counter() - t0:.0f} s", flush=True)

    print("audibility", flush=True)
    t0 = time.perf_counter()
    scores = {
        kind: [
            (mos(c.unmarked, SR), mos(c.unmarked_level, SR), mos(wm.mark(c.unmarked_level, SR), SR))
            for c in marked
            if c.kind == kind and c.unmarked is not None and c.unmarked_level is not None
        ]
        for kind in ("generated", "real")
    }
    print(f"  {time.perf_counter() - t0:.0f} s", flush=True)

    out = [f"### Detection on marked speech (threshold {THRESHOLD})", ""]
    out += _detection_table(found)
    out += ["", f"### False positives: unmarked audio (threshold {THRESHOLD})", ""]
    out += _false_positive_table(unmarked | fake)
    out += ["", "### Choosing a threshold: share of marked clips detected / unmarked clips flagged at each", ""]
    out += _threshold_table(found, unmarked | fake)
    out += ["", "### Audibility: Distill-MOS, unmarked vs marked (same clips, same level)", ""]
    out += _audibility_table(scores)

    minute = _minute_of_speech(generated)
    mark_s = _timing(lambda: wm.mark(minute, SR))
    detect_s = _timing(lambda: wm.detect(minute, SR))
    out += ["", "### Speed: one minute of 24 kHz speech, median of 5 runs", ""]
    out += _table(["step", "seconds per minute of audio"], [["mark", f"{mark_s:.2f}"], ["detect", f"{detect_s:.2f}"]])

    worst = min(found, key=lambda k: min(found[k]))
    clean = [k for k in found if not any(w in k for w in ("music", "noise"))]
    worst_clean = min(clean, key=lambda k: min(found[k]))
    out += [
        "",
        f"Unmarked: max confidence {every[-1][0]:.3f} ({every[-1][1]}), next {every[-2][0]:.3f} ({every[-2][1]}); "
        f"generated unmarked max {max(unmarked['generated, unmarked']):.3f}.",
        f"Marked: lowest confidence {min(found[worst]):.3f} ({worst}); without music or noise, "
        f"{min(found[worst_clean]):.3f} ({worst_clean}).",
        f"Run: {time.perf_counter() - t_start:.0f} s; {len(generated)} generated ({', '.join(args.speakers)}), "
        f"{len(real)} real, {len(music)} service music renders.",
    ]
    text = "\n".join(out)
    raw = {"marked": found, "unmarked": unmarked | fake, "speech-dev files": {p: v for v, p in every}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_name("confidences.json").write_text(json.dumps(raw, indent=1))
    print()
    print(text)
    args.out.write_text(text + "\n")
    print(f"\nsaved to {args.out}")


if __name__ == "__main__":
    main()
