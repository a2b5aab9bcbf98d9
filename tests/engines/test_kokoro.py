import dataclasses

import numpy as np
import pytest

from realvoice.deadline import Deadline
from realvoice.engines.kokoro import KokoroEngine, assets, openvino_runtime
from realvoice.engines.kokoro.validation import VALIDATION_SENTENCE

# log-mel L1 between two correct runtimes: OpenVINO against onnxruntime 0.21-0.27 on the stock voices;
# onnxruntime in float32 against its own int8 graph 0.23-0.45 (silent stretches turn rounding into noise)
LOGMEL_TOLERANCE = 0.4


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return KokoroEngine.load(tmp_path_factory.mktemp("cache"))


def test_model_is_assembled_and_checked(engine):
    assert engine.model_path.stat().st_size == 92_361_271
    assert engine.model_path.with_suffix(".sha256").read_text().startswith(assets.expected_sha256())


def test_phonemes_use_kokoro_symbols(engine):
    ph = engine.phonemize("I know how you say hello.")
    assert "I" in ph and "O" in ph  # diphthongs mapped to Kokoro's single letters
    assert all(c in engine._vocab or c == " " for c in ph)


def test_long_phoneme_strings_are_cut_to_fit(engine):
    ph = engine.phonemize(", ".join(["the quick brown fox jumps over the lazy dog"] * 20) + ".")
    pieces = engine._pieces(ph)
    assert len(pieces) > 1 and all(len(engine.tokens(p)) <= 510 for p in pieces)


def test_synthesis_makes_speech_length_audio(engine):
    style = next(iter(engine._stock.values()))
    audio = engine.synthesize_phonemes(style, engine.phonemize("This is a short test sentence."))
    assert 1.0 < len(audio) / 24000 < 4.0
    assert np.sqrt(np.mean(audio**2)) > 0.01 and np.all(np.isfinite(audio))


def test_inline_phonemes_pass_through(engine):
    ph = engine.to_phonemes("I like [GIF](/ʤˈɪf/) files.")
    assert "ʤˈɪf" in ph and ph.startswith(engine.phonemize("I like"))


def test_pitch_moves_inside_the_model_and_keeps_the_timing(engine):
    from realvoice.analysis import median_f0
    from realvoice.engines import VoiceModel

    voice = VoiceModel(engine.name, engine.version, "stock", {"style": next(iter(engine._stock.values()))})
    base = engine.synthesize(voice, "We walked along the river until the sun went down.")
    up = engine.synthesize(voice, "We walked along the river until the sun went down.", pitch_semitones=3)
    assert len(up) == len(base)  # same durations: only the F0 curve changed
    ratio = median_f0(up, 24000) / median_f0(base, 24000)
    assert 2 ** (2 / 12) < ratio < 2 ** (4 / 12)


def test_adapter_offsets_change_the_voice_and_zero_offsets_do_not(engine):
    from realvoice.engines import VoiceModel
    from realvoice.engines.kokoro.engine import ADAPTER_PREFIX
    from realvoice.errors import ModelFileError

    style = next(iter(engine._stock.values()))
    layer = "decode.0.norm1.fc"
    size = engine.stock_biases[f"decoder.decoder.{layer}.bias"].shape[0]
    text = "A short sentence for the adapter."
    plain = engine.synthesize(VoiceModel(engine.name, engine.version, "x", {"style": style}), text)
    zero = VoiceModel(
        engine.name, engine.version, "x", {"style": style, ADAPTER_PREFIX + layer: np.zeros(size, np.float32)}
    )
    moved = VoiceModel(
        engine.name, engine.version, "x", {"style": style, ADAPTER_PREFIX + layer: np.full(size, 0.5, np.float32)}
    )
    assert np.array_equal(engine.synthesize(zero, text), plain)
    changed = engine.synthesize(moved, text)
    assert len(changed) == len(plain) and np.abs(changed - plain).max() > 0.01
    wrong = VoiceModel(engine.name, engine.version, "x", {"style": style, ADAPTER_PREFIX + "nope.fc": np.zeros(3)})
    with pytest.raises(ModelFileError):
        engine.synthesize(wrong, text)


