"""Consent codes: issued to one user, valid for a few minutes, good for exactly one attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from ..consent.check import Challenge
from ..consent.statement import check_speaker_name, new_code, statement
from ..errors import ConsentError
from ..models import ConsentChallenge
from .blobs import new_id
from .db import ConsentChallengeRow, Database


class ConsentChallenges:
    """Issues challenges and redeems them; a redeemed or expired challenge is gone for good."""

    def __init__(self, db: Database, ttl_s: float) -> None:
        self.db, self.ttl_s = db, ttl_s

    def issue(self, user_id: str, speaker_name: str) -> ConsentChallenge:
        name = check_speaker_name(speaker_name)
        code = new_code()
        now = datetime.now(UTC)
        row = ConsentChallengeRow(
            id=new_id(), user_id=user_id, speaker_name=name, code=code, expires_at=now + timedelta(seconds=self.ttl_s)
        )
        with self.db.session() as s:
            s.execute(delete(ConsentChallengeRow).where(ConsentChallengeRow.expires_at < now))
            s.add(row)
        return ConsentChallenge(
            challenge_id=row.id,
            speaker_name=name,
            code=code,
            statement=statement(name, code),
            expires_at=row.expires_at,
        )

    def redeem(self, user_id: str, challenge_id: str) -> Challenge:
        """Use the challenge up (whatever the recording turns out to say) and return its name and code.

        Unknown, another user's and already-used challenges read the same; an expired one says so."""
        with self.db.session() as s:
            row = s.get(ConsentChallengeRow, str(challenge_id)[:32])
            if row is None or row.user_id != user_id:
                raise ConsentError(
                    "This consent code is unknown or was already used: each code is good for one attempt. "
                    "Ask for a new statement and record it.",
                    code="consent_code_unknown",
                )
            s.delete(row)
            expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires < datetime.now(UTC):
            raise ConsentError(
                f"This consent code expired (codes last {self.ttl_s / 60:.0f} minutes). Ask for a new statement.",
                code="consent_code_expired",
            )
        return Challenge(speaker_name=row.speaker_name, code=row.code)
