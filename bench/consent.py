"""Consent checks: how often true consent passes and the wrong one is refused.

Speaker check (needs ../shared/speech-dev): each speaker's voice is the centroid of 6 recordings taken
in as a voice build takes them; each of their other recordings, joined into consent-length clips
(about 6 s), is a true trial, and every other speaker's clip an impostor trial (another person reading
the statement). The encoder is the product's (Resemblyzer), and CAM++ beside it where
``make bench-deps`` installed it. Speakers are split in two groups: the threshold is read off the
tuning group (the lowest that keeps false accepts at or under 1 %), then reported on the held-out
group, which includes hard/ speakers (own microphones, non-native and child speakers).

Transcript check: statements with random names and codes read by the Piper "joe" voice and by stock
Kokoro voices (no real speaker reads our statement in speech-dev), transcribed as the product does:
the right statement, the wrong code, and another text.

Usage: python bench/consent.py [--speakers] [--transcripts] [--statements N]
"""

from __future__ import annotations

import argparse
import csv
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from realvoice import RealVoiceCloningService, Settings
from realvoice.analysis import SpeakerEncoder
from realvoice.audio import decode, resample, write_wav
from realvoice.consent import SAME_SPEAKER, Challenge, check_statement, new_code, statement
from realvoice.consent.hear import hear_recording
from realvoice.errors import ConsentError
from realvoice.samples import take_in

ROOT = Path(__file__).resolve().parents[2] / "shared" / "speech-dev"
LIMITS = {"max_bytes": 50_000_000, "max_seconds": 300.0}
ENROLL = 6
TRIAL_S = 6.0
TUNING = {"SF1", "SF2", "SF3", "SM1", "SM2", "LJ", "cv_4acac047", "cv_6f8426eb", "so_0145", "so_1439", "so_6401"}
NAMES = ("Ana Lima", "Joe Miller", "Priya Raman", "Tomasz Nowak", "Grace O'Neil", "Kenji Sato", "Zoë Martin")

Embed = Callable[[np.ndarray, int], np.ndarray]


def _speakers() -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {}
    for folder in (ROOT, ROOT / "hard"):
        with open(folder / "MANIFEST.tsv", newline="") as fh:
            for r in csv.DictReader(fh, delimiter="\t"):
                files.setdefault(_short(r["speaker"]), []).append(folder / r["path"])
    return {s: sorted(f) for s, f in files.items()}


def _short(speaker: str) -> str:
    return speaker.split("_", 1)[1] if speaker.startswith(("vcc2016_", "ljspeech_")) else speaker


def _cleaned(paths: list[Path]) -> list[tuple[np.ndarray, int]]:
    intake = take_in(paths, **LIMITS, min_speech_s=1.0)
    return [(s.samples, s.sample_rate) for s in intake.accepted]


def _trials(paths: list[Path], folder: Path) -> list[Path]:
    """The recordings joined, in order, into clips of about TRIAL_S seconds (a consent statement's length)."""
    clips, current, length = [], [], 0.0
    for p in paths:
        a = decode(p, **LIMITS)
        current.append(resample(a.samples, a.sample_rate, 16000))
        length += a.duration_s
        if length >= TRIAL_S:
            clips.append(write_wav(folder / f"{p.parent.name}-{p.stem}.wav", np.concatenate(current), 16000))
            current, length = [], 0.0
    return clips


def _scores(speakers: dict[str, list[Path]], embed: Embed, folder: Path) -> tuple[list[float], list[float], dict]:
    centroids, trials = {}, {}
    for s, paths in speakers.items():
        enrolled = [embed(x, sr) for x, sr in _cleaned(paths[:ENROLL])]
        c = np.mean(enrolled, axis=0)
        centroids[s] = c / np.linalg.norm(c)
        trials[s] = [embed(x, sr) for x, sr in _cleaned(_trials(paths[ENROLL:], folder))]
    genuine, impostor, worst = [], [], {}
    for s, c in centroids.items():
        own = [float(np.dot(e, c)) for e in trials[s]]
        genuine += own
        others = [float(np.dot(e, c)) for t, es in trials.items() if t != s for e in es]
        impostor += others
        worst[s] = (min(own) if own else float("nan"), max(others))
    return genuine, impostor, worst


def _rates(genuine: list[float], impostor: list[float], threshold: float) -> tuple[float, float]:
    """(false rejects, false accepts) at ``threshold``."""
    return float(np.mean(np.array(genuine) < threshold)), float(np.mean(np.array(impostor) >= threshold))


def _eer(genuine: list[float], impostor: list[float]) -> tuple[float, float]:
    grid = np.linspace(0, 1, 2001)
    gaps = [abs(np.subtract(*_rates(genuine, impostor, t))) for t in grid]
    t = float(grid[int(np.argmin(gaps))])
    return float(np.mean(_rates(genuine, impostor, t))), t


def _far_threshold(impostor: list[float], far: float = 0.01) -> float:
    return float(np.quantile(impostor, 1 - far, method="higher")) + 1e-4