def test_pitch_correction_matches_the_samples_within_limits():
    from realvoice.engines.kokoro.enroll import pitch_correction

    assert pitch_correction([200.0, 210.0, 220.0], 200.0) == pytest.approx(1.05)
    assert pitch_correction([100.0, 101.0], 100.0) == 1.0  # under 1.5 %: left alone
    assert pitch_correction([300.0], 150.0) == pytest.approx(1.18)  # never more than ±18 %
    assert pitch_correction([0.0, 0.0], 120.0) == 1.0 and pitch_correction([120.0], 0.0) == 1.0


@pytest.mark.slow
def test_opt_in_static_int8_variant_keeps_durations_and_sound(engine, tmp_path):
    import librosa
    import onnxruntime as ort

    from realvoice.engines.kokoro import adapters, static_int8
    from realvoice.errors import EngineError

    source = adapters.adapter_model_path(engine.model_path)
    path = static_int8.model_path(source, f"test|{assets.expected_sha256()}", selection="c1")
    assert static_int8.model_path(source, f"test|{assets.expected_sha256()}", selection="c1") == path  # cached
    with pytest.raises(EngineError):
        static_int8.model_path(source, "x", selection="nope")
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    quick = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    style = next(iter(engine._stock.values()))
    toks = engine.tokens(engine.phonemize("The fast model must say the same words at the same pace."))
    feed = {
        "tokens": np.array([[0, *toks, 0]], np.int64),
        "style": style[len(toks) - 1][None].astype(np.float32),
        "speed": np.ones(1, np.float32),
    }
    a = KokoroEngine.load(engine.cache_dir, runtime="onnxruntime")._session.run(None, feed)[0].reshape(-1)
    b = quick.run(None, feed)[0].reshape(-1)
    assert len(a) == len(b)

    def logmel(y):
        return np.log(librosa.feature.melspectrogram(y=y, sr=24000, n_fft=1024, hop_length=256, n_mels=80) + 1e-5)

    assert np.abs(logmel(a) - logmel(b)).mean() < 0.35  # measured 0.21-0.24


@pytest.mark.slow
def test_stock_profiles_are_cached_in_a_cache_folder_that_did_not_exist(tmp_path):
    from realvoice.analysis import SpeakerEncoder

    engine = KokoroEngine(tmp_path / "new" / "cache")
    profiles = engine._stock_profiles(SpeakerEncoder.load())
    assert set(profiles) == set(engine._stock) and all(p["f0"] > 50 for p in profiles.values())
    assert (tmp_path / "new" / "cache" / "kokoro-stock-profiles.json").exists()


def test_session_reports_the_durations_it_spoke(engine):
    style = next(iter(engine._stock.values()))
    toks = [0, *engine.tokens(engine.phonemize("Alignment needs the model's own durations.")), 0]
    audio, durations = engine._synthesize_with_durations(toks, style[len(toks) - 3])
    assert len(durations) == len(toks) and durations.min() >= 1
    assert abs(len(audio) - 600 * int(durations.sum())) <= 600  # 40 Hz frames of 600 samples


def test_fit_validation_hears_when_words_are_lost(engine):
    """The check that can reject a fit: a stock voice reads the sentence cleanly; the same audio
    played backwards keeps its timbre and loudness but loses the words."""
    from realvoice.analysis import SpeakerEncoder
    from realvoice.engines.kokoro.validation import Validation

    name, table = next(iter(engine._stock.items()))
    audio = engine.synthesize_phonemes(table, engine.phonemize(VALIDATION_SENTENCE))
    target = SpeakerEncoder.load().embed(audio, engine.sample_rate)
    check = Validation(engine, target / np.linalg.norm(target))
    similarity, wer = check.score(check.speak(table))
    assert similarity > 0.95 and wer <= 0.12
    # the start voice's score is cached per stock voice, and the cached figures are the same
    assert check.stock(name) == pytest.approx((similarity, wer), abs=1e-4)
    cached = list(engine.model_path.parent.glob("kokoro-validation-*.json"))  # one file per machine
    assert cached and not list(engine.cache_dir.glob("kokoro-validation-*.json"))
    assert check.stock(name) == pytest.approx((similarity, wer), abs=1e-4)
    _, wer_rev = check.score(audio[::-1].copy())
    assert wer_rev >= 0.6


