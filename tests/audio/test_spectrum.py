import numpy as np
from scipy.signal import butter, sosfilt

from realvoice.audio import spectrum

SR = 24000
FREQS = np.fft.rfftfreq(spectrum.NFFT, 1 / SR)


def noise(seconds=2.0, seed=0):
    return np.random.default_rng(seed).standard_normal(int(seconds * SR)).astype(np.float32) * 0.1


def lowpassed(x, hz, order=2):
    return sosfilt(butter(order, hz, fs=SR, output="sos"), x).astype(np.float32)


def band_db(power, lo, hi):
    f = FREQS
    return float(10 * np.log10(power[(f >= lo) & (f < hi)].mean()))


def test_ltas_describes_the_sound_not_the_pauses():
    x = noise()
    with_pauses = np.concatenate([np.zeros(SR, np.float32), x, np.zeros(2 * SR, np.float32)])
    a, b = spectrum.ltas(x), spectrum.ltas(with_pauses)
    assert a.shape == (spectrum.NFFT // 2 + 1,)
    assert abs(10 * np.log10(a.sum() / b.sum())) < 0.5


def test_correction_gives_a_dull_voice_the_target_balance_at_the_same_power():
    bright, dull = noise(), lowpassed(noise(seed=1), 2000)
    gain = spectrum.correction_db(spectrum.ltas(bright), spectrum.ltas(dull), SR, fmax=8000)
    fixed = spectrum.apply_fir(dull, spectrum.correction_fir(gain))
    tilt = [band_db(spectrum.ltas(x), 4000, 7000) - band_db(spectrum.ltas(x), 300, 1000) for x in (bright, dull, fixed)]
    assert tilt[1] < tilt[0] - 10  # the lowpass took >10 dB off the top
    assert abs(tilt[2] - tilt[0]) < abs(tilt[1] - tilt[0]) / 2  # the EQ gives most of it back
    assert abs(10 * np.log10(np.mean(fixed**2) / np.mean(dull**2))) < 1.0  # balance, not level


def test_correction_is_bounded_and_leaves_alone_what_the_recordings_lack():
    target, voice = lowpassed(noise(), 500, order=4), noise(seed=1)  # a 60 dB difference up top
    gain = spectrum.correction_db(spectrum.ltas(target), spectrum.ltas(voice), SR, fmax=6000, max_db=9.0)
    band = (FREQS >= 100) & (FREQS <= 6000)
    assert np.ptp(gain[band]) <= 18.0 + 1e-3
    above = gain[FREQS > 7000]
    assert np.ptp(above) < 1e-3  # faded to a flat 0 dB (plus the common level term) above fmax + 1 kHz
    same = spectrum.correction_db(spectrum.ltas(voice), spectrum.ltas(voice), SR, fmax=8000)
    assert np.abs(same).max() < 1e-3


def test_fir_is_zero_delay_and_keeps_the_length():
    x = np.zeros(4000, np.float32)
    x[2000] = 1.0
    y = spectrum.apply_fir(x, spectrum.correction_fir(np.full(spectrum.NFFT // 2 + 1, -6.0)))
    assert len(y) == len(x) and int(np.argmax(np.abs(y))) == 2000
    assert abs(y[2000] - 10 ** (-6 / 20)) < 0.02


def test_bandwidth_finds_where_the_content_stops():
    assert 7000 <= spectrum.bandwidth_hz(lowpassed(noise(), 7000, order=8), SR) <= 9500
    assert spectrum.bandwidth_hz(noise(), SR) >= 11500
