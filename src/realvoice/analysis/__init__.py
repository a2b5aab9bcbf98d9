"""Voice analysis: acoustic features, characteristics, fingerprint and the 0-100 quality score."""

from .characteristics import characterise
from .embedding import SpeakerEncoder, cosine
from .features import VoiceFeatures, extract_features, f0_track, median_f0, voice_features
from .fingerprint import content_hash
from .score import QualityScore, score_voice

__all__ = [
    "QualityScore",
    "SpeakerEncoder",
    "VoiceFeatures",
    "characterise",
    "content_hash",
    "cosine",
    "extract_features",
    "f0_track",
    "median_f0",
    "score_voice",
    "voice_features",
]