def test_a_voice_with_a_spectral_correction_is_spoken_through_it(engine):
    from realvoice.audio import spectrum
    from realvoice.engines import VoiceModel
    from realvoice.engines.kokoro.engine import EQ_ARRAY

    style = next(iter(engine._stock.values()))
    text = "The correction changes the tone, not the words or their timing."
    freqs = np.fft.rfftfreq(spectrum.NFFT, 1 / 24000)
    plain = engine.synthesize(VoiceModel(engine.name, engine.version, "x", {"style": style}), text)
    gain = np.where(freqs > 3000, -12.0, 0.0).astype(np.float32)
    darker = engine.synthesize(VoiceModel(engine.name, engine.version, "x", {"style": style, EQ_ARRAY: gain}), text)
    assert len(darker) == len(plain)

    def top_share(x):
        p = spectrum.ltas(x)
        return p[freqs > 4000].sum() / p.sum()

    assert top_share(darker) < 0.2 * top_share(plain)  # -12 dB is a factor of 16 in power


def test_an_enrollment_deadline_shortens_a_fast_fit(engine, monkeypatch):
    """The fit gets what is left of the deadline after validation's share, within sane bounds."""

    from realvoice.engines import EnrollSample
    from realvoice.engines.kokoro import enroll, fitting

    budgets = []

    class Stop(Exception):
        pass

    def fake_fit(model, samples, start, cfg, **kwargs):
        budgets.append(cfg.time_budget_s)
        raise Stop

    monkeypatch.setattr(fitting, "fit_style", fake_fit)
    table = next(iter(engine._stock.values()))
    text = "A sample sentence for the deadline."
    audio = engine.synthesize_phonemes(table, engine.phonemize(text))
    samples = [EnrollSample("a", audio, 24000, np.ones(256, np.float32) / 16, text)]
    for seconds_left in (40.0, 300.0, 1.0):
        with pytest.raises(Stop):
            engine.enroll(samples, mode="fast", deadline=Deadline.after(seconds_left))
    with pytest.raises(Stop):
        engine.enroll(samples, mode="fast")
    short, long_, tight, default = budgets
    reserve = enroll.VALIDATION_SECONDS
    assert 40 - reserve - 5 < short <= 40 - reserve  # less whatever choosing the start voice took
    assert long_ == default == fitting.FAST.time_budget_s
    assert tight == enroll.MIN_FIT_SECONDS


@pytest.mark.parametrize(
    ("mode", "seconds_left", "budget"),
    [
        ("fast", None, 50.0),  # no deadline: the mode's own budget
        ("fast", 40.0, 40.0 - 5.5),  # what validation leaves
        ("fast", 500.0, 50.0),  # never more than the mode's budget
        ("fast", 2.0, 30.0),  # never less than a fit worth running
        ("style", 40.0, 40.0 - 5.5),
        ("thorough", 40.0, None),  # a thorough fit runs to its steps
    ],
)
def test_the_fit_budget_is_what_the_deadline_leaves_within_bounds(mode, seconds_left, budget):
    from realvoice.engines.kokoro import enroll, fitting

    assert enroll.VALIDATION_SECONDS == 5.5 and enroll.MIN_FIT_SECONDS == 30.0 and fitting.FAST.time_budget_s == 50.0
    assert enroll.fit_budget(fitting.config_for(mode), seconds_left) == pytest.approx(budget)


