"""The enrollment verdict: what the user is told the fit achieved, and how it caps the score."""

from __future__ import annotations

import numpy as np
import pytest

from realvoice.engines.base import VoiceModel
from realvoice.verdict import fit_verdict


def _model(method: str, timbre_steps: float | None = None, **params) -> VoiceModel:
    metrics = {} if timbre_steps is None else {"timbre_steps": timbre_steps}
    return VoiceModel("kokoro", "v", method, {"style": np.zeros((2, 256), np.float32)}, params, metrics)


@pytest.mark.parametrize(
    ("model", "outcome", "code", "cap"),
    [
        (_model("fitted-adapter-fast", fit_kept=True, fit_share=1.0), "fitted", None, 100),
        (_model("fitted-adapter-fast"), "fitted", None, 100),  # voices saved before blends existed
        (_model("fitted-adapter-fast", fit_kept=True, fit_share=0.35), "partly_fitted", "partly_fitted", 79),
        (_model("nearest-stock", start_voice="jf_alpha", fit_kept=False), "stock", "stock_voice", 40),
        (_model("nearest-stock", stock_voice="jm_kumo"), "stock", "stock_voice", 40),
        (_model("fitted-adapter-fast", fit_share=1.0, timbre_steps=4.0), "partly_fitted", "rough_fit", 79),
        (_model("fitted-adapter-fast", fit_share=1.0, timbre_steps=60.0), "fitted", None, 100),
    ],
)
def test_the_verdict_follows_what_the_engine_kept(model, outcome, code, cap):
    verdict = fit_verdict(model)
    assert (verdict.outcome, verdict.code) == (outcome, code)
    assert verdict.cap(98.0) == min(98.0, cap) and verdict.cap(30.0) == 30.0
    assert (verdict.message is None) == (outcome == "fitted")


def test_a_rejected_fit_names_the_stranger_and_what_to_do():
    message = fit_verdict(_model("nearest-stock", start_voice="jf_alpha", fit_kept=False)).message or ""
    assert "jf_alpha" in message and "not yours" in message and "quiet room" in message
    partly = fit_verdict(_model("fitted-style-fast", fit_share=0.6)).message or ""
    assert "60%" in partly and "partly" in partly
