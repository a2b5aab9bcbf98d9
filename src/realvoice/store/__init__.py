"""The voice store: rows in SQL (SQLite by default), files under the data folder."""

from .blobs import FileBlobStore
from .db import Database, JobRow, SampleRow, VoiceRow

__all__ = ["Database", "FileBlobStore", "JobRow", "SampleRow", "VoiceRow"]
