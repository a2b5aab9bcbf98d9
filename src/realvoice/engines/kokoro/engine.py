"""The Kokoro engine: ONNX session loaded once, phonemes in, 24 kHz audio out; nearest-stock enrollment."""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ...analysis import SpeakerEncoder, cosine, median_f0
from ...audio import spectrum
from ...config import Settings
from ...deadline import Deadline
from ...errors import EngineError, ModelFileError
from ..base import PHONEME_MARKER, EnrollSample, Progress, VoiceCheck, VoiceModel
from . import adapters, assets, openvino_runtime, static_int8
from .assets import SAMPLE_RATE
from .enroll import ADAPTER_PREFIX, EQ_ARRAY, fit_voice, mean_embedding
from .phonemes import Phonemizer
from .validation import Validation, cached_json

MAX_TOKENS = 510
VERSION = "kokoro-82m-v1.0-int8/3"  # /3: a spectral correction per voice; /2: AdaIN adapters, pitch scale
SUPPORTED_VERSIONS = (VERSION, "kokoro-82m-v1.0-int8/2", "kokoro-82m-v1.0-int8/1")

# Sentences each stock voice speaks once so it can be compared with a person's samples.
REFERENCE_SENTENCES = (
    "I checked the weather this morning, and it looks like rain again by the afternoon.",
    "Could you tell me where the nearest train station is, please?",
    "We finally finished the project, and honestly, I think it turned out really well!",
)
PITCH_WEIGHT = 0.02  # similarity points per semitone of pitch difference
# fast: the style and per-voice AdaIN offsets, in about a minute; style: the style alone, in the same
# time (less like the speaker: see bench/clone_quality.py); thorough: minutes; nearest-stock: no fit.
# "adapters" is the old name of what "fast" now does.
FIT_MODES = ("fast", "style", "adapters", "thorough", "nearest-stock")


