"""The fit's measurements of a recording: pitch on Kokoro's frame grid."""

import numpy as np
import pytest
import soundfile as sf

from realvoice.audio import resample
from realvoice.engines.kokoro import fit

from ..helpers import vowel


@pytest.mark.parametrize("f0", [85.0, 120.0, 230.0])
def test_real_f0_reads_the_pitch_on_the_80_hz_grid(f0):
    x = np.concatenate([np.zeros(int(0.2 * fit.SR)), vowel(f0, 1.0, fit.SR)]).astype(np.float32)
    n80 = len(x) // fit.F0_HOP
    curve = fit.real_f0(x, n80)
    assert curve.shape == (n80,)
    voiced = np.flatnonzero(curve > 0)
    assert abs(voiced[0] - 16) <= 3  # the silence is 0.2 s = 16 frames of 12.5 ms
    assert np.median(curve[voiced]) == pytest.approx(f0, rel=0.03)


@pytest.mark.slow
def test_a_low_male_voice_is_not_read_an_octave_up(piper_samples):
    """WORLD's dio read Piper's joe (about 90 Hz) at 160-184 Hz; the fit then started from a female
    voice and learned from doubled pitch."""
    for path in piper_samples[:3]:
        x, sr = sf.read(path, dtype="float32")
        assert 75 < fit.speech_median_f0(fit.trim_and_normalise(resample(x, sr, fit.SR))) < 115


@pytest.mark.slow
def test_the_fits_speaker_term_hears_what_resemblyzer_hears(piper_samples):
    """The speaker term rebuilds Resemblyzer's input in torch (16 kHz, level, power mel) so gradients
    reach the style; its embedding must agree with the library's own, and tell two voices apart."""
    import torch

    from realvoice.analysis import SpeakerEncoder, cosine

    encoder = SpeakerEncoder.load()
    x, sr = sf.read(piper_samples[0], dtype="float32")
    joe = resample(x, sr, fit.SR)
    term = fit._SpeakerLoss(encoder.module, encoder.embed(joe, fit.SR))
    y = torch.tensor(joe, requires_grad=True)
    assert cosine(term.embed(y).detach().numpy(), encoder.embed(joe, fit.SR)) > 0.9
    loss = term(y)
    loss.backward()
    assert float(loss) < 0.1 and y.grad is not None and torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0
    vowel_clip = torch.tensor(vowel(220.0, 2.0, fit.SR).astype(np.float32))
    assert float(term(vowel_clip)) > float(loss) + 0.1  # a sung vowel is not joe


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fast", "style"])
def test_fast_fits_adapters_and_style_mode_fits_the_style_alone(service, piper_samples, mode):
    """The default fit also moves per-voice offsets of the decoder's AdaIN biases; "style" does not."""
    engine = service.engine  # the session's engine: its PyTorch copy is built once
    x, sr = sf.read(piper_samples[0], dtype="float32")
    text = "The quick brown fox jumps over the lazy dog."  # a stand-in transcript: only the mechanics matter
    start = next(iter(engine._stock.values()))[40]
    style, metrics = fit.fit_style(
        engine.torch_model(),
        [(resample(x, sr, fit.SR), engine.phonemize(text))],
        start,
        mode=mode,
        steps=2,
        prosody_steps=1,
        time_budget_s=None,
        holdout=False,
        threads=None,
    )
    assert style.shape == (256,) and np.all(np.isfinite(style)) and metrics["timbre_steps"] == 2
    adapter = metrics.get("adapter")
    if mode == "fast":
        assert adapter and len(adapter) == 58 and metrics["adapter_rms"] > 0
        assert all(np.all(np.isfinite(v)) for v in adapter.values())
    else:
        assert adapter is None and metrics["adapter_rms"] == 0.0


def test_a_busy_core_is_seen_and_this_process_idle_is_not_counted():
    """The fit's thread choice looks at what other work uses now (the load average would also count
    this process's own intake and transcription a second earlier)."""
    import os
    import sys
    import threading
    import time

    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc/stat")
    stop = time.perf_counter() + 1.5

    def spin():
        while time.perf_counter() < stop:
            pass

    t = threading.Thread(target=spin)
    t.start()
    busy = fit.others_busy_cores(0.5)
    t.join()
    assert busy is not None and 0.6 < busy <= (os.cpu_count() or 1) + 0.01


def test_workers_spinning_for_a_moment_do_not_cost_the_fit_its_second_thread(monkeypatch):
    """Worker threads can still be busy for a moment after the work just before the fit: one busy
    reading is looked at again; two busy readings mean one thread without the timing trial."""
    import torch

    class TrialStarted(Exception):
        pass

    def no_trial(*_a, **_k):
        raise TrialStarted

    threads = torch.get_num_threads()
    monkeypatch.setattr(fit.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(fit.torch, "randn", no_trial)
    try:
        readings = iter([0.5, 0.6])
        monkeypatch.setattr(fit, "others_busy_cores", lambda window_s=0.2: next(readings))
        assert fit.pick_threads() == 1
        readings = iter([0.5, 0.05])
        with pytest.raises(TrialStarted):  # the second look found the cores free: the trial runs
            fit.pick_threads()
    finally:
        torch.set_num_threads(threads)
