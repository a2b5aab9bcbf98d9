import numpy as np
import pytest

from realvoice.engines.kokoro import KokoroEngine, assets


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
