"""The timbre fit: the style's first 128 values and per-voice offsets to the decoder's AdaIN layers.

Teacher-forced with the real durations, pitch and energy, so independent of the prosody. On two cores
or more it runs as two workers (one thread each on two) sharing the parameters and the optimiser: each
takes a snapshot of the parameters, computes its crop's gradient, and applies it under a lock (the
gradient is at most one update old). Two workers make more updates in the same time than one
two-threaded loop (docs/experiments.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .clock import Budget
from .config import SNAPSHOT_EVERY, FitConfig
from .losses import MelLoss, SpeakerLoss
from .model import adain_layers
from .prepare import Crop, PreparedSample

Adapter = dict[str, np.ndarray]
Snapshot = tuple[torch.Tensor, Adapter]  # (timbre half [1, 128], adapter offsets)
Report = Callable[[int, float], None]  # (updates applied, loss)


@dataclass
class _Shared:
    """What the workers share, under the fit's lock."""

    started: int = 0  # updates begun
    done: int = 0  # updates applied
    stop: bool = False
    bad: int = 0  # held-out checks in a row without a better loss (``val_every``)
    best: tuple[float, Snapshot | None] = (float("inf"), None)  # (held-out loss, snapshot)
    error: BaseException | None = None  # raised by the second worker, re-raised on the fitting thread
    losses: list[float] = field(default_factory=list)
    step_times: list[float] = field(default_factory=list)
    snapshots: list[tuple[int, Snapshot]] = field(default_factory=list)


