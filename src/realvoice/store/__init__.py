"""The voice store: rows in SQL (SQLite by default), files under the data folder."""

from .blobs import FileBlobStore
from .db import ConsentChallengeRow, ConsentRow, Database, JobRow, PronunciationRow, SampleRow, VoiceRow

__all__ = [
    "ConsentChallengeRow",
    "ConsentRow",
    "Database",
    "FileBlobStore",
    "JobRow",
    "PronunciationRow",
    "SampleRow",
    "VoiceRow",
]
