"""Run a batch of uploads through decode, validation and cleaning; then check them against each other."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio import Audio, decode
from ..errors import InvalidSampleError, LimitExceededError
from ..models import Issue, SampleReport
from .clean import CleanedSample, clean
from .validate import measure, sample_quality

Progress = Callable[[float, str], None]
Embedder = Callable[[np.ndarray, int], np.ndarray]

SAME_SPEAKER_MIN = 0.70  # Resemblyzer cosine: same person usually >= 0.75, strangers usually < 0.65
WINDOW_S = 1.6  # Resemblyzer's own partial-utterance length
TWO_VOICES_MAX = 0.62  # two halves of one clip more different than this: two people speaking


@dataclass
class IntakeResult:
    """Reports for every upload (in input order) and the cleaned audio of the accepted ones."""

    reports: list[SampleReport]
    accepted: list[CleanedSample] = field(default_factory=list)
    originals: dict[str, Audio] = field(default_factory=dict)
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def total_speech_s(self) -> float:
        return round(sum(r.metrics.speech_s for r in self.reports if r.accepted), 2)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def _reject(report: SampleReport, code: str, message: str) -> None:
    report.accepted = False
    report.issues.append(Issue(code=code, severity="error", message=message))
    report.reasons.append(message)
    report.quality = 0.0


def _pcm_hash(x: np.ndarray) -> str:
    return hashlib.sha256(np.round(x * 2000).astype(np.int16).tobytes()).hexdigest()


def take_in(
    files: Sequence[str | Path],
    *,
    max_bytes: int,
    max_seconds: float,
    min_speech_s: float,
    embed: Embedder | None = None,
    progress: Progress | None = None,
    names: Sequence[str] | None = None,
) -> IntakeResult:
    """Judge and clean every file; a bad file gets a report, never an exception.

    ``names`` labels the reports (e.g. the uploader's filenames); repeated names get a " (2)" suffix.
    """
    labels = _unique(list(names) if names is not None else [Path(f).name for f in files])
    reports: list[SampleReport] = []
    cleaned: dict[int, CleanedSample] = {}
    originals: dict[str, Audio] = {}
    seen_hashes: dict[str, str] = {}
    n = max(1, len(files))
    for i, f in enumerate(files):
        name = labels[i]
        if progress:
            progress(i / n, f"checking {name}")
        report = SampleReport(file=name, accepted=False)
        reports.append(report)
        try:
            audio = decode(f, max_bytes=max_bytes, max_seconds=max_seconds)
        except (InvalidSampleError, LimitExceededError) as exc:
            _reject(report, exc.code, exc.message)
            continue
        measured = measure(audio, min_speech_s=min_speech_s)
        report.metrics = measured.metrics
        report.issues = list(measured.issues)
        report.reasons = [i.message for i in measured.issues]
        if not measured.ok:
            continue
        if embed is not None and (second := _second_speaker(audio, measured.segments, embed)) is not None:
            _reject(
                report,
                "multiple_speakers",
                f"More than one person speaks in this clip (voices differ, similarity {second:.2f}); "
                "record yourself alone.",
            )
            continue
        digest = _pcm_hash(audio.samples)
        if digest in seen_hashes:
            _reject(report, "duplicate", f"This is the same recording as {seen_hashes[digest]}; record a new sentence.")
            continue
        seen_hashes[digest] = name
        sample = clean(audio, name, measured.segments, measured.metrics.snr_db)
        report.metrics.cleaned_lufs = sample.lufs
        report.metrics.cleaned_snr_db = sample.snr_db
        report.metrics.cleaned_duration_s = round(sample.duration_s, 3)
        report.accepted = True
        report.quality = sample_quality(report.metrics, report.issues)
        cleaned[i] = sample
        originals[name] = audio
    result = IntakeResult(reports=reports, originals=originals)
    if embed is not None and cleaned:
        if progress:
            progress(0.95, "comparing speakers")
        _check_speakers(result, cleaned, embed)
    result.accepted = [cleaned[i] for i in sorted(cleaned) if reports[i].accepted]
    if progress:
        progress(1.0, "samples checked")
    return result


def _second_speaker(audio: Audio, segments: list[tuple[float, float]], embed: Embedder) -> float | None:
    """Split the clip's speech into windows, part them around the two most different ones, and compare
    the two groups; returns their similarity when they sound like two people, else None."""
    sr = audio.sample_rate
    speech = (
        np.concatenate([audio.samples[int(a * sr) : int(b * sr)] for a, b in segments]) if segments else audio.samples
    )
    n = int(WINDOW_S * sr)
    if len(speech) < 3 * n:
        return None
    hop = n // 2
    windows = [speech[i : i + n] for i in range(0, len(speech) - n + 1, hop)]
    e = np.stack([embed(w, sr) for w in windows])
    # Speakers take turns: the most different pair of before/after halves over every turn point.
    best = 1.0
    for k in range(2, len(e) - 1):
        a, b = e[: k - 1].mean(axis=0), e[k:].mean(axis=0)  # skip the window that straddles the turn
        best = min(best, float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9)))
    return best if best < TWO_VOICES_MAX else None


def _check_speakers(result: IntakeResult, cleaned: dict[int, CleanedSample], embed: Embedder) -> None:
    """Reject samples whose speaker differs from the majority (leave-one-out centroid)."""
    idx = sorted(cleaned)
    embs = np.stack([embed(cleaned[i].samples, cleaned[i].sample_rate) for i in idx])
    for i, e in zip(idx, embs, strict=True):
        result.embeddings[cleaned[i].name] = e
    if len(idx) < 3:
        return
    total = embs.sum(axis=0)
    for k, i in enumerate(idx):
        others = total - embs[k]
        others = others / (np.linalg.norm(others) + 1e-9)
        sim = float(embs[k] @ others)
        result.reports[i].speaker_similarity = round(sim, 3)
        if sim < SAME_SPEAKER_MIN:
            _reject(
                result.reports[i],
                "different_speaker",
                f"This sounds like a different person than the other samples (similarity {sim:.2f}); "
                "use recordings of one speaker only.",
            )
