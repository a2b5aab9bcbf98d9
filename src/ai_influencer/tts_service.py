"""The seed's import path for the TTS service."""

from realvoice import SpeechResult, TTSService

__all__ = ["SpeechResult", "TTSService"]