@pytest.mark.parametrize("bad", [np.full(513, np.nan), np.full(513, 90.0), np.zeros((2, 513))])
def test_a_voice_file_with_a_broken_spectral_correction_is_refused(engine, tmp_path, bad):
    from realvoice.engines import VoiceModel
    from realvoice.engines.kokoro.engine import EQ_ARRAY
    from realvoice.errors import ModelFileError

    style = next(iter(engine._stock.values()))
    good = VoiceModel(engine.name, engine.version, "x", {"style": style, EQ_ARRAY: np.zeros(513, np.float32)})
    assert EQ_ARRAY in engine.load_voice(good.save(tmp_path / "good.npz")).arrays
    broken = VoiceModel(engine.name, engine.version, "x", {"style": style, EQ_ARRAY: bad.astype(np.float32)})
    with pytest.raises(ModelFileError, match="spectral correction"):
        engine.load_voice(broken.save(tmp_path / "bad.npz"))


@pytest.mark.parametrize("case", ["end fails", "blend passes", "all fail", "end passes"])
def test_validation_walks_from_the_fit_toward_the_start_voice_until_a_point_passes(engine, monkeypatch, case):
    """Validation tries the fit's end point, then its earlier point, then blends toward the start voice
    (here a point "fails" when Whisper mishears it); only when every point fails is the start voice
    kept; a passing point ends the walk and later points are never spoken."""
    from realvoice.engines import EnrollSample
    from realvoice.engines.kokoro import enroll, fitting, validation
    from realvoice.engines.kokoro.fitting.model import adain_layers

    table = next(iter(engine._stock.values()))
    row = table[60].astype(np.float32)
    end_style, back_style = row + 0.02, row - 0.02
    layers = adain_layers(engine.torch_model().decoder)
    layer = next(iter(layers))
    width = layers[layer].out_features
    end_adapter, back_adapter = {layer: np.full(width, 0.01, np.float32)}, {layer: np.full(width, -0.01, np.float32)}
    blend = enroll.BLEND_SHARES[0]

    def fake_fit(*args, **kwargs):
        stats = fitting.FitStats(**{f.name: 0 for f in dataclasses.fields(fitting.FitStats)})
        return fitting.FitResult(
            end=fitting.FitPoint(end_style, end_adapter, 20),
            earlier=fitting.FitPoint(back_style, back_adapter, 12),
            stats=dataclasses.replace(stats, mode="fast", timbre_steps=20),
        )

    spoken = []
    real_speak, real_score = validation.Validation.speak, validation.Validation.score

    def kind(adapter):  # which point an adapter belongs to, from its values
        if not adapter:
            return "stock"
        value = float(next(iter(adapter.values()))[0])
        return {0.01: "end", -0.01: "earlier"}.get(round(value, 6), f"blend {value / 0.01:.2f}")

    passing = {"end fails": "earlier", "blend passes": f"blend {blend:.2f}", "all fail": None, "end passes": "end"}

    def speak(self, table, adapter=None, f0_scale=1.0):
        spoken.append(kind(adapter))
        return real_speak(self, table, adapter, f0_scale)

    def score(self, audio):
        real_score(self, audio)  # the real measurement runs; its verdict is the test's to choose
        if spoken[-1] != passing[case]:
            return 0.99, 1.0  # as if Whisper had heard none of the words
        return 0.99, 0.0

    monkeypatch.setattr(fitting, "fit_style", fake_fit)
    monkeypatch.setattr(validation.Validation, "speak", speak)
    monkeypatch.setattr(validation.Validation, "score", score)
    text = "A sample sentence for the validation."
    audio = engine.synthesize_phonemes(table, engine.phonemize(text))
    samples = [EnrollSample("a", audio, 24000, np.ones(256, np.float32) / 16, text)]
    voice = engine.enroll(samples, mode="fast")
    walked = list(dict.fromkeys(k for k in spoken if k != "stock"))  # the end point may be spoken twice (pitch)
    blends = [f"blend {share:.2f}" for share in enroll.BLEND_SHARES]
    order = ["end", "earlier", *blends]
    expected = order if passing[case] is None else order[: order.index(passing[case]) + 1]
    assert walked == expected, spoken
    if case == "all fail":
        assert voice.method == "nearest-stock" and not voice.params["fit_kept"]
        assert voice.metrics["fallback_step"] == 0 and voice.params["fit_share"] == 0.0
        return
    assert voice.method == "fitted-adapter-fast" and voice.params["fit_kept"]
    assert voice.metrics["fallback_step"] == (12 if case == "end fails" else 0)
    assert voice.params["fit_share"] == (blend if case == "blend passes" else 1.0)
    assert voice.metrics["end_wer"] == (voice.metrics["fitted_wer"] if case == "end passes" else 1.0)
    # the earlier point's figures are kept in the summary (-1: it was not needed)
    assert voice.metrics["earlier_similarity"] == (-1.0 if case == "end passes" else 0.99)
    start = {"end fails": back_style, "end passes": end_style}.get(case)
    if start is not None:
        assert np.allclose(voice.arrays["style"][0], start)
    adapter = voice.arrays[enroll.ADAPTER_PREFIX + layer]
    want = {
        "end fails": back_adapter[layer],
        "end passes": end_adapter[layer],
        "blend passes": blend * end_adapter[layer],
    }
    assert np.allclose(adapter, want[case])