def speaker_check() -> None:
    encoders: dict[str, Embed] = {"Resemblyzer (product)": SpeakerEncoder.load().embed}
    try:
        import campplus  # bench/campplus.py

        cam = campplus.load()
        if cam is not None:
            encoders["CAM++"] = cam
    except ImportError:
        pass
    everyone = _speakers()
    groups = {
        "tuning": {s: f for s, f in everyone.items() if s in TUNING},
        "held-out": {s: f for s, f in everyone.items() if s not in TUNING},
    }
    folder = Path(tempfile.mkdtemp(prefix="consent-bench-"))
    print(
        "| encoder | group | speakers | true / impostor trials | EER (at threshold) | threshold for FAR <= 1 % |"
        f" FRR / FAR at the product's {SAME_SPEAKER} | FRR / FAR at the tuning threshold |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, embed in encoders.items():
        tuned = None
        for group, speakers in groups.items():
            genuine, impostor, worst = _scores(speakers, embed, folder)
            eer, at = _eer(genuine, impostor)
            if tuned is None:
                tuned = _far_threshold(impostor)
            frr, far = _rates(genuine, impostor, SAME_SPEAKER)
            frr_t, far_t = _rates(genuine, impostor, tuned)
            print(
                f"| {name} | {group} | {len(speakers)} | {len(genuine)} / {len(impostor)} | {eer:.1%} ({at:.3f}) |"
                f" {_far_threshold(impostor):.3f} | {frr:.1%} / {far:.1%} | {frr_t:.1%} / {far_t:.1%} |"
            )
            worst_rows = ", ".join(f"{s} {lo:.2f}/{hi:.2f}" for s, (lo, hi) in sorted(worst.items()))
            print(f"|  | per speaker: lowest own / highest impostor | {worst_rows} |  |  |  |  |  |")


def transcript_check(n: int) -> None:
    from realvoice.demo import make_piper_samples

    home = Path(tempfile.mkdtemp(prefix="consent-bench-"))
    svc = RealVoiceCloningService(settings=Settings(home=home, fit_mode="nearest-stock"))
    readers: dict[str, Callable[[str], tuple[np.ndarray, int]]] = {}

    def piper(text: str) -> tuple[np.ndarray, int]:
        a = decode(make_piper_samples(home / secrets.token_hex(4), [text])[0], **LIMITS)
        return a.samples, a.sample_rate

    readers["Piper joe"] = piper
    speakers = _speakers() if ROOT.exists() else {}
    for dev in ("SF1", "TM1", "so_9609"):
        if dev in speakers:
            r = svc.create_voice("bench", dev, speakers[dev][5:13], allow_duplicate=True)
            if r.success:
                readers[f"Kokoro stock ({r.characteristics.gender if r.characteristics else '?'})"] = _kokoro(svc, r)
    print("| reader | statements | true statement accepted | wrong code refused | other text refused |")
    print("|---|---|---|---|---|")
    for reader, say in readers.items():
        ok = wrong = other = 0
        for i in range(n):
            name, code = NAMES[i % len(NAMES)], new_code()
            ok += _passes(say(statement(name, code)), name, code)
            wrong_code = new_code()
            while wrong_code == code:
                wrong_code = new_code()
            wrong += not _passes(say(statement(name, wrong_code)), name, code)
            other += not _passes(say(f"I do not agree to anything you say. My code is {', '.join(code)}."), name, code)
        print(f"| {reader} | {n} | {ok / n:.0%} | {wrong / n:.0%} | {other / n:.0%} |")


def _kokoro(svc: RealVoiceCloningService, r) -> Callable[[str], tuple[np.ndarray, int]]:
    def say(text: str) -> tuple[np.ndarray, int]:
        audio = np.concatenate([c.audio for c in svc.stream_user_speech(r.voice_id, text, "bench")])
        return audio, svc.engine.sample_rate

    return say


def _passes(audio: tuple[np.ndarray, int], name: str, code: str) -> bool:
    """The product's transcript check on the reading (``hear_recording`` then ``check_statement``)."""
    path = write_wav(Path(tempfile.mkdtemp(prefix="consent-bench-")) / "reading.wav", *audio)
    try:
        check_statement(hear_recording(path, Settings(home=path.parent)), Challenge(name, code))
    except ConsentError as exc:  # what failed, for the docs (stderr, beside the table)
        print(f"  refused ({name}, {code}): {exc.code}: {exc.message[:160]}", file=sys.stderr)
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speakers", action="store_true", help="only the speaker check")
    parser.add_argument("--transcripts", action="store_true", help="only the transcript check")
    parser.add_argument("--statements", type=int, default=20, help="statements per reader")
    args = parser.parse_args()
    both = not (args.speakers or args.transcripts)
    if (args.speakers or both) and ROOT.exists():
        speaker_check()
    elif args.speakers:
        print(f"speaker check skipped: {ROOT} is absent")
    if args.transcripts or both:
        transcript_check(args.statements)


if __name__ == "__main__":
    main()