class KokoroEngine:
    """One instance per process and cache folder; ``load`` opens the ONNX session once."""

    name = "kokoro"
    version = VERSION
    sample_rate = SAMPLE_RATE

    _instances: dict[str, KokoroEngine] = {}
    _lock = threading.Lock()

    def __init__(
        self,
        cache_dir: Path,
        threads: int = 0,
        fit_mode: str = "fast",
        runtime: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        """``runtime``: "auto", "openvino" or "onnxruntime" (None: the setting ``kokoro_runtime``); the
        model cache and static-int8 variant come from ``settings`` (None: the environment's)."""
        import onnxruntime as ort

        settings = settings or Settings()
        self.cache_dir = Path(cache_dir)
        self.model_path = assets.model_path(assets.shared_cache(settings.model_cache))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # the exposed adapter inputs make onnxruntime warn once per input
        variant = settings.kokoro_static_int8
        asked = runtime or settings.kokoro_runtime
        self.runtime, self.runtime_note = _choose_runtime(asked, variant)
        self._session: Any = None
        self._openvino: openvino_runtime.OpenVinoKokoro | None = None
        try:
            self.session_path = adapters.adapter_model_path(self.model_path)
            key = f"{assets.expected_sha256()}|{adapters.FORMAT}"
            if self.runtime == "openvino":
                try:
                    self._openvino = openvino_runtime.OpenVinoKokoro(
                        self.session_path, key, threads=opts.intra_op_num_threads
                    )
                except Exception as exc:
                    if asked == "openvino":
                        raise
                    self.runtime, self.runtime_note = "onnxruntime", f"OpenVINO could not open the decoder: {exc}"
            if self._openvino is None:
                if variant:
                    # opt-in static int8 vocoder convolutions: faster, but fitted voices lose some identity
                    self.session_path = static_int8.model_path(
                        self.session_path, key, threads=threads, selection=variant
                    )
                self._session = ort.InferenceSession(str(self.session_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise EngineError(f"could not open the Kokoro model: {exc}", code="engine_assets") from exc
        self._vocab = assets.vocab()
        self._stock = {k: v.reshape(v.shape[0], -1) for k, v in assets.stock_voices().items()}
        self.phonemize = Phonemizer("en-us")
        if fit_mode not in FIT_MODES:
            raise EngineError(f"unknown fit mode {fit_mode!r}; choose from {', '.join(FIT_MODES)}", code="bad_fit_mode")
        self.fit_mode = fit_mode
        self._torch_model = None
        self._fit_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        cache_dir: Path,
        *,
        threads: int = 0,
        fit_mode: str = "fast",
        runtime: str | None = None,
        settings: Settings | None = None,
    ) -> KokoroEngine:
        settings = settings or Settings()
        runtime = runtime or settings.kokoro_runtime
        parts = (Path(cache_dir).resolve(), fit_mode, runtime, settings.model_cache, settings.kokoro_static_int8)
        key = "|".join(map(str, parts))
        with cls._lock:
            if key not in cls._instances:
                cls._instances[key] = cls(Path(cache_dir), threads, fit_mode, runtime, settings)
            return cls._instances[key]

    @property
    def runtime_id(self) -> str:
        """What produces the audio, for caches of measured figures: the runtimes round differently."""
        if self._openvino is not None:
            return f"openvino|{openvino_runtime.FORMAT}"
        return f"onnxruntime|{self.session_path.name}"

    @cached_property
    def stock_biases(self) -> dict[str, np.ndarray]:
        """The model's own AdaIN biases: the OpenVINO decoder's default inputs, else read (a full parse
        of the model) only once a voice has adapters."""
        if self._openvino is not None:
            return self._openvino.defaults
        return adapters.stock_biases(self.model_path)

    # --- synthesis -------------------------------------------------------------------------

    def tokens(self, phonemes: str) -> list[int]:
        return [self._vocab[c] for c in phonemes if c in self._vocab]

    def _pieces(self, phonemes: str) -> list[str]:
        """Cut a phoneme string that is too long for one pass at punctuation, then at spaces."""
        if len(self.tokens(phonemes)) <= MAX_TOKENS:
            return [phonemes]
        out, cur = [], ""
        for part in re.split(r"(?<=[,.;:!?—])\s+|\s+", phonemes):
            if cur and len(self.tokens(cur + " " + part)) > MAX_TOKENS:
                out.append(cur)
                cur = part
            else:
                cur = f"{cur} {part}".strip()
        return [*out, cur] if cur else out

    def synthesize_phonemes(
        self,
        style: np.ndarray,
        phonemes: str,
        *,
        speed: float = 1.0,
        f0_scale: float = 1.0,
        adapter: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Audio for a phoneme string; ``f0_scale`` multiplies the predicted pitch inside the model."""
        extra = adapters.feeds(adapter, self.stock_biases) if adapter else {}
        audio = []
        for piece in self._pieces(phonemes):
            toks = self.tokens(piece)[:MAX_TOKENS]
            if not toks:
                continue
            ref = style[min(len(toks), len(style)) - 1]
            out = self._run([0, *toks, 0], ref, speed=speed, f0_scale=f0_scale, extra=extra)[0]
            audio.append(np.asarray(out, np.float32).reshape(-1))
        return np.concatenate(audio) if audio else np.zeros(0, np.float32)

    def _synthesize_with_durations(self, tokens: list[int], style_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Audio and predicted frames per token (pads included) for one token sequence with one style row."""
        audio, durations = self._run(tokens, style_row)
        return np.asarray(audio, np.float32).reshape(-1), np.asarray(durations).reshape(-1).astype(np.int64)

    def _run(
        self,
        tokens: list[int],
        style_row: np.ndarray,
        *,
        speed: float = 1.0,
        f0_scale: float = 1.0,
        extra: dict[str, np.ndarray] | None = None,
    ) -> list[np.ndarray]:
        """One pass of the model (tokens already padded): [audio, frames per token]."""
        feeds: dict[str, np.ndarray] = {
            "tokens": np.array([tokens], dtype=np.int64),
            "style": np.asarray(style_row, np.float32).reshape(1, -1),
            "speed": np.array([speed], dtype=np.float32),
            adapters.F0_SCALE: np.array([f0_scale], dtype=np.float32),
            **(extra or {}),
        }
        if self._openvino is not None:
            return self._openvino.run(feeds)
        return self._session.run(None, feeds)

    def to_phonemes(self, sentence: str) -> str:
        """Phonemise text, passing inline ``[word](/phonemes/)`` markers through as written."""
        parts, last = [], 0
        for m in PHONEME_MARKER.finditer(sentence):
            if sentence[last : m.start()].strip():
                parts.append(self.phonemize(sentence[last : m.start()]))
            parts.append(m.group(2))
            last = m.end()
        if sentence[last:].strip():
            parts.append(self.phonemize(sentence[last:]))
        return " ".join(parts)

    def synthesize(
        self, voice: VoiceModel, sentence: str, *, speed: float = 1.0, pitch_semitones: float = 0.0
    ) -> np.ndarray:
        """Speak one sentence (already normalised) in ``voice``; pitch moves inside the model, so the
        formants stay put (shifting the audio afterwards would change the timbre too)."""
        f0_scale = float(voice.params.get("f0_scale", 1.0)) * 2.0 ** (pitch_semitones / 12.0)
        audio = self.synthesize_phonemes(
            voice.arrays["style"],
            self.to_phonemes(sentence),
            speed=speed,
            f0_scale=f0_scale,
            adapter=voice_adapter(voice),
        )
        eq = voice.arrays.get(EQ_ARRAY)
        return spectrum.apply_fir(audio, spectrum.correction_fir(eq)) if eq is not None else audio

    def load_voice(self, path: Path) -> VoiceModel:
        voice = VoiceModel.load(path, engine=self.name, supported_versions=SUPPORTED_VERSIONS)
        eq = voice.arrays.get(EQ_ARRAY)
        if eq is not None and (eq.ndim != 1 or len(eq) < 3 or not np.all(np.isfinite(eq)) or np.abs(eq).max() > 40):
            raise ModelFileError(f"voice model {path.name} has an invalid spectral correction")
        return voice

    # --- enrollment ------------------------------------------------------------------------

    def _stock_profiles(self, encoder: SpeakerEncoder) -> dict[str, dict]:
        """Embedding and pitch of each stock voice speaking English; computed once, cached on disk."""
        key = hashlib.sha256(
            (assets.expected_sha256() + "|".join(REFERENCE_SENTENCES) + VERSION + self.runtime_id).encode()
        ).hexdigest()

        def profiles() -> dict[str, dict]:
            voices: dict[str, dict] = {}
            for name, table in self._stock.items():
                clips = [self.synthesize_phonemes(table, self.phonemize(s)) for s in REFERENCE_SENTENCES]
                voices[name] = {
                    "embedding": encoder.embed_many([(c, SAMPLE_RATE) for c in clips]).tolist(),
                    "f0": float(np.median([median_f0(c, SAMPLE_RATE) for c in clips])),
                }
            return voices

        return cached_json(self.cache_dir / "kokoro-stock-profiles.json", key, profiles)

    def enroll(
        self,
        samples: Sequence[EnrollSample],
        *,
        progress: Progress | None = None,
        mode: str | None = None,
        deadline: Deadline | None = None,
    ) -> VoiceModel:
        """Fit a voice to the samples (mode "fast", "style" or "thorough"), or pick the nearest stock voice.

        ``deadline`` shortens a fast fit so that validation still ends by it.
        """
        mode = mode or self.fit_mode
        if mode not in FIT_MODES:
            raise EngineError(f"unknown fit mode {mode!r}; choose from {', '.join(FIT_MODES)}", code="bad_fit_mode")
        if mode == "nearest-stock" or not any(s.transcript for s in samples):
            return self._nearest_stock(samples, progress=progress)
        try:
            return fit_voice(self, samples, mode, progress, deadline)
        finally:
            give_back_freed_memory()

    def validate(self, voice: VoiceModel, samples: Sequence[EnrollSample]) -> VoiceCheck:
        """The build's validation of ``voice``: its validation sentences spoken with its style, adapters
        and pitch scale (not its EQ, which validation judges apart), scored against ``samples``."""
        if not samples:
            raise EngineError("no samples to validate against", code="no_samples")
        check = Validation(self, mean_embedding(samples))
        spoken = check.speak(voice.arrays["style"], voice_adapter(voice), float(voice.params.get("f0_scale", 1.0)))
        similarity, wer = check.score(spoken)
        return VoiceCheck(round(float(similarity), 4), round(float(wer), 3))

    def torch_model(self):
        """The differentiable PyTorch copy, rebuilt from the ONNX on first use (a few seconds)."""
        with self._fit_lock:
            if self._torch_model is None:
                from .torch_model import load_torch_model

                self._torch_model = load_torch_model(str(self.model_path))
            return self._torch_model

    def _nearest_stock(self, samples: Sequence[EnrollSample], *, progress: Progress | None = None) -> VoiceModel:
        """Pick the stock voice nearest to the samples by speaker embedding and pitch.

        This is a starting point, not a fitted clone, and the model says so (method="nearest-stock").
        """
        if not samples:
            raise EngineError("no samples to enroll", code="no_samples")
        encoder = SpeakerEncoder.load()
        if progress:
            progress(0.1, "profiling stock voices")
        profiles = self._stock_profiles(encoder)
        target = np.mean([s.embedding for s in samples], axis=0)
        target /= np.linalg.norm(target) + 1e-9
        if progress:
            progress(0.5, "measuring pitch")
        f0s = [median_f0(s.audio, s.sample_rate) for s in samples]
        f0 = float(np.median([f for f in f0s if f > 0])) if any(f > 0 for f in f0s) else 0.0
        ranking = []
        for name, prof in profiles.items():
            sim = cosine(target, np.asarray(prof["embedding"]))
            semis = abs(12 * math.log2(prof["f0"] / f0)) if f0 > 0 and prof["f0"] > 0 else 0.0
            ranking.append((sim - PITCH_WEIGHT * semis, name, sim, semis))
        ranking.sort(reverse=True)
        _, best, sim, semis = ranking[0]
        if progress:
            progress(1.0, f"nearest stock voice: {best}")
        return VoiceModel(
            engine=self.name,
            engine_version=self.version,
            method="nearest-stock",
            arrays={"style": self._stock[best].copy()},
            params={"stock_voice": best, "target_f0_hz": round(f0, 1), "stock_f0_hz": round(profiles[best]["f0"], 1)},
            metrics={"stock_similarity": round(sim, 4), "pitch_difference_semitones": round(semis, 2)},
        )


def give_back_freed_memory() -> None:
    """Return the heap a fit freed to the system.

    A fit allocates and frees gigabytes of PyTorch activations; glibc keeps freed blocks in its
    arenas, so a server's resident memory stayed at its peak after the first build and crept up with
    later ones. ``malloc_trim`` hands the free pages back. Elsewhere than glibc it is a no-op.
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    except OSError:
        pass


def voice_adapter(voice: VoiceModel) -> dict[str, np.ndarray] | None:
    """The voice's AdaIN offsets by decoder layer, or None for a style-only voice."""
    found = {k[len(ADAPTER_PREFIX) :]: v for k, v in voice.arrays.items() if k.startswith(ADAPTER_PREFIX)}
    return found or None


RUNTIMES = ("auto", "openvino", "onnxruntime")


def _choose_runtime(asked: str, variant: str) -> tuple[str, str]:
    """The runtime to use and why. ``auto``: the OpenVINO decoder (int8 and bf16 convolutions) where
    OpenVINO's CPU device runs, else onnxruntime's int8 graph (also whenever an opt-in static-int8
    variant is asked for: those are onnxruntime graphs)."""
    if asked not in RUNTIMES:
        raise EngineError(f"unknown Kokoro runtime {asked!r}; choose from {', '.join(RUNTIMES)}", code="bad_runtime")
    if asked == "onnxruntime":
        return "onnxruntime", "asked for"
    if variant:
        return "onnxruntime", f"the static-int8 variant {variant!r} is an onnxruntime graph"
    reason = openvino_runtime.unavailable_reason()
    if reason is None:
        if openvino_runtime.has_bf16_units():
            return "openvino", "int8 and bf16 decoder"
        return "openvino", "int8 decoder, its bf16 convolutions in float32 (no bf16 instructions here)"
    if asked == "openvino":
        raise EngineError(f"the OpenVINO runtime is unavailable: {reason}", code="engine_assets")
    return "onnxruntime", reason