class TimbreFit:
    """The timbre parameters, their optimiser and the workers' shared state."""

    def __init__(
        self,
        decoder: torch.nn.Module,
        prepared: Sequence[PreparedSample],
        s0: torch.Tensor,
        cfg: FitConfig,
        *,
        mel_loss: MelLoss,
        speaker_loss: SpeakerLoss | None,
        rng: np.random.Generator,
        holdout: int | None,
    ) -> None:
        self.decoder, self.prepared, self.cfg = decoder, prepared, cfg
        self.mel_loss, self.speaker_loss, self.rng, self.holdout = mel_loss, speaker_loss, rng, holdout
        self.start = s0[:, :128]
        self.s_t = self.start.clone().requires_grad_(True)
        self.deltas: dict[str, torch.Tensor] = {}
        if cfg.adapters:
            for name, mod in adain_layers(decoder).items():
                self.deltas[name] = torch.zeros(mod.out_features, requires_grad=True)
        groups: list[dict[str, Any]] = [{"params": [self.s_t], "lr": cfg.lr}]
        if self.deltas:
            groups.append({"params": list(self.deltas.values()), "lr": cfg.adapter_lr})
        self.opt = torch.optim.Adam(groups)
        self.local = threading.local()  # each worker's snapshot of the adapter offsets, read by the hooks
        self.lock = threading.Lock()
        self.shared = _Shared()

    @contextmanager
    def adapters_installed(self) -> Iterator[None]:
        """The offsets hooked into the decoder, and removed whatever happens: the decoder is shared."""
        hooks = [
            mod.register_forward_hook(lambda _m, _i, out, name=name: out + self.local.deltas[name])
            for name, mod in adain_layers(self.decoder).items()
            if name in self.deltas
        ]
        self.local.deltas = self.deltas
        try:
            yield
        finally:
            for h in hooks:
                h.remove()

    def decode(self, s_t: torch.Tensor, asr: torch.Tensor, f0: torch.Tensor, N: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.cfg.bf16):
            y = self.decoder(asr, f0, N, s_t)
        return y.float().reshape(asr.shape[0], -1)

    def snapshot(self) -> Snapshot:
        return self.s_t.detach().clone(), {k: d.detach().numpy().copy() for k, d in self.deltas.items()}

    def val_loss(self) -> float | None:
        """Log-mel distance on the centre of the held-out sample (None without one)."""
        if self.holdout is None:
            return None
        p = self.prepared[self.holdout]
        Kv = min(p.real_frames, 2 * self.cfg.crop_frames)
        asr, f0, N, y = p.crop(Kv, self.rng, start=(p.real_frames - Kv) // 2)
        self.local.deltas = self.deltas
        with torch.no_grad():
            return float(self.mel_loss(self.decode(self.s_t, asr, f0, N)[0], y))

    def work(self, budget: Budget, report: Report | None) -> None:
        """One worker's loop: updates until the steps, the budget (past the minimum) or a stop end it."""
        while True:
            begun = self._begin(budget)
            if begun is None:
                return
            s, ds, picks = begun
            ts = time.time()
            loss, grads = self._gradient(s, ds, picks)
            done = self._apply(grads, loss, time.time() - ts)
            if report is not None:
                report(done, float(loss.detach()))

    def _begin(self, budget: Budget) -> tuple[torch.Tensor, dict[str, torch.Tensor], list[Crop]] | None:
        cfg, shared = self.cfg, self.shared
        with self.lock:
            if shared.stop or shared.started >= cfg.steps:
                return None
            # stop so that a step started now still ends within the budget
            recent = float(np.mean(shared.step_times[-4:])) if shared.step_times else 0.0
            if shared.step_times and shared.started >= cfg.min_steps and budget.would_overrun(recent + 1.0):
                return None
            shared.started += 1
            s = self.s_t.detach().clone().requires_grad_(True)
            ds = {k: d.detach().clone().requires_grad_(True) for k, d in self.deltas.items()}
            picks = [self._random_sample().crop(cfg.crop_frames, self.rng) for _ in range(cfg.batch)]
        return s, ds, picks

    def _random_sample(self) -> PreparedSample:
        return self.prepared[int(self.rng.integers(0, len(self.prepared)))]

    def _gradient(
        self, s: torch.Tensor, ds: dict[str, torch.Tensor], picks: list[Crop]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        cfg = self.cfg
        self.local.deltas = ds
        loss = torch.zeros(())
        for asr, f0, N, y in picks:
            yhat = self.decode(s, asr, f0, N)[0]
            n = min(len(yhat), len(y))
            loss = loss + self.mel_loss(yhat[:n], y[:n]) / cfg.batch
            if self.speaker_loss is not None:
                loss = loss + cfg.speaker_weight * self.speaker_loss(yhat) / cfg.batch
        loss = loss + cfg.pull * ((s - self.start) ** 2).mean()
        if ds:
            loss = loss + cfg.adapter_pull * torch.cat(list(ds.values())).pow(2).mean()
        return loss, torch.autograd.grad(loss, [s, *ds.values()])

    def _apply(self, grads: tuple[torch.Tensor, ...], loss: torch.Tensor, seconds: float) -> int:
        cfg, shared = self.cfg, self.shared
        with self.lock:
            self.s_t.grad = grads[0]
            for d, g in zip(self.deltas.values(), grads[1:], strict=True):
                d.grad = g
            self.opt.step()
            shared.done += 1
            step = shared.done
            if step % SNAPSHOT_EVERY == 0:
                shared.snapshots.append((step, self.snapshot()))
            shared.losses.append(float(loss.detach()))
            shared.step_times.append(seconds)
            if self.holdout is not None and cfg.val_every and step % cfg.val_every == 0:
                self._check_holdout()
        return step

    def _check_holdout(self) -> None:
        shared = self.shared
        vl = self.val_loss()
        assert vl is not None
        if vl < shared.best[0] - 1e-3:
            shared.best, shared.bad = (vl, self.snapshot()), 0
        else:
            shared.bad += 1
        shared.stop = shared.bad >= 3

    def average_tail(self, fraction: float) -> int:
        """End on the mean of the last ``fraction`` of the updates; returns how many points were averaged."""
        return average_tail(self.s_t, self.deltas, self.shared.snapshots, self.shared.done, fraction)


@torch.no_grad()
def average_tail(
    s_t: torch.Tensor,
    deltas: dict[str, torch.Tensor],
    snapshots: list[tuple[int, Snapshot]],
    n_done: int,
    fraction: float,
) -> int:
    """Set the parameters to their mean over the snapshots of the last ``fraction`` of the updates and
    the end point (Polyak averaging); returns how many points were averaged (1: left as they are)."""
    if fraction <= 0 or not n_done:
        return 1
    first = int((1 - fraction) * n_done) // SNAPSHOT_EVERY * SNAPSHOT_EVERY
    points = [snap for k, snap in snapshots if first <= k < n_done]
    points.append((s_t.detach().clone(), {k: d.detach().numpy().copy() for k, d in deltas.items()}))
    s_t.copy_(torch.stack([s for s, _ in points]).mean(0))
    for name, d in deltas.items():
        d.copy_(torch.from_numpy(np.mean([a[name] for _, a in points], axis=0)))
    return len(points)
