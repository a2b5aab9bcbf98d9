"""How busy other processes keep the CPU, and how many threads a fit should use because of it."""

from __future__ import annotations

import os
import time

import torch
import torch.nn.functional as F

# a core counts as taken when other processes keep this share of it busy
BUSY_CORES = 0.3


def _cpu_jiffies() -> tuple[int, int, int]:
    """All jiffies, idle + iowait, and this process's user + system time (the same clock ticks)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    with open("/proc/self/stat") as f:
        own = f.read().rsplit(")", 1)[1].split()
    return sum(v), v[3] + v[4], int(own[11]) + int(own[12])


def busy_between(before: tuple[int, int, int], after: tuple[int, int, int], cores: int) -> float | None:
    """Cores other processes kept busy between two ``_cpu_jiffies`` readings."""
    total = after[0] - before[0]
    if total <= 0:
        return None
    others = total - (after[1] - before[1]) - (after[2] - before[2])
    return max(0.0, cores * others / total)


def others_busy_cores(window_s: float = 0.2) -> float | None:
    """How many cores other processes keep busy right now (this thread sleeps while it looks); None
    where /proc is missing. This process's own threads are left out: onnxruntime's workers go on
    spinning for a moment after a synthesis, and the load average would count the intake and
    transcription just before the fit."""
    try:
        before = _cpu_jiffies()
        time.sleep(window_s)
        after = _cpu_jiffies()
    except (OSError, ValueError, IndexError):
        return None
    return busy_between(before, after, os.cpu_count() or 1)


def pick_threads(max_threads: int | None = None) -> int:
    """1 or N threads, set in torch and returned: on a busy machine synchronising threads can be
    several times slower than one, so one is used whenever another process holds a core."""
    n = max_threads or os.cpu_count() or 1
    busy = others_busy_cores()
    if busy is not None and busy > BUSY_CORES:
        # other work can be busy for a moment: look once more before settling for one thread
        busy = min(busy, others_busy_cores() or 0.0)
    if n <= 1 or (busy if busy is not None else os.getloadavg()[0]) > BUSY_CORES:
        torch.set_num_threads(1)
        return 1
    best = _fastest_thread_count(n)
    torch.set_num_threads(best)
    return best


def _fastest_thread_count(n: int) -> int:
    """1 or ``n``: whichever runs a decoder-sized convolution faster here (``n`` must win by 15 %)."""
    x = torch.randn(1, 256, 6000)
    w = torch.randn(256, 256, 7)
    best, best_t = 1, float("inf")
    for th in (1, n):
        torch.set_num_threads(th)
        ts = []
        with torch.no_grad():
            for _ in range(3):
                t = time.perf_counter()
                F.conv1d(x, w, padding=3)
                ts.append(time.perf_counter() - t)
        t = min(ts[1:])
        if t < best_t * 0.85 or th == 1:
            best, best_t = th, min(t, best_t)
    return best
