"""The fit's measurements of a recording: pitch on Kokoro's frame grid."""

import numpy as np
import pytest
import soundfile as sf

from realvoice.audio import resample
from realvoice.engines.kokoro import fitting
from realvoice.engines.kokoro.fitting import config, cpu_load, losses, prosody, signals, timbre
from realvoice.engines.kokoro.fitting import model as kmodel

from ..helpers import vowel


@pytest.mark.parametrize("f0", [85.0, 120.0, 230.0])
def test_real_f0_reads_the_pitch_on_the_80_hz_grid(f0):
    x = np.concatenate([np.zeros(int(0.2 * config.SR)), vowel(f0, 1.0, config.SR)]).astype(np.float32)
    n80 = len(x) // config.F0_HOP
    curve = signals.real_f0(x, n80)
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
        assert 75 < signals.speech_median_f0(signals.trim_and_normalise(resample(x, sr, config.SR))) < 115


@pytest.mark.slow
def test_the_fits_speaker_term_hears_what_resemblyzer_hears(piper_samples):
    """The speaker term rebuilds Resemblyzer's input in torch (16 kHz, level, power mel) so gradients
    reach the style; its embedding must agree with the library's own, and tell two voices apart."""
    import torch

    from realvoice.analysis import SpeakerEncoder, cosine

    encoder = SpeakerEncoder.load()
    x, sr = sf.read(piper_samples[0], dtype="float32")
    joe = resample(x, sr, config.SR)
    term = losses.SpeakerLoss(encoder.module, encoder.embed(joe, config.SR))
    y = torch.tensor(joe, requires_grad=True)
    assert cosine(term.embed(y).detach().numpy(), encoder.embed(joe, config.SR)) > 0.9
    loss = term(y)
    loss.backward()
    assert float(loss) < 0.1 and y.grad is not None and torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0
    vowel_clip = torch.tensor(vowel(220.0, 2.0, config.SR).astype(np.float32))
    assert float(term(vowel_clip)) > float(loss) + 0.1  # a sung vowel is not joe


def _short_fit(engine, piper_samples, mode="fast", threads=None, **options):
    x, sr = sf.read(piper_samples[0], dtype="float32")
    text = "The quick brown fox jumps over the lazy dog."  # a stand-in transcript: only the mechanics matter
    start = next(iter(engine._stock.values()))[40]
    cfg = config.config_for(mode, **{"steps": 2, "prosody_steps": 1, "time_budget_s": None, **options})
    samples = [(resample(x, sr, config.SR), engine.phonemize(text))]
    return fitting.fit_style(engine.torch_model(), samples, start, cfg, threads=threads, holdout=False)


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "threads"), [("fast", 2), ("style", 1)])
def test_fast_fits_adapters_and_style_mode_fits_the_style_alone(service, piper_samples, mode, threads):
    """The default fit also moves per-voice offsets of the decoder's AdaIN biases; "style" does not.
    On two threads the timbre fit runs as two workers sharing one optimiser: still exactly ``steps``
    updates."""
    import torch

    before = torch.get_num_threads()
    try:
        result = _short_fit(service.engine, piper_samples, mode=mode, threads=threads)
    finally:
        torch.set_num_threads(before)
    style, stats = result.end.style, result.stats
    assert style.shape == (256,) and np.all(np.isfinite(style)) and stats.timbre_steps == 2
    assert stats.timbre_workers == threads
    adapter = result.end.adapter
    if mode == "fast":
        assert adapter and len(adapter) == 58 and stats.adapter_rms > 0
        assert all(np.all(np.isfinite(v)) for v in adapter.values())
    else:
        assert adapter == {} and stats.adapter_rms == 0.0


@pytest.mark.slow
def test_a_fit_past_its_time_budget_still_makes_its_minimum_of_updates(service, piper_samples):
    """On a busy machine the clock runs out early; the fit keeps going to its minimum rather than hand
    back a rough draft (the fast mode's budget and minimum, shrunk to a test's size)."""
    result = _short_fit(service.engine, piper_samples, steps=6, min_steps=4, time_budget_s=1e-3)
    assert result.stats.timbre_steps == 4


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
def test_a_failing_prosody_fit_fails_the_fit_on_either_thread_layout(service, piper_samples, monkeypatch, threads):
    """On two threads the prosody is fitted by the second worker; its error must reach the caller."""
    import torch

    predict = prosody.predict

    def broken(model, text, s_pros, dur=None):
        if dur is not None:  # the prosody fit's call (the preparation predicts its own durations)
            raise RuntimeError("prosody broke")
        return predict(model, text, s_pros, dur)

    monkeypatch.setattr(prosody, "predict", broken)
    before = torch.get_num_threads()
    try:
        with pytest.raises(RuntimeError, match="prosody broke"):
            _short_fit(service.engine, piper_samples, threads=threads)
    finally:
        torch.set_num_threads(before)
    model = service.engine.torch_model()
    for decoder in (model.decoder, getattr(model, "_bf16_decoder", model.decoder)):  # whichever the fit used
        assert not any(m._forward_hooks for m in decoder.modules())  # the failed fit's offsets are gone