def test_a_fit_starts_from_a_voice_of_the_speakers_gender_by_pitch():
    from realvoice.engines.kokoro.enroll import start_voices

    stock = {"jf_alpha": np.zeros(1), "jf_nezumi": np.zeros(1), "jm_kumo": np.zeros(1)}
    assert set(start_voices(stock, 172.0)) == {"jf_alpha", "jf_nezumi"}  # the woman the issue names
    assert set(start_voices(stock, 110.0)) == {"jm_kumo"}
    assert set(start_voices(stock, 155.0)) == set(stock)  # ambiguous: any voice
    assert set(start_voices(stock, 0.0)) == set(stock)  # no pitch found
    assert set(start_voices({"jf_alpha": np.zeros(1)}, 110.0)) == {"jf_alpha"}  # never an empty choice


def _logmel(y):
    import librosa

    return np.log(librosa.feature.melspectrogram(y=y, sr=24000, n_fft=1024, hop_length=256, n_mels=80) + 1e-5)


@pytest.mark.skipif(openvino_runtime.unavailable_reason() is not None, reason="no OpenVINO CPU runtime here")
def test_the_openvino_decoder_keeps_the_timing_pitch_and_sound_of_the_int8_graph(engine):
    from realvoice.analysis import median_f0
    from realvoice.engines import VoiceModel
    from realvoice.engines.kokoro.engine import ADAPTER_PREFIX

    assert engine.runtime == "openvino"  # the default wherever OpenVINO runs
    reference = KokoroEngine.load(engine.cache_dir, runtime="onnxruntime")
    assert reference.runtime == "onnxruntime"
    style = next(iter(engine._stock.values()))
    text = "We walked along the river until the sun went down, and then we talked for hours."
    layer = "decode.0.norm1.fc"
    size = engine.stock_biases[f"decoder.decoder.{layer}.bias"].shape[0]
    voices = [
        VoiceModel(engine.name, engine.version, "x", {"style": style}),
        VoiceModel(
            engine.name, engine.version, "x", {"style": style, ADAPTER_PREFIX + layer: np.full(size, 0.5, np.float32)}
        ),
    ]
    outputs = []
    for voice in voices:
        for pitch in (0.0, 3.0):
            ours = engine.synthesize(voice, text, pitch_semitones=pitch)
            theirs = reference.synthesize(voice, text, pitch_semitones=pitch)
            assert len(ours) == len(theirs)  # the text side is the same int8 graph: same durations
            assert abs(np.log2(median_f0(ours, 24000) / median_f0(theirs, 24000))) < 0.03  # same pitch
            assert np.abs(_logmel(ours) - _logmel(theirs)).mean() < LOGMEL_TOLERANCE
            outputs.append(ours)
    assert np.abs(outputs[0] - outputs[2]).max() > 0.01  # the adapter reaches the OpenVINO decoder


