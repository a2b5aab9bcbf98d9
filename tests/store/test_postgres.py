"""The service on PostgreSQL, the production database: a voice's whole life, its job and its consent code."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from realvoice import RealVoiceCloningService
from realvoice.config import Settings
from realvoice.store.db import ConsentChallengeRow, JobRow, SampleRow, VoiceRow

from ..servers import fresh_database

pytestmark = pytest.mark.slow


def _count(service, table) -> int:
    with service.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_a_voice_lives_and_dies_in_postgresql(service, piper_samples, postgres_url, tmp_path):
    settings = Settings(home=tmp_path / "home", database_url=fresh_database(postgres_url, "service"))
    pg = RealVoiceCloningService(settings=settings, engine=service.engine)  # the session's engine, loaded once
    try:
        made = pg.create_voice("alice", "Joe", piper_samples, mode="nearest-stock")
        assert made.success, made.errors
        [listed] = pg.get_user_voices("alice")
        assert listed.voice_id == made.voice_id and listed.sample_count == len(piper_samples)
        assert pg.get_user_voices("bob") == []
        detail = pg.get_user_voice(made.voice_id, "alice")
        assert detail.created_at.tzinfo is not None  # PostgreSQL keeps the time zone
        assert _count(pg, JobRow) == 1

        challenge = pg.issue_consent_challenge("alice", "Joe")
        pg.consent_challenges.redeem("alice", challenge.challenge_id)  # aware datetimes compare
        assert _count(pg, ConsentChallengeRow) == 0

        assert pg.delete_user_voice(made.voice_id, "alice")
        assert pg.get_user_voices("alice") == []
        assert (_count(pg, VoiceRow), _count(pg, SampleRow), _count(pg, JobRow)) == (0, 0, 0)
    finally:
        pg.close()
