"""The Kokoro engine: ONNX session loaded once, phonemes in, 24 kHz audio out; nearest-stock enrollment."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ...analysis import SpeakerEncoder, cosine, median_f0
from ...audio import atomic_write, resample, spectrum
from ...errors import EngineError, ModelFileError
from ..base import PHONEME_MARKER, EnrollSample, Progress, VoiceModel
from . import adapters, assets, fast, openvino_runtime
from .phonemes import Phonemizer

SAMPLE_RATE = 24000
MAX_TOKENS = 510
VERSION = "kokoro-82m-v1.0-int8/3"  # /3: a spectral correction per voice; /2: AdaIN adapters, pitch scale
SUPPORTED_VERSIONS = (VERSION, "kokoro-82m-v1.0-int8/2", "kokoro-82m-v1.0-int8/1")
EQ_ARRAY = "eq_db"  # voice-model array: the voice's spectral correction, dB per bin of audio.spectrum
ADAPTER_PREFIX = "adain."  # voice-model arrays holding AdaIN bias offsets, one per decoder layer

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
# Two sentences, judged together: on one sentence of eighteen words, Whisper mishearing three words
# of a good fit sent it back to a stranger (issue 21).
VALIDATION_SENTENCE = (
    "We should be there by six, unless the traffic is terrible again, so keep the soup warm for us. "
    "The old keeper climbed the narrow stairs each evening, carrying a lamp and a book of poems."
)
# A fit may cost at most this much intelligibility (Whisper word error rate on the validation
# sentences, over the start voice's): about four words of thirty-five.
WER_TOLERANCE = 0.12
# When neither of the fit's own points passes, points this far from the start voice toward the fit
# are tried in turn: a voice partly like the speaker instead of a stranger.
BLEND_SHARES = (0.6, 0.35)
# Median speaking pitch of adults: men about 85-155 Hz, women about 165-255 Hz.
FEMALE_FROM_HZ = 160.0
MALE_BELOW_HZ = 150.0
# What follows the fit (validation, the pitch scale, the EQ: syntheses, Whisper, embeddings), and
# the shortest fit worth running when an enrollment deadline is tight.
# 3.4-5.3 s measured; the fit's earlier point (~2.4 s more) is only scored when the end point fails
VALIDATION_SECONDS = 5.5
MIN_FIT_SECONDS = 30.0


class KokoroEngine:
    """One instance per process and cache folder; ``load`` opens the ONNX session once."""

    name = "kokoro"
    version = VERSION
    sample_rate = SAMPLE_RATE

    _instances: dict[str, KokoroEngine] = {}
    _lock = threading.Lock()

    def __init__(self, cache_dir: Path, threads: int = 0, fit_mode: str = "fast", runtime: str | None = None) -> None:
        """``runtime``: "auto" (the default, or ``REALVOICE_KOKORO_RUNTIME``), "openvino" or "onnxruntime"."""
        import onnxruntime as ort

        self.cache_dir = Path(cache_dir)
        self.model_path = assets.model_path(assets.shared_cache())
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # the exposed adapter inputs make onnxruntime warn once per input
        fast_variant = os.environ.get("REALVOICE_KOKORO_FAST", "")
        asked = runtime or os.environ.get("REALVOICE_KOKORO_RUNTIME", "auto")
        self.runtime, self.runtime_note = _choose_runtime(asked, fast_variant)
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
                if fast_variant:
                    # opt-in static int8 vocoder convolutions: faster, but fitted voices lose some identity
                    self.session_path = fast.fast_model_path(
                        self.session_path, key, threads=threads, selection=fast_variant
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
        cls, cache_dir: Path, *, threads: int = 0, fit_mode: str = "fast", runtime: str | None = None
    ) -> KokoroEngine:
        key = f"{Path(cache_dir).resolve()}|{fit_mode}|{runtime}"
        with cls._lock:
            if key not in cls._instances:
                cls._instances[key] = cls(Path(cache_dir), threads, fit_mode, runtime)
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

        return _cached_json(self.cache_dir / "kokoro-stock-profiles.json", key, profiles)

    def enroll(
        self,
        samples: Sequence[EnrollSample],
        *,
        progress: Progress | None = None,
        mode: str | None = None,
        deadline: float | None = None,
    ) -> VoiceModel:
        """Fit a voice to the samples (mode "fast", "style" or "thorough"), or pick the nearest stock voice.

        ``deadline`` (``time.perf_counter()``) shortens a fast fit so that validation still ends by it.
        """
        mode = mode or self.fit_mode
        if mode not in FIT_MODES:
            raise EngineError(f"unknown fit mode {mode!r}; choose from {', '.join(FIT_MODES)}", code="bad_fit_mode")
        if mode == "nearest-stock" or not any(s.transcript for s in samples):
            return self._nearest_stock(samples, progress=progress)
        try:
            return self._fit(samples, mode, progress, deadline)
        finally:
            give_back_freed_memory()

    def torch_model(self):
        """The differentiable PyTorch copy, rebuilt from the ONNX on first use (a few seconds)."""
        with self._fit_lock:
            if self._torch_model is None:
                from .torch_model import load_torch_model

                self._torch_model = load_torch_model(str(self.model_path))
            return self._torch_model

    def _fit(
        self, samples: Sequence[EnrollSample], mode: str, progress: Progress | None, deadline: float | None = None
    ) -> VoiceModel:
        """Teacher-forced fit of the 256 style values to the samples, validated before it is kept.

        Validation: two sentences none of the samples contains are spoken with the start voice and
        with the fitted one; the fitted voice must sound more like the samples (speaker embedding) and
        stay as intelligible (Whisper, within ``WER_TOLERANCE``). Failing that, the fit's earlier point
        and then blends toward the start voice (``BLEND_SHARES``) are tried, so that a fit which moved
        a long way is not thrown away whole; only when none passes is the start voice kept, and the
        model says so. A pitch scale that costs words is dropped before the fit is judged. The
        embedding is Resemblyzer's, which the fit's loss also uses, so that half of the check is a
        sanity check; the words are the independent half.
        """
        from . import fit

        def report(fraction: float, message: str) -> None:
            if progress:
                progress(fraction, message)

        report(0.02, "loading the fitting model")
        model = self.torch_model()
        target = np.mean([s.embedding for s in samples], axis=0)
        target /= np.linalg.norm(target) + 1e-9
        pairs = [(s.audio, self.phonemize(s.transcript)) for s in samples if s.transcript]
        sample_f0s = [median_f0(s.audio, s.sample_rate) for s in samples]
        voiced = [f for f in sample_f0s if f > 0]
        starts = {k: v[:, None, :] for k, v in start_voices(self._stock, float(np.median(voiced or [0]))).items()}
        start_name, start = fit.choose_start_style(model, pairs, starts)
        check = _Validation(self, target)
        # the start voice's score is cached per machine; measured here, before the fit's budget is set,
        # its first measurement (~2 s) cannot push the enrollment past the deadline
        sim_start, wer_start = check.stock(start_name)
        budget: float | str = "default"
        if deadline is not None and mode != "thorough":
            left = deadline - time.perf_counter() - VALIDATION_SECONDS
            budget = float(np.clip(left, MIN_FIT_SECONDS, fit.FAST.time_budget_s or 0.0))
        with self._fit_lock:  # one fit at a time: each takes both cores and ~3 GB
            style, metrics = fit.fit_style(
                model,
                pairs,
                start,
                mode=mode,
                progress=lambda f, m: report(0.05 + 0.85 * f, m),
                synthesize=self._synthesize_with_durations,
                speaker=(SpeakerEncoder.load().module, target),
                time_budget_s=budget,
            )
        report(0.92, "validating the fitted voice")

        def as_table(row: np.ndarray) -> np.ndarray:  # one fitted row for every token length
            return np.repeat(np.asarray(row, np.float32)[None, :], len(self._stock[start_name]), axis=0)

        adapter = metrics.get("adapter") or {}
        fitted = check.speak(as_table(style), adapter)
        f0_scale = pitch_correction(sample_f0s, median_f0(fitted, SAMPLE_RATE))
        spoken = check.speak(as_table(style), adapter, f0_scale) if f0_scale != 1.0 else fitted
        sim_fit, wer_fit = check.score(spoken)
        if f0_scale != 1.0 and wer_fit > wer_start + WER_TOLERANCE:
            # a large pitch move can blur words; the fit without it may still be worth keeping
            f0_scale, spoken = 1.0, fitted
            sim_fit, wer_fit = check.score(fitted)
        end = _Point("end", 1.0, 0, as_table(style), adapter, spoken, sim_fit, wer_fit)
        fallback = metrics.get("fallback")
        earlier = (
            _Point("earlier", 1.0, int(fallback["step"]), as_table(fallback["style"]), fallback["adapter"] or {})
            if fallback is not None
            else None
        )
        blends = [
            _Point(f"blend {share:g}", share, 0, as_table(start + share * (style - start)), _scaled(adapter, share))
            for share in BLEND_SHARES
        ]
        chosen, tried = _first_passing(check, [end, earlier, *blends], sim_start, wer_start + WER_TOLERANCE)
        kept = chosen is not None
        if chosen is not None and chosen is not end:
            f0_scale = 1.0  # the pitch scale was measured on the end point
        fallback_step = chosen.step if chosen is not None else 0
        share = chosen.share if chosen is not None else 0.0
        sim_end, wer_end = end.similarity, end.wer
        table_fit = end.table
        if chosen is not None:
            table_fit, adapter, spoken = chosen.table, chosen.adapter, chosen.spoken
            sim_fit, wer_fit = chosen.similarity, chosen.wer
        sim_back = wer_back = -1.0  # -1: the earlier point was not scored
        if earlier is not None and any(p is earlier for p in tried):
            sim_back, wer_back = earlier.similarity, earlier.wer
        report(0.96, "matching the voice's tone")
        if not kept:
            spoken = check.speak(self._stock[start_name])
        recordings = [resample(s.audio, s.sample_rate, SAMPLE_RATE) for s in samples]
        eq, sim_eq, wer_eq = check.spectral_correction(recordings, spoken, wer_start + WER_TOLERANCE)
        report(1.0, "voice fitted" if kept else "fit rejected; keeping the start voice")
        summary = {
            "validation_similarity": round(sim_fit if kept else sim_start, 4),
            "start_similarity": round(sim_start, 4),
            "fitted_similarity": round(sim_fit, 4),
            "start_wer": round(wer_start, 3),
            "fitted_wer": round(wer_fit, 3),
            "fit_seconds": round(float(metrics.get("seconds", 0.0)), 1),
            "timbre_steps": float(metrics.get("timbre_steps", 0)),
            "fallback_step": float(fallback_step),
            "fit_share": share,
            "points_tried": float(len(tried)),
            "end_similarity": round(sim_end, 4),
            "end_wer": round(wer_end, 3),
            "earlier_similarity": round(sim_back, 4),
            "earlier_wer": round(wer_back, 3),
            "fit_logmel_start": round(float(metrics.get("val_logmel_start", 0.0)), 3),
            "fit_logmel_end": round(float(metrics.get("val_logmel_end", 0.0)), 3),
            "f0_scale": f0_scale,
            "adapter_rms": round(float(metrics.get("adapter_rms", 0.0)), 4),
            "eq_applied": eq is not None,
            "eq_similarity": round(sim_eq, 4),
            "eq_wer": round(wer_eq, 3),
            "eq_range_db": round(float(np.ptp(eq)), 1) if eq is not None else 0.0,
        }
        params = {"start_voice": start_name, "mode": mode, "fit_kept": kept, "fit_share": share}
        extra = {EQ_ARRAY: eq} if eq is not None else {}
        if not kept:
            return VoiceModel(
                self.name,
                self.version,
                "nearest-stock",
                {"style": self._stock[start_name].copy(), **extra},
                params,
                summary,
            )
        arrays = {"style": table_fit, **{ADAPTER_PREFIX + k: v for k, v in adapter.items()}, **extra}
        method = f"fitted-{'adapter' if adapter else 'style'}-{'thorough' if mode == 'thorough' else 'fast'}"
        return VoiceModel(self.name, self.version, method, arrays, {**params, "f0_scale": f0_scale}, summary)

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


@dataclass(eq=False)
class _Point:
    """A voice validation may keep: the fit's end point, its earlier point, or a blend toward the start."""

    label: str
    share: float  # how far from the start voice toward the fit: 1 for the fit's own points
    step: int  # the fit's update count at an earlier point, 0 otherwise
    table: np.ndarray
    adapter: dict[str, np.ndarray]
    spoken: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # empty: not yet spoken
    similarity: float = -1.0
    wer: float = -1.0


