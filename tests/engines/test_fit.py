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
