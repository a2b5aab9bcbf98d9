"""SQLAlchemy 2 tables: one row per voice, sample and job. SQLite (embedded) and PostgreSQL are tested;
the schema is versioned by Alembic migrations (``store/migrations``)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from filelock import FileLock
from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class VoiceRow(Base):
    __tablename__ = "voices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    engine: Mapped[str] = mapped_column(String(32))
    engine_version: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))
    quality_score: Mapped[float] = mapped_column(Float)
    quality_tier: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    embedding: Mapped[list[float]] = mapped_column(JSON)
    characteristics: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_file: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    samples: Mapped[list[SampleRow]] = relationship(back_populates="voice", cascade="all, delete-orphan")
    consent: Mapped[ConsentRow | None] = relationship(cascade="all, delete-orphan")


class SampleRow(Base):
    __tablename__ = "samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    voice_id: Mapped[str] = mapped_column(ForeignKey("voices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    accepted: Mapped[bool] = mapped_column()
    original_file: Mapped[str | None] = mapped_column(String(255), nullable=True)
    cleaned_file: Mapped[str | None] = mapped_column(String(255), nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)

    voice: Mapped[VoiceRow] = relationship(back_populates="samples")


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, done, failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # what to do (a jobs.records model), so any worker can run the job from its id alone
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class ConsentRow(Base):
    """How the voice's speaker consented (a record per voice, deleted with it)."""

    __tablename__ = "consents"

    voice_id: Mapped[str] = mapped_column(ForeignKey("voices.id", ondelete="CASCADE"), primary_key=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)  # a ConsentRecord
    recording_file: Mapped[str | None] = mapped_column(String(255), nullable=True)  # in the voice's folder


class ConsentChallengeRow(Base):
    """A consent code issued to a user; deleted when it is used or found expired."""

    __tablename__ = "consent_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    speaker_name: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RateCountRow(Base):
    """Requests counted for one key in one fixed window (see ``store/rates.py``)."""

    __tablename__ = "rate_counts"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)  # the window's start, in whole windows
    hits: Mapped[int] = mapped_column(Integer, default=0)


class PronunciationRow(Base):
    __tablename__ = "pronunciations"
    __table_args__ = (UniqueConstraint("user_id", "word"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    word: Mapped[str] = mapped_column(String(64))  # lower case
    say_as: Mapped[str] = mapped_column(String(200))


class Database:
    """Owns the engine and hands out sessions that commit on success and roll back on error."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        """``migrate``: bring the schema up to date now (the embedded default); otherwise a database
        behind this release is refused until ``realvoice db upgrade`` has run."""
        from .schema import require_current, upgrade

        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True  # a server restart must not hand out dead connections
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate:
            upgrade(self.engine)
        else:
            require_current(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._local_lock = threading.Lock()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    @contextmanager
    def locked(self, key: str) -> Iterator[Session]:
        """A session that holds a lock on ``key`` until it commits, against every process on this database:
        a transaction-scoped advisory lock on PostgreSQL, a lock file beside an SQLite file."""
        if self.engine.dialect.name == "postgresql":
            with self.session() as s:
                s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
                yield s
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            with self._local_lock, self.session() as s:
                yield s
            return
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        with FileLock(f"{database}.{digest}.lock", timeout=60), self.session() as s:
            yield s

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()