def _scaled(adapter: dict[str, np.ndarray], share: float) -> dict[str, np.ndarray]:
    return {k: (share * v).astype(np.float32) for k, v in adapter.items()}


def _first_passing(
    check: _Validation, points: Sequence[_Point | None], min_similarity: float, max_wer: float
) -> tuple[_Point | None, list[_Point]]:
    """The first point, in the order given, that sounds more like the samples than the start voice
    and keeps the words; and every point scored on the way (a point already spoken is not again)."""
    tried = []
    for point in points:
        if point is None:
            continue
        if not point.spoken.size:
            point.spoken = check.speak(point.table, point.adapter)
            point.similarity, point.wer = check.score(point.spoken)
        tried.append(point)
        if point.similarity >= min_similarity and point.wer <= max_wer:
            return point, tried
    return None, tried


class _Validation:
    """The validation sentence spoken with a style table, scored as (similarity to the samples, WER)."""

    def __init__(self, engine: KokoroEngine, target: np.ndarray) -> None:
        self.engine, self.target = engine, target
        self.encoder = SpeakerEncoder.load()
        self.phonemes = engine.phonemize(VALIDATION_SENTENCE)

    def speak(self, table: np.ndarray, adapter: dict | None = None, f0_scale: float = 1.0) -> np.ndarray:
        return self.engine.synthesize_phonemes(table, self.phonemes, f0_scale=f0_scale, adapter=adapter)

    def _measure(self, audio: np.ndarray) -> tuple[np.ndarray, float]:
        from ...analysis.transcribe import transcribe, word_error_rate

        wer = word_error_rate(VALIDATION_SENTENCE, transcribe(audio, SAMPLE_RATE))
        return self.encoder.embed(audio, SAMPLE_RATE), wer

    def score(self, audio: np.ndarray) -> tuple[float, float]:
        embedding, wer = self._measure(audio)
        return cosine(self.target, embedding), wer

    def spectral_correction(
        self, samples: Sequence[np.ndarray], spoken: np.ndarray, max_wer: float
    ) -> tuple[np.ndarray | None, float, float]:
        """An EQ toward the samples' long-term spectrum, kept only if the words survive it.

        ``spoken`` is the voice's validation sentence. Returns (gain per bin or None, similarity and
        WER of ``spoken`` through the EQ). The similarity is reported, not used: measured on the very
        sentence the EQ was built from, it proves nothing; ``bench/clone_quality.py`` measures the EQ
        on other sentences with two speaker encoders.
        """
        target = np.mean([spectrum.ltas(a) for a in samples], axis=0)
        fmax = spectrum.shared_bandwidth_hz(samples, SAMPLE_RATE)
        eq = spectrum.correction_db(target, spectrum.ltas(spoken), SAMPLE_RATE, fmax=fmax)
        sim, wer = self.score(spectrum.apply_fir(spoken, spectrum.correction_fir(eq)))
        if wer > max_wer:
            return None, sim, wer
        return eq, sim, wer

    def stock(self, name: str) -> tuple[float, float]:
        """Score of a stock voice; its embedding and WER depend only on the voice, so they are cached."""
        key = hashlib.sha256(
            f"{assets.expected_sha256()}|{name}|{VALIDATION_SENTENCE}|{VERSION}|{self.engine.runtime_id}".encode()
        ).hexdigest()

        def measure() -> dict:
            embedding, wer = self._measure(self.speak(self.engine._stock[name]))
            return {"embedding": embedding.tolist(), "wer": wer}

        # one file per machine, beside the assembled model: it depends on the model, the voice and the runtime
        folder = self.engine.model_path.parent
        cached = _cached_json(folder / f"kokoro-validation-{key[:24]}.json", key, measure)
        return cosine(self.target, np.asarray(cached["embedding"], np.float32)), float(cached["wer"])


