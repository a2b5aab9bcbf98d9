"""Each user's pronunciation dictionary: words and how to say them, in the database."""

from __future__ import annotations

from sqlalchemy import select

from ..text import check_entry
from .db import Database, PronunciationRow


class LexiconStore:
    """A user's words; ``say_as`` is a respelling ("win") or phonemes between slashes ("/ŋwˈɪn/")."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def set(self, user_id: str, word: str, say_as: str) -> None:
        word, say_as = check_entry(word, say_as)
        with self.db.session() as s:
            row = s.scalar(
                select(PronunciationRow).where(
                    PronunciationRow.user_id == user_id, PronunciationRow.word == word.lower()
                )
            )
            if row is None:
                s.add(PronunciationRow(user_id=user_id, word=word.lower(), say_as=say_as))
            else:
                row.say_as = say_as

    def words(self, user_id: str) -> dict[str, str]:
        with self.db.session() as s:
            rows = s.scalars(select(PronunciationRow).where(PronunciationRow.user_id == user_id)).all()
            return {r.word: r.say_as for r in rows}

    def delete(self, user_id: str, word: str) -> bool:
        with self.db.session() as s:
            row = s.scalar(
                select(PronunciationRow).where(
                    PronunciationRow.user_id == user_id, PronunciationRow.word == (word or "").strip().lower()
                )
            )
            if row is None:
                return False
            s.delete(row)
            return True
