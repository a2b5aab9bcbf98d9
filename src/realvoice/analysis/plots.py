"""One PNG per voice: pitch histogram, per-sample quality and speaker consistency, for people to look at."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..models import SampleReport


def voice_report_png(path: Path, f0_values: np.ndarray, reports: list[SampleReport], title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), constrained_layout=True)
    ax = axes[0]
    f0 = np.asarray(f0_values, float)
    f0 = f0[f0 > 0]
    if f0.size:
        ax.hist(f0, bins=40, color="#4c72b0")
        ax.axvline(float(np.median(f0)), color="k", linestyle="--", label=f"median {np.median(f0):.0f} Hz")
        ax.legend()
    ax.set(title="Pitch", xlabel="F0 (Hz)", ylabel="frames")

    names = [r.file[:14] for r in reports]
    colors = ["#55a868" if r.accepted else "#c44e52" for r in reports]
    axes[1].barh(names, [r.quality for r in reports], color=colors)
    axes[1].set(title="Sample quality (red: rejected)", xlim=(0, 100), xlabel="0-100")
    axes[1].invert_yaxis()

    sims = [r.speaker_similarity if r.speaker_similarity is not None else 0.0 for r in reports]
    axes[2].barh(names, sims, color=colors)
    axes[2].axvline(0.70, color="k", linestyle=":", label="same-speaker threshold")
    axes[2].set(title="Similarity to the other samples", xlim=(0, 1))
    axes[2].invert_yaxis()
    axes[2].legend(loc="lower left", fontsize=8)
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
