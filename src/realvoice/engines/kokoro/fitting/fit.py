"""A fit of one voice: the prepared samples, the prosody and timbre fits side by side, a typed result."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from ....audio.spectrum import shared_bandwidth_hz
from ....progress import Progress, Stages
from .clock import Budget
from .config import FALLBACK_AT, SR, FitConfig
from .cpu_load import pick_threads
from .losses import MelLoss, SpeakerLoss
from .model import bf16_decoder, native_bf16
from .prepare import PreparedSample, Synthesize, prepare_samples, speech_seconds
from .prosody import ProsodyFit, ProsodyLoss, ProsodyOutcome
from .timbre import Adapter, Snapshot, TimbreFit


@dataclass(frozen=True)
class FitPoint:
    """A voice the fit reached: the 256 style values and the adapter offsets (empty without adapters)."""

    style: np.ndarray
    adapter: Adapter
    step: int  # the updates made when it was taken


@dataclass(frozen=True)
class FitStats:
    """How the fit went, for the voice's report and the benches (the held-out and movement figures are
    filled in once the end point is known)."""

    mode: str
    threads: int
    seconds: float
    prep_seconds: float
    timbre_seconds: float
    prosody_seconds: float
    timbre_steps: int
    timbre_workers: int
    bf16: bool
    averaged_points: int
    step_seconds: tuple[float, ...]
    timbre_curve: tuple[float, ...]
    val_logmel_start: float | None
    val_logmel_end: float | None
    prosody_curve: tuple[float, ...]
    prosody_start: ProsodyLoss
    prosody_end: ProsodyLoss
    loss_fmax_hz: float
    speech_seconds: float
    duration_ratio_pred_over_real: float
    style_shift: float  # mean absolute move of the 256 values from the start
    adapter_rms: float

    @property
    def sec_per_step(self) -> float:
        return self.timbre_seconds / self.timbre_steps if self.timbre_steps else 0.0


@dataclass(frozen=True)
class FitResult:
    end: FitPoint  # what the fit ends on (averaged, or the best held-out snapshot)
    earlier: FitPoint | None  # a point about FALLBACK_AT of the way, for a validation that rejects the end
    stats: FitStats


@dataclass(frozen=True)
class Speaker:
    """The speaker term: Resemblyzer's torch encoder and the samples' embedding."""

    encoder: Any
    embedding: np.ndarray


def fit_style(
    model: Any,
    samples: Sequence[tuple[np.ndarray, str]],
    start_style: np.ndarray,
    cfg: FitConfig,
    *,
    progress: Progress | None = None,
    synthesize: Synthesize | None = None,
    speaker: Speaker | None = None,
    threads: int | None = None,
    seed: int = 0,
    holdout: bool = True,
) -> FitResult:
    """Fit a Kokoro style (and adapters) to recordings given as (audio at 24 kHz, phonemes).

    ``threads``: None decides from the machine; a number sets torch's threads (two or more: two workers).
    """
    budget = Budget(cfg.time_budget_s)
    cfg = replace(cfg, bf16=cfg.bf16 and native_bf16())
    workers, timbre_threads = _thread_layout(threads)
    # the preparation and the prosody fit (small LSTMs) run faster on one thread; the decoder's
    # convolutions in the timbre fit gain from more
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    stages = Stages(progress, prepare=0.15, timbre=0.85)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)

    s0 = torch.tensor(np.asarray(start_style, np.float32).reshape(1, 256))
    prep = prepare_samples(
        model, samples, start_style, progress=stages.within("prepare"), bf16=cfg.bf16, synthesize=synthesize
    )
    t_prep = budget.elapsed()
    fmax = shared_bandwidth_hz([p.audio for p in prep], SR)
    speaker_loss = SpeakerLoss(speaker.encoder, speaker.embedding) if speaker and cfg.speaker_weight > 0 else None
    # the longest sample's centre crop (also trained on) measures the fit's spectral distance; with
    # ``val_every`` it also picks the best snapshot and stops early
    held = max(range(len(prep)), key=lambda i: prep[i].real_frames) if holdout and len(prep) >= 3 else None
    decoder = bf16_decoder(model) if cfg.bf16 else model.decoder
    timbre = TimbreFit(decoder, prep, s0, cfg, mel_loss=MelLoss(fmax), speaker_loss=speaker_loss, rng=rng, holdout=held)
    prosody = ProsodyFit(model, prep, s0, cfg)

    def report(step: int, loss: float) -> None:
        stages.within("timbre")(step / cfg.steps, f"timbre step {step}/{cfg.steps} loss {loss:.3f}")

    t_timbre0 = time.time()
    with timbre.adapters_installed():
        v_start = timbre.val_loss()
        timbre.shared.best = (float("inf"), timbre.snapshot())  # never revert to the start style itself
        outcome = _run_side_by_side(timbre, prosody, budget, workers, timbre_threads, report)
        averaged = timbre.average_tail(cfg.average_tail)
        v_end = timbre.val_loss()
    kept_loss: float | None
    kept_loss, kept = timbre.shared.best
    if v_end is None or not kept_loss < v_end:  # keep an earlier snapshot only if it held out better
        kept_loss, kept = v_end, timbre.snapshot()
    assert kept is not None
    end = _point(kept, outcome.row, timbre.shared.done)
    t_timbre = time.time() - t_timbre0
    stats = _stats(cfg, budget, t_prep, t_timbre, outcome, timbre, workers, averaged, prep)
    shift, adapter_rms = _moved(end, s0)
    stats = replace(
        stats,
        val_logmel_start=v_start,
        val_logmel_end=kept_loss,
        loss_fmax_hz=fmax,
        style_shift=shift,
        adapter_rms=adapter_rms,
    )
    stages.done("done")
    return FitResult(end=end, earlier=_earlier(timbre, outcome.row, end.adapter), stats=stats)


def _thread_layout(threads: int | None) -> tuple[int, int]:
    """(timbre workers, torch threads for the timbre fit), with torch set to the latter."""
    if threads is None:
        # two one-thread workers never wait for each other (unlike the threads inside one operation),
        # so a core that other work keeps busy costs them only its share: on two cores they always run
        cores = os.cpu_count() or 1
        workers = 2 if cores >= 2 else 1
        if cores > 2:
            pick_threads()  # how many threads to share between the workers
        else:
            torch.set_num_threads(cores)
    else:
        if threads:
            torch.set_num_threads(threads)
        workers = 2 if torch.get_num_threads() >= 2 else 1
    return workers, torch.get_num_threads()


def _run_side_by_side(
    timbre: TimbreFit,
    prosody: ProsodyFit,
    budget: Budget,
    workers: int,
    timbre_threads: int,
    report: Any,
) -> ProsodyOutcome:
    """The prosody fit and the timbre workers; on one worker one after the other, else the second
    worker fits the prosody first (its small LSTMs gain nothing from a second thread)."""
    if workers == 1:
        outcome = prosody.run(budget)
        torch.set_num_threads(timbre_threads)
        timbre.work(budget, report)
        return outcome
    found: list[ProsodyOutcome] = []

    def second_worker() -> None:
        try:
            found.append(prosody.run(budget))
            timbre.work(budget, None)
        except BaseException as exc:  # re-raised on the fitting thread
            timbre.shared.error, timbre.shared.stop = exc, True

    torch.set_num_threads(max(1, timbre_threads // workers))  # a new thread starts with the process-wide setting
    helper = threading.Thread(target=second_worker, name="fit-worker", daemon=True)
    helper.start()
    try:
        timbre.work(budget, report)
    finally:
        timbre.shared.stop = True
        helper.join()
        torch.set_num_threads(timbre_threads)
    if timbre.shared.error is not None:
        raise timbre.shared.error
    return found[0]


def _point(snapshot: Snapshot, prosody_row: torch.Tensor, step: int) -> FitPoint:
    """The 256 values (a timbre half and the fitted prosody half) and the adapter of a snapshot."""
    timbre_half, adapter = snapshot
    style = torch.cat([timbre_half, prosody_row], dim=1).reshape(256).numpy().astype(np.float32)
    return FitPoint(style=style, adapter=adapter, step=step)


def _earlier(timbre: TimbreFit, prosody_row: torch.Tensor, end_adapter: Adapter) -> FitPoint | None:
    earlier = [(k, snap) for k, snap in timbre.shared.snapshots if k <= FALLBACK_AT * timbre.shared.done]
    if not earlier:
        return None
    k, (s_k, adapter_k) = earlier[-1]
    return _point((s_k, adapter_k if end_adapter else {}), prosody_row, k)


def _moved(end: FitPoint, s0: torch.Tensor) -> tuple[float, float]:
    """How far the end point is from the start: the style's mean absolute move and the adapters' RMS."""
    adapter = end.adapter
    rms = float(np.sqrt(np.mean(np.concatenate(list(adapter.values())) ** 2))) if adapter else 0.0
    return float(np.abs(end.style - s0.numpy().reshape(256)).mean()), rms


def _stats(
    cfg: FitConfig,
    budget: Budget,
    t_prep: float,
    t_timbre: float,
    outcome: ProsodyOutcome,
    timbre: TimbreFit,
    workers: int,
    averaged: int,
    prep: Sequence[PreparedSample],
) -> FitStats:
    shared = timbre.shared
    return FitStats(
        mode=cfg.mode,
        threads=torch.get_num_threads(),
        seconds=budget.elapsed(),
        prep_seconds=t_prep,
        timbre_seconds=t_timbre,
        prosody_seconds=outcome.seconds,
        timbre_steps=shared.done,
        timbre_workers=workers,
        bf16=cfg.bf16,
        averaged_points=averaged,
        step_seconds=tuple(round(x, 3) for x in shared.step_times),
        timbre_curve=tuple(round(x, 4) for x in shared.losses),
        val_logmel_start=None,
        val_logmel_end=None,
        prosody_curve=tuple(round(x, 4) for x in outcome.curve),
        prosody_start=outcome.start,
        prosody_end=outcome.end,
        loss_fmax_hz=0.0,
        speech_seconds=speech_seconds(prep),
        duration_ratio_pred_over_real=float(sum(p.pred_frames for p in prep) / sum(p.real_frames for p in prep)),
        style_shift=0.0,
        adapter_rms=0.0,
    )