def _cached_json(path: Path, key: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` kept as JSON at ``path``; computed again when ``key`` changed or the file is unreadable."""
    try:
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            return cached["value"]
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    value = compute()
    payload = json.dumps({"key": key, "value": value})
    atomic_write(path, lambda tmp: Path(tmp).write_text(payload))
    return value


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


def start_voices(stock: dict[str, np.ndarray], f0_hz: float) -> dict[str, np.ndarray]:
    """The stock voices a fit may start from: those of the speaker's gender as told by pitch.

    A start voice of the other gender must be pulled across the whole pitch and formant range by a
    one-minute fit (a 172 Hz woman's fit started from the one male voice). Stock names carry the
    gender in their second letter (``jf_``, ``jm_``); between the two bounds both are allowed.
    """
    if f0_hz >= FEMALE_FROM_HZ:
        wanted = "f"
    elif 0 < f0_hz < MALE_BELOW_HZ:
        wanted = "m"
    else:
        return stock
    chosen = {k: v for k, v in stock.items() if k[1:2] == wanted}
    return chosen or stock


def pitch_correction(sample_f0s: Sequence[float], fitted_f0: float, limit: float = 0.18) -> float:
    """Scale for the fitted voice's predicted pitch so its median matches the person's samples.

    A one-minute prosody fit leaves the pitch a few percent off (measured 4-6 % on dev speakers);
    a difference under 1.5 % is left alone, and the scale never exceeds ±18 % (about 3 semitones).
    """
    voiced = [f for f in sample_f0s if f > 0]
    if not voiced or fitted_f0 <= 0:
        return 1.0
    ratio = float(np.median(voiced)) / fitted_f0
    if abs(math.log(ratio)) < math.log(1.015):
        return 1.0
    return round(float(np.clip(ratio, 1 / (1 + limit), 1 + limit)), 4)


def voice_adapter(voice: VoiceModel) -> dict[str, np.ndarray] | None:
    """The voice's AdaIN offsets by decoder layer, or None for a style-only voice."""
    found = {k[len(ADAPTER_PREFIX) :]: v for k, v in voice.arrays.items() if k.startswith(ADAPTER_PREFIX)}
    return found or None


RUNTIMES = ("auto", "openvino", "onnxruntime")


def _choose_runtime(asked: str, fast_variant: str) -> tuple[str, str]:
    """The runtime to use and why. ``auto``: the OpenVINO decoder (int8 and bf16 convolutions) where
    OpenVINO's CPU device runs, else onnxruntime's int8 graph (also whenever an opt-in static-int8
    variant is asked for: those are onnxruntime graphs)."""
    if asked not in RUNTIMES:
        raise EngineError(f"unknown Kokoro runtime {asked!r}; choose from {', '.join(RUNTIMES)}", code="bad_runtime")
    if asked == "onnxruntime":
        return "onnxruntime", "asked for"
    if fast_variant:
        return "onnxruntime", f"the static-int8 variant {fast_variant!r} is an onnxruntime graph"
    reason = openvino_runtime.unavailable_reason()
    if reason is None:
        if openvino_runtime.has_bf16_units():
            return "openvino", "int8 and bf16 decoder"
        return "openvino", "int8 decoder, its bf16 convolutions in float32 (no bf16 instructions here)"
    if asked == "openvino":
        raise EngineError(f"the OpenVINO runtime is unavailable: {reason}", code="engine_assets")
    return "onnxruntime", reason
