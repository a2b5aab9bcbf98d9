"""Audio in and out: decoding any upload, writing files, resampling and loudness."""

from .dsp import db, loudness_lufs, normalize_loudness, peak_normalize, resample, rms_dbfs
from .io import Audio, atomic_sound_file, atomic_write, decode, encode, write_wav

__all__ = [
    "Audio",
    "atomic_sound_file",
    "atomic_write",
    "db",
    "decode",
    "encode",
    "loudness_lufs",
    "normalize_loudness",
    "peak_normalize",
    "resample",
    "rms_dbfs",
    "write_wav",
]