@pytest.mark.slow
def test_the_bf16_decoder_copy_decodes_exactly_as_autocast_does(service):
    """The fast fit decodes with a copy whose convolution and linear weights are stored in bf16; under
    autocast that is what the fp32 weights are cast to on every call, so the audio must be identical."""
    import torch

    model = service.engine.torch_model()
    gen = torch.Generator().manual_seed(0)
    frames = 24
    asr = torch.randn(1, 512, frames, generator=gen)
    f0 = 120.0 + 20.0 * torch.rand(1, 2 * frames, generator=gen)
    energy = torch.randn(1, 2 * frames, generator=gen)
    style = torch.randn(1, 128, generator=gen) * 0.2
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        reference = model.decoder(asr, f0, energy, style).float()
        copied = kmodel.bf16_decoder(model)(asr, f0, energy, style).float()
    assert kmodel.bf16_decoder(model) is kmodel.bf16_decoder(model)  # made once per model
    assert next(kmodel.bf16_decoder(model).parameters()).dtype == torch.bfloat16
    assert model.decoder.generator.conv_post.weight.dtype == torch.float32  # the fp32 model is untouched
    assert reference.abs().max() > 0 and torch.equal(reference, copied)


def test_busy_cores_count_other_processes_and_leave_this_one_out():
    """The fit's thread choice looks at what other processes use now: the load average would also
    count this process's own intake and transcription a second earlier, and onnxruntime's worker
    threads go on spinning for a moment after a synthesis. Readings are (all, idle, own) jiffies."""
    assert cpu_load.busy_between((1000, 600, 50), (1200, 700, 50), cores=2) == pytest.approx(1.0)  # another process
    assert cpu_load.busy_between((1000, 600, 50), (1200, 700, 150), cores=2) == pytest.approx(0.0)  # our own threads
    assert cpu_load.busy_between((1000, 600, 50), (1200, 650, 150), cores=2) == pytest.approx(0.5)  # both
    assert cpu_load.busy_between((1000, 600, 50), (1000, 600, 50), cores=2) is None  # no time passed


def test_busy_cores_are_read_from_proc():
    import os
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc/stat")
    busy = cpu_load.others_busy_cores(0.1)  # whatever else runs on the machine now: only its range is known
    assert busy is not None and 0.0 <= busy <= (os.cpu_count() or 1) + 0.01


def test_a_moment_of_other_work_does_not_cost_the_fit_its_second_thread(monkeypatch):
    """One busy reading is looked at again; two busy readings mean one thread without the timing trial."""
    import torch

    class TrialStarted(Exception):
        pass

    def no_trial(*_a, **_k):
        raise TrialStarted

    threads = torch.get_num_threads()
    monkeypatch.setattr(cpu_load.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(cpu_load.torch, "randn", no_trial)
    try:
        readings = iter([0.5, 0.6])
        monkeypatch.setattr(cpu_load, "others_busy_cores", lambda window_s=0.2: next(readings))
        assert cpu_load.pick_threads() == 1
        readings = iter([0.5, 0.05])
        with pytest.raises(TrialStarted):  # the second look found the cores free: the trial runs
            cpu_load.pick_threads()
    finally:
        torch.set_num_threads(threads)


def test_a_fast_fit_ends_on_the_mean_of_its_last_updates():
    """Polyak averaging: the snapshots of the tail of the fit and the end point, style and adapters alike."""
    import torch

    s_t = torch.full((1, 128), 10.0, requires_grad=True)
    deltas = {"layer": torch.full((4,), 1.0, requires_grad=True)}
    snapshots = [(k, (torch.full((1, 128), float(k)), {"layer": np.full(4, k / 10, np.float32)})) for k in (4, 8)]
    # the last half of 10 updates: the snapshots at 4 and 8 (the tail rounded down to a snapshot) and the end
    assert timbre.average_tail(s_t, deltas, snapshots, n_done=10, fraction=0.5) == 3
    assert torch.allclose(s_t, torch.full((1, 128), (4 + 8 + 10) / 3))
    assert torch.allclose(deltas["layer"], torch.full((4,), (0.4 + 0.8 + 1.0) / 3))
    assert s_t.requires_grad  # still the fit's parameter, changed in place
    before = s_t.detach().clone()
    assert timbre.average_tail(s_t, deltas, snapshots, n_done=10, fraction=0.0) == 1  # thorough: untouched
    assert torch.equal(s_t.detach(), before)
    assert config.FAST.average_tail > 0 and config.THOROUGH.average_tail == 0
