"""English phonemes from espeak-ng (bundled by espeakng-loader), mapped to Kokoro's symbol set."""

from __future__ import annotations

import threading
from functools import lru_cache

# espeak IPA -> the symbols Kokoro was trained on (misaki's American set), longest first.
# Diphthongs and affricates become single letters (A=eɪ, I=aɪ, W=aʊ, Y=ɔɪ, O=oʊ).
_E2M = sorted(
    {
        "ʔˌn̩": "tᵊn",
        "ʔn̩": "tᵊn",
        "ʔn": "tᵊn",
        "ʔ": "t",
        "a^ɪ": "I",
        "a^ʊ": "W",
        "d^ʒ": "ʤ",
        "e^ɪ": "A",
        "e": "A",
        "t^ʃ": "ʧ",
        "ɔ^ɪ": "Y",
        "o^ʊ": "O",
        "ə^ʊ": "O",
        "ɪ^ə": "iə",
        "ə^l": "ᵊl",
        "r": "ɹ",
        "x": "k",
        "ç": "k",
        "ɐ": "ə",
        "ɚ": "əɹ",
        "ɬ": "l",
        "ʲ": "",
        "ɜːɹ": "ɜɹ",
        "ɜː": "ɜɹ",
        "ː": "",
        "^": "",
        "n̩": "ᵊn",
        "l̩": "ᵊl",
    }.items(),
    key=lambda kv: -len(kv[0]),
)


class Phonemizer:
    """Loads espeak-ng once per process; ``__call__`` maps a sentence to Kokoro phonemes."""

    _lock = threading.Lock()
    _backend = None

    def __init__(self, language: str = "en-us") -> None:
        self.language = language

    def _load(self):
        with Phonemizer._lock:
            if Phonemizer._backend is None:
                import espeakng_loader
                from phonemizer.backend import EspeakBackend
                from phonemizer.backend.espeak.wrapper import EspeakWrapper

                EspeakWrapper.set_library(espeakng_loader.get_library_path())
                EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
                Phonemizer._backend = EspeakBackend(
                    self.language,
                    preserve_punctuation=True,
                    with_stress=True,
                    tie="^",
                    language_switch="remove-flags",
                )
        return Phonemizer._backend

    def __call__(self, text: str) -> str:
        return _phonemize_cached(self, text)

    def raw(self, text: str) -> str:
        backend = self._load()
        with Phonemizer._lock:
            out = backend.phonemize([text], strip=True, njobs=1)[0]
        for src, dst in _E2M:
            out = out.replace(src, dst)
        return " ".join(out.split())


@lru_cache(maxsize=4096)
def _phonemize_cached(p: Phonemizer, text: str) -> str:
    return p.raw(text)
