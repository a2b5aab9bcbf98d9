"""API users and their keys. Only a key's SHA-256 is stored; the key itself is shown once, when made."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, String, select
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, Database

KEY_PREFIX = "rv_"


def _now() -> datetime:
    return datetime.now(UTC)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    hint: Mapped[str] = mapped_column(String(16))  # the key's first characters, to tell keys apart in a list
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


@dataclass(frozen=True)
class ApiKeyInfo:
    """A stored key as a listing shows it: whose it is and how to recognise it, never the key."""

    user_id: str
    hint: str
    revoked: bool
    created_at: datetime


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(db: Database, user_id: str) -> str:
    """Make a new key for ``user_id`` and return it; this is the only time the key is ever seen."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.session() as s:
        s.add(ApiKeyRow(key_hash=hash_key(key), user_id=user_id, hint=key[:10]))
    return key


def user_for_key(db: Database, key: str) -> str | None:
    """The user a live key belongs to, or None for an unknown or revoked key."""
    if not key or len(key) > 200:
        return None
    with db.session() as s:
        row = s.get(ApiKeyRow, hash_key(key))
        return None if row is None or row.revoked else row.user_id


def list_keys(db: Database, user_id: str | None = None) -> list[ApiKeyInfo]:
    query = select(ApiKeyRow).order_by(ApiKeyRow.user_id, ApiKeyRow.created_at)
    if user_id is not None:
        query = query.where(ApiKeyRow.user_id == user_id)
    with db.session() as s:
        return [ApiKeyInfo(r.user_id, r.hint, r.revoked, r.created_at) for r in s.scalars(query)]


def revoke_keys(db: Database, user_id: str) -> int:
    """Revoke every key of ``user_id``; returns how many were live."""
    with db.session() as s:
        rows = s.scalars(select(ApiKeyRow).where(ApiKeyRow.user_id == user_id, ApiKeyRow.revoked.is_(False))).all()
        for r in rows:
            r.revoked = True
        return len(rows)
