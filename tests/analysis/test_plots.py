"""The report picture says what it shows: a key only for colours drawn, the sample check's own line, no
legend over a bar."""

from __future__ import annotations

import numpy as np
import pytest

from realvoice.analysis.plots import report_figure, voice_report_png
from realvoice.models import SampleReport
from realvoice.samples.intake import SAME_SPEAKER_MIN


def reports(rejected: int = 0) -> list[SampleReport]:
    """Six samples with wide bars (a legend at the lower left would sit on the last ones)."""
    return [
        SampleReport(file=f"sample-{i}.wav", accepted=i >= rejected, quality=90.0, speaker_similarity=0.95)
        for i in range(6)
    ]


F0 = np.random.default_rng(0).normal(120, 15, 2000)


@pytest.fixture
def figure():
    import matplotlib.pyplot as plt

    made = []

    def make(**kwargs):
        made.append(report_figure(F0, reports(**kwargs), "Joe — 90/100"))
        return made[-1]

    yield make
    for fig in made:
        plt.close(fig)


def test_red_is_named_only_when_a_sample_was_rejected(figure):
    assert "red" not in figure().axes[1].get_title()
    assert figure(rejected=1).axes[1].get_title() == "Sample quality (red: rejected)"


def test_the_similarity_line_is_the_sample_checks_own(figure):
    ax = figure().axes[2]
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert len(dotted) == 1
    assert set(dotted[0].get_xdata()) == {SAME_SPEAKER_MIN}
    assert f"{SAME_SPEAKER_MIN:.2f}" in dotted[0].get_label()


def test_the_legend_covers_no_bar(figure):
    fig = figure()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[2]
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [patch.get_window_extent(renderer) for patch in ax.patches]
    assert len(bars) == 6
    assert not any(legend.overlaps(bar) for bar in bars)
    assert legend.y1 <= ax.get_window_extent(renderer).y0  # below the chart, not on it


def test_the_picture_is_written(tmp_path):
    path = voice_report_png(tmp_path / "r.png", F0, reports(rejected=2), "Joe")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
