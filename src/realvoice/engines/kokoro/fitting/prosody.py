"""The prosody fit: the style's last 128 values, which drive the predictor's durations, pitch and energy."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .clock import Budget
from .config import FitConfig
from .model import predict
from .prepare import PreparedSample


@dataclass(frozen=True)
class ProsodyLoss:
    """Mean error over the samples: frames per token, pitch in tens of Hz, energy."""

    dur: float
    f0_hz10: float
    N: float


@dataclass(frozen=True)
class ProsodyOutcome:
    row: torch.Tensor  # [1, 128]
    start: ProsodyLoss
    end: ProsodyLoss
    curve: tuple[float, ...]
    seconds: float


class ProsodyFit:
    """Adam on the prosody half so the predictor, at the real durations, matches the real pitch and energy."""

    def __init__(self, model: Any, prepared: Sequence[PreparedSample], s0: torch.Tensor, cfg: FitConfig) -> None:
        self.model, self.prepared, self.cfg = model, prepared, cfg
        self.start = s0[:, 128:]
        self.row = self.start.clone().requires_grad_(True)

    def loss(self) -> tuple[torch.Tensor, ProsodyLoss]:
        total, parts = torch.zeros(()), np.zeros(3)
        n = len(self.prepared)
        for p in self.prepared:
            dur_cont, _, _, F0, N = predict(self.model, p.text, self.row, dur=p.dur)
            ld = (dur_cont[1:-1] - p.dur[1:-1].float()).abs().mean()
            voiced = p.f0 > 0
            f0h = F0[0, : p.f0.shape[0]]
            lf = ((f0h - p.f0).abs()[voiced].mean() / 10.0) if voiced.any() else torch.tensor(0.0)
            ln = (N[0, : p.N.shape[0]] - p.N).abs().mean()
            total = total + (ld + lf + ln) / n
            parts += np.array([float(ld.detach()), float(lf.detach()), float(ln.detach())]) / n
        total = total + self.cfg.pull * ((self.row - self.start) ** 2).mean()
        return total, ProsodyLoss(*(float(x) for x in parts))

    def run(self, budget: Budget) -> ProsodyOutcome:
        """At most ``prosody_steps`` updates, and none begun past half the budget (the timbre needs the rest)."""
        t0 = time.time()
        opt = torch.optim.Adam([self.row], lr=self.cfg.prosody_lr)
        with torch.no_grad():
            start = self.loss()[1]
        curve = []
        for _ in range(self.cfg.prosody_steps):
            opt.zero_grad()
            loss = self.loss()[0]
            loss.backward()
            opt.step()
            curve.append(float(loss.detach()))
            if budget.seconds is not None and budget.used_share() > 0.5:
                break
        with torch.no_grad():
            end = self.loss()[1]
        return ProsodyOutcome(self.row.detach(), start, end, tuple(curve), time.time() - t0)