def test_an_unknown_runtime_is_refused(tmp_path):
    from realvoice.errors import EngineError

    with pytest.raises(EngineError, match="unknown Kokoro runtime"):
        KokoroEngine(tmp_path, runtime="tensorflow")


def test_without_openvino_the_engine_runs_on_onnxruntime_and_says_why(tmp_path, monkeypatch):
    from realvoice.errors import EngineError

    monkeypatch.setattr(openvino_runtime, "unavailable_reason", lambda: "openvino is not installed")
    engine = KokoroEngine(tmp_path)
    assert engine.runtime == "onnxruntime" and "not installed" in engine.runtime_note
    assert len(engine.synthesize_phonemes(next(iter(engine._stock.values())), engine.phonemize("Hello there."))) > 12000
    with pytest.raises(EngineError, match="unavailable"):
        KokoroEngine(tmp_path, runtime="openvino")


def test_a_decoder_openvino_cannot_open_falls_back_to_onnxruntime(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("compile failed")

    monkeypatch.setattr(openvino_runtime, "unavailable_reason", lambda: None)
    monkeypatch.setattr(openvino_runtime, "OpenVinoKokoro", broken)
    engine = KokoroEngine(tmp_path)
    assert engine.runtime == "onnxruntime" and "compile failed" in engine.runtime_note


LABELS = ("end", "earlier", "blend")


class _FakeCheck:
    """Speaks a point as its index and scores it from a table of (similarity, WER) by label."""

    def __init__(self, scores):
        self.scores, self.spoken = scores, []

    def speak(self, table, adapter=None, f0_scale=1.0):
        self.spoken.append(LABELS[int(table[0])])
        return np.asarray(table, np.float32)

    def score(self, audio):
        return self.scores[LABELS[int(audio[0])]]


@pytest.mark.parametrize(
    ("scores", "kept", "spoken"),
    [
        ({"end": (0.8, 0.1)}, "end", ["end"]),
        ({"end": (0.8, 0.5), "earlier": (0.7, 0.1)}, "earlier", ["end", "earlier"]),
        ({"end": (0.5, 0.1), "earlier": (0.5, 0.1), "blend": (0.61, 0.2)}, "blend", ["end", "earlier", "blend"]),
        ({"end": (0.5, 0.1), "earlier": (0.5, 0.1), "blend": (0.59, 0.2)}, None, ["end", "earlier", "blend"]),
        ({"end": (0.6, 0.22)}, "end", ["end"]),  # at both limits: passes
    ],
)
def test_validation_keeps_the_first_point_that_beats_the_start_voice_and_keeps_the_words(scores, kept, spoken):
    """The decision alone: the start voice scored 0.6 similarity and WER 0.1, so a point must reach
    0.6 and stay within 0.1 + WER_TOLERANCE (0.12); points are spoken in order, only until one passes."""
    from realvoice.engines.kokoro.validation import WER_TOLERANCE, Point, first_passing

    check = _FakeCheck(scores)
    points = [Point(label, 1.0, 0, np.full(1, i, np.float32), {}) for i, label in enumerate(LABELS)]
    chosen, tried = first_passing(check, [points[0], None, *points[1:]], 0.6, 0.1 + WER_TOLERANCE)
    assert (chosen.label if chosen else None) == kept
    assert [p.label for p in tried] == spoken == check.spoken
    assert first_passing(check, points, 0.6, 0.1 + WER_TOLERANCE)[1] == tried  # scored points are not spoken again
    assert check.spoken == spoken
