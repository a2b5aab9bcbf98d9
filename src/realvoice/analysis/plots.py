"""One PNG per voice: pitch histogram, per-sample quality and speaker consistency, for people to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..models import SampleReport
from ..samples.intake import SAME_SPEAKER_MIN

ACCEPTED, REJECTED = "#55a868", "#c44e52"


def voice_report_png(path: Path, f0_values: np.ndarray, reports: list[SampleReport], title: str) -> Path:
    fig = report_figure(f0_values, reports, title)
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def report_figure(f0_values: np.ndarray, reports: list[SampleReport], title: str) -> Any:
    """The report's three charts as a matplotlib figure (the caller saves and closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), constrained_layout=True)
    _pitch(axes[0], f0_values)
    names = [r.file[:14] for r in reports]
    colors = [ACCEPTED if r.accepted else REJECTED for r in reports]
    # the colour is explained only where it appears: a key to a colour not drawn misleads
    key = " (red: rejected)" if any(not r.accepted for r in reports) else ""
    axes[1].barh(names, [r.quality for r in reports], color=colors)
    axes[1].set(title=f"Sample quality{key}", xlim=(0, 100), xlabel="0-100")
    axes[1].invert_yaxis()
    _similarity(axes[2], names, reports, colors)
    fig.suptitle(title)
    return fig


def _pitch(ax: Any, f0_values: np.ndarray) -> None:
    f0 = np.asarray(f0_values, float)
    f0 = f0[f0 > 0]
    if f0.size:
        ax.hist(f0, bins=40, color="#4c72b0")
        ax.axvline(float(np.median(f0)), color="k", linestyle="--", label=f"median {np.median(f0):.0f} Hz")
        ax.legend()
    ax.set(title="Pitch", xlabel="F0 (Hz)", ylabel="frames")


def _similarity(ax: Any, names: list[str], reports: list[SampleReport], colors: list[str]) -> None:
    """Each sample's likeness to the others, against the line the sample check itself uses."""
    sims = [r.speaker_similarity if r.speaker_similarity is not None else 0.0 for r in reports]
    ax.barh(names, sims, color=colors)
    ax.axvline(
        SAME_SPEAKER_MIN, color="k", linestyle=":", label=f"sample check: same speaker from {SAME_SPEAKER_MIN:.2f}"
    )
    ax.set(title="Similarity to the other samples", xlim=(0, 1))
    ax.invert_yaxis()
    # below the axis, where no bar can be: a legend inside a bar chart hides a bar
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, frameon=False)
