"""Speech in a voice: sentence streams, encoded streams, and files with effects, music and the watermark.

The service resolves whose voice it is (``Resolve``); everything here is the sound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .audio import atomic_sound_file
from .audio.io import check_output_format
from .config import Settings
from .engines import Engine, VoiceModel
from .errors import InvalidInputError, RealVoiceError
from .mix import add_background_music, apply_effects, limit_true_peak, normalize, parse_effects
from .mix.level import Leveller
from .mix.master import encode_within_ceiling
from .models import SpeechResult
from .pipeline import Chunk, check_controls, prepare_text, speak_sentences, split_first_sentence, stream_speech
from .progress import Progress
from .provenance import Stamp
from .streaming import SpeechStream

LEAD_S = 0.1  # silence before the first word of a file


@dataclass(frozen=True)
class SpeakingVoice:
    """A voice checked to be the caller's: its model and the caller's pronunciation dictionary."""

    voice_id: str
    model: VoiceModel
    lexicon: dict[str, str]


Resolve = Callable[[], SpeakingVoice]  # raises VoiceNotFoundError for a voice that is not the caller's


@dataclass(frozen=True)
class Controls:
    speed: float = 1.0
    pause_scale: float = 1.0
    pitch_semitones: float = 0.0


class SpeechRenderer:
    def __init__(self, settings: Settings, engine: Callable[[], Engine]) -> None:
        self.settings = settings
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine()

    def stream(
        self,
        voice: SpeakingVoice,
        text: str,
        controls: Controls,
        *,
        progress: Progress | None = None,
        split_first: bool = True,
        max_chars: int | None = None,
    ) -> Iterator[Chunk]:
        """Sentence-by-sentence audio chunks; ``split_first`` speaks the first few words on their own."""
        return stream_speech(
            self.engine,
            voice.model,
            text,
            speed=controls.speed,
            pause_scale=controls.pause_scale,
            pitch_semitones=controls.pitch_semitones,
            max_chars=max_chars or self.settings.max_text_chars,
            lexicon=voice.lexicon,
            progress=progress,
            split_first=split_first,
        )

    def open_stream(
        self,
        resolve: Resolve,
        text: str,
        controls: Controls,
        *,
        format: str = "mp3",
        effects: Any = None,
        background_music: bool | str = False,
        progress: Progress | None = None,
    ) -> SpeechStream:
        """Encoded speech, sentence by sentence; every check runs before the first sentence is made."""
        from .audio.stream import stream_encoder
        from .mix import BEDS
        from .mix.music import is_generated_bed
        from .mix.stream import StreamMusic

        chain = parse_effects(effects)
        check_controls(controls.speed, controls.pause_scale, controls.pitch_semitones)
        if isinstance(background_music, str) and background_music.strip().lower() not in (*BEDS, "default"):
            raise InvalidInputError(
                f"unknown music {background_music!r}; choose one of {', '.join(BEDS)}", code="bad_music"
            )
        voice = resolve()
        sentences = split_first_sentence(prepare_text(text, self.settings.max_text_chars, voice.lexicon))
        sr = self.engine.sample_rate
        stamp = Stamp.for_voice(voice.voice_id)
        encoder = stream_encoder(format, sr, stamp.fields)
        music = None
        if background_music:
            track = self.music(background_music, sr)
            music = StreamMusic(track, sr, seamless=is_generated_bed(track))
        chunks = speak_sentences(
            self.engine,
            voice.model,
            sentences,
            speed=controls.speed,
            pause_scale=controls.pause_scale,
            pitch_semitones=controls.pitch_semitones,
            progress=progress,
        )
        return SpeechStream(
            chunks,
            format=format,
            sample_rate=sr,
            sentences=len(sentences),
            encoder=encoder,
            effects=chain or None,
            music=music,
            leveller=None if "normalize" in chain else self.leveller(),
            mark=lambda audio, rate, passes: stamp.mark(audio, rate, passes=passes),
        )

    def render(
        self,
        resolve: Resolve,
        text: str,
        controls: Controls,
        output_path: Path | None,
        default_path: Callable[[], Path],
        *,
        background_music: bool | str | Path = False,
        effects: Any = None,
        progress: Progress | None = None,
        max_chars: int | None = None,
        voice_id: str = "",
    ) -> SpeechResult:
        """Speak ``text``, add music and effects, and write the file; a failure is a result, never a traceback."""
        t0 = time.perf_counter()
        try:
            voice, chosen, music = self.prepare(resolve, output_path, controls, background_music, effects)
            # a file has no first-audio wait: keep the first sentence whole
            chunks = self.stream(voice, text, controls, progress=progress, split_first=False, max_chars=max_chars)
            path = output_path or default_path()
            sr = self.engine.sample_rate
            if not chosen and music is None and path.suffix.lower() in (".wav", ".flac"):
                duration = speech_s = self._write_plain(path, chunks, Stamp.for_voice(voice.voice_id))
                synth_s = time.perf_counter() - t0
            else:
                audio = np.concatenate([np.zeros(int(LEAD_S * sr), np.float32)] + [c.audio for c in chunks])
                speech_s, synth_s = len(audio) / sr, time.perf_counter() - t0
                duration = self._write_mixed(path, audio, chosen, music, Stamp.for_voice(voice.voice_id))
            return SpeechResult(
                success=True,
                audio_path=str(path),
                duration_s=round(duration, 3),
                sample_rate=sr,
                voice_id=voice.voice_id,
                text_chars=len(text),
                elapsed_s=round(time.perf_counter() - t0, 3),
                real_time_factor=round(synth_s / max(speech_s, 1e-6), 3),
                background_music=bool(background_music),
                effects=list(chosen),
            )
        except RealVoiceError as exc:
            return SpeechResult(
                success=False,
                voice_id=voice_id,
                errors=[exc.message],
                error_code=exc.code,
                elapsed_s=round(time.perf_counter() - t0, 3),
            )

    def prepare(
        self,
        resolve: Resolve,
        output_path: Path | None,
        controls: Controls,
        background_music: bool | str | Path,
        effects: Any,
    ) -> tuple[SpeakingVoice, Any, np.ndarray | None]:
        """The voice, the checked effect chain and the music bed of a render: every check that needs no
        synthesis, so a front end can call it before it shows progress."""
        voice = resolve()
        check_controls(controls.speed, 1.0, controls.pitch_semitones)
        if output_path is not None:
            check_output_format(output_path)
        chain = parse_effects(effects)
        music = self.music(background_music, self.engine.sample_rate) if background_music else None
        return voice, chain, music

    def _write_plain(self, path: Path, chunks: Iterator[Chunk], stamp: Stamp) -> float:
        """Plain speech straight to disk sentence by sentence (memory stays one sentence deep); seconds written."""
        sr = self.engine.sample_rate
        lead = np.zeros(int(LEAD_S * sr), np.float32)
        level = self.leveller()
        with atomic_sound_file(path, sr, stamp.fields) as out:
            out.write(lead)
            frames = len(lead)
            for c in chunks:
                out.write(np.clip(level(stamp.mark(c.audio, sr)), -1.0, 1.0))
                frames += len(c.audio)
        return frames / sr

    def _write_mixed(self, path: Path, audio: np.ndarray, chosen: Any, music: np.ndarray | None, stamp: Stamp) -> float:
        """Effects, music, the watermark and the loudness stage over the whole speech; seconds written."""
        sr = self.engine.sample_rate
        if chosen:
            audio = apply_effects(audio, sr, chosen)
        if music is not None:
            audio = add_background_music(audio, sr, music)
        # before the loudness stage, so its ceiling holds; a music bed masks one pass, so it gets two
        audio = stamp.mark(audio, sr, passes=2 if music is not None else 1)
        if "normalize" in chosen:  # the user's own loudness target wins over ours
            ceiling = chosen["normalize"].params["true_peak_db"]
            # the chain normalised before the music and the watermark, which can nudge a peak
            audio = limit_true_peak(audio, sr, ceiling)
        else:
            ceiling = self.settings.output_true_peak_db
            audio = normalize(audio, sr, self.settings.output_lufs, ceiling)
        encode_within_ceiling(path, audio, sr, ceiling, stamp.fields)
        return len(audio) / sr

    def leveller(self) -> Leveller:
        return Leveller(self.engine.sample_rate, self.settings.output_lufs, self.settings.output_true_peak_db)

    def music(self, spec: bool | str | Path, sr: int) -> np.ndarray:
        from .mix import load_music

        return load_music(
            spec, sr, cache_dir=self.settings.cache_dir / "music", max_bytes=self.settings.max_upload_bytes
        )
