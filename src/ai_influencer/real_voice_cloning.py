"""The seed's import path for the cloning service."""

from realvoice import CloneResult, RealVoiceCloningService, RealVoiceError, SpeechResult, VoiceSummary

__all__ = ["CloneResult", "RealVoiceCloningService", "RealVoiceError", "SpeechResult", "VoiceSummary"]
