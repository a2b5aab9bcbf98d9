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
from ..progress import Progress
from .clean import CleanedSample, clean
from .validate import measure, sample_quality

Embedder = Callable[[np.ndarray, int], np.ndarray]

SAME_SPEAKER_MIN = 0.70  # Resemblyzer cosine: same person usually >= 0.75, strangers usually < 0.65
WINDOW_S = 1.6  # Resemblyzer's own partial-utterance length
# Two groups of windows in one clip more different than this: two people. No single-speaker dev clip
# long enough to judge (250) falls below it; 67 of 80 two-speaker concatenations do (different gender
# 38/40, same gender 29/40; bench/intake.py --detectors speakers).
TWO_VOICES_MAX = 0.78
# Echo and noise make window embeddings wander (single-speaker dev runs at RT60 0.7 s or 12 dB SNR reach
# 0.73), so a clip already flagged for either must differ more before it counts as two people.
TWO_VOICES_DEGRADED_MAX = 0.70
DEGRADED = {"reverberant", "some_noise", "noisy"}
MIN_GROUP_WINDOWS = 2  # each voice must hold >= 2.4 s of the clip's speech
# Two groups of samples are two people when their pairs across the groups are on average less similar
# than MIXED_MAX, or less similar than the pairs inside the groups by more than MIXED_GAP (a pair of
# similar-sounding people). Tuned on half the dev speakers, judged on the other half; the margins
# and rates are in docs (bench/mixed_speakers.py).
MIXED_MAX = 0.68
MIXED_GAP = 0.15


@dataclass(frozen=True)
class SpeakerGroups:
    """The samples split into the two most different groups, by position in the embeddings given."""

    major: tuple[int, ...]
    minor: tuple[int, ...]
    between: float  # mean similarity of the pairs across the groups
    within: float  # the lower of the two groups' mean similarity inside

    @property
    def verdict(self) -> str:
        """ "minority": a third or fewer are someone else, rejected by name; "mixed": no clear owner."""
        return "minority" if 3 * len(self.minor) <= len(self.major) + len(self.minor) else "mixed"


@dataclass
class IntakeResult:
    """Reports for every upload (in input order) and the cleaned audio of the accepted ones."""

    reports: list[SampleReport]
    accepted: list[CleanedSample] = field(default_factory=list)
    originals: dict[str, Audio] = field(default_factory=dict)
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    # Two people in about equal parts: the file names of each group; the voice must be refused.
    mixed: tuple[list[str], list[str]] | None = None

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
        degraded = any(i.code in DEGRADED for i in measured.issues)
        limit = TWO_VOICES_DEGRADED_MAX if degraded else TWO_VOICES_MAX
        if embed is not None and (second := second_speaker(audio, measured.segments, embed, limit)) is not None:
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


def second_speaker(
    audio: Audio, segments: list[tuple[float, float]], embed: Embedder, max_sim: float = TWO_VOICES_MAX
) -> float | None:
    """The similarity of the two voices in a clip when it holds two people, else None.

    Speech is cut into 1.6 s windows (0.8 s hop) and embedded; the windows are split at the turn point
    where the before/after means differ most, and that split seeds a two-means clustering (so turns
    that alternate are grouped too). Two groups of >= 2 windows whose centroids are less similar than
    ``max_sim`` are two people. Averaging over windows, a group centroid of one speaker stays near
    0.8+ from the other group even in a short clip; a second voice, even of the same gender, drops
    it below 0.78 in most clips (bench/intake.py --detectors).
    """
    sr = audio.sample_rate
    speech = (
        np.concatenate([audio.samples[int(a * sr) : int(b * sr)] for a, b in segments]) if segments else audio.samples
    )
    n = int(WINDOW_S * sr)
    hop = n // 2
    if len(speech) < n + 2 * hop:
        return None
    e = np.stack([embed(speech[i : i + n], sr) for i in range(0, len(speech) - n + 1, hop)])
    e = e / (np.linalg.norm(e, axis=1, keepdims=True) + 1e-9)
    # Speakers take turns: the most different before/after means over every turn point, skipping the
    # window that straddles the turn.
    best, centroids = 1.0, None
    for k in range(2, len(e)):
        a, b = _unit(e[: k - 1].mean(axis=0)), _unit(e[k:].mean(axis=0))
        if (sim := float(a @ b)) < best:
            best, centroids = sim, np.stack([a, b])
    if centroids is None:
        return None
    for _ in range(10):
        label = np.argmax(e @ centroids.T, axis=1)
        if np.bincount(label, minlength=2).min() < MIN_GROUP_WINDOWS:
            return None  # one odd window (a cough, a laugh) is not a second person
        centroids = np.stack([_unit(e[label == g].mean(axis=0)) for g in (0, 1)])
    sim = float(centroids[0] @ centroids[1])
    return sim if sim < max_sim else None


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) + 1e-9)


def _check_speakers(result: IntakeResult, cleaned: dict[int, CleanedSample], embed: Embedder) -> None:
    """Two people in about equal parts mark the result ``mixed``; a third or fewer from someone else
    are rejected by name; then each sample is held against the others (leave-one-out centroid)."""
    idx = sorted(cleaned)
    embs = np.stack([embed(cleaned[i].samples, cleaned[i].sample_rate) for i in idx])
    for i, e in zip(idx, embs, strict=True):
        result.embeddings[cleaned[i].name] = e
    groups = speaker_groups(embs)
    if groups is not None and groups.verdict == "mixed":
        major, minor = ([result.reports[idx[k]].file for k in g] for g in (groups.major, groups.minor))
        result.mixed = (major, minor)
        return
    if groups is not None:
        majority = ", ".join(result.reports[idx[k]].file for k in groups.major)
        for k in groups.minor:
            _reject(
                result.reports[idx[k]],
                "different_speaker",
                f"This sounds like a different person than most samples ({majority}; similarity "
                f"{groups.between:.2f}); use recordings of one speaker only.",
            )
        keep = [k for k in range(len(idx)) if k not in groups.minor]
        idx, embs = [idx[k] for k in keep], embs[keep]
    _leave_one_out(result, idx, embs)


def _leave_one_out(result: IntakeResult, idx: list[int], embs: np.ndarray) -> None:
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


def speaker_groups(
    embs: np.ndarray, max_between: float = MIXED_MAX, min_gap: float = MIXED_GAP
) -> SpeakerGroups | None:
    """Two people among the samples, or None.

    A centroid test cannot see a voice made of two people in equal parts: every sample is close to
    a centroid that is half its own speaker. So the samples are split in two by average-linkage
    clustering of their pairwise similarities, and two groups of at least two samples whose
    cross pairs are less similar than ``max_between``, or than their own pairs by ``min_gap``, are
    two people. One odd sample is left to the leave-one-out check.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(embs)
    if n < 4:
        return None
    e = embs / (np.linalg.norm(embs, axis=1, keepdims=True) + 1e-9)
    labels = fcluster(linkage(e, "average", metric="cosine"), 2, "maxclust")
    groups = sorted((tuple(int(i) for i in np.flatnonzero(labels == g)) for g in (1, 2)), key=len)
    minor, major = groups
    if len(minor) < 2:
        return None
    sim = e @ e.T
    between = float(sim[np.ix_(minor, major)].mean())
    within = min(float(sim[np.ix_(g, g)][~np.eye(len(g), dtype=bool)].mean()) for g in (minor, major))
    if between >= max_between and within - between <= min_gap:
        return None
    return SpeakerGroups(major=major, minor=minor, between=round(between, 3), within=round(within, 3))
