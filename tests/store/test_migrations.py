"""Schema migrations: a fresh database gets the models' schema, an old data folder upgrades in place."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from realvoice import RealVoiceCloningService
from realvoice.cli import app
from realvoice.config import Settings
from realvoice.errors import StorageError
from realvoice.store.schema import current_revision, head_revision, target_metadata, upgrade

from ..servers import fresh_database

OLD_SCHEMA = Path(__file__).with_name("data") / "before_migrations.sql"


def _differences(url: str) -> list:
    engine = create_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), target_metadata())
    finally:
        engine.dispose()


def test_the_migrations_build_exactly_the_models_schema_on_sqlite(tmp_path):
    assert _differences(f"sqlite:///{tmp_path / 'fresh.db'}") == []


def test_the_migrations_build_exactly_the_models_schema_on_postgresql(postgres_url):
    assert _differences(fresh_database(postgres_url, "schema_check")) == []


def _old_data_folder(home: Path) -> None:
    """A data folder as the last release before migrations left it: its schema, a voice with a sample,
    a finished job, a pronunciation and an API key."""
    home.mkdir(parents=True)
    db = sqlite3.connect(home / "realvoice.db")
    db.executescript(OLD_SCHEMA.read_text())
    report = json.dumps({"fit_outcome": "fitted", "warning_codes": []})
    db.execute(
        "INSERT INTO voices VALUES ('0123456789abcdef0123456789abcdef', 'alice', 'Joe', 'old voice', 'kokoro', "
        "'v1', 'fitted-adapter-fast', 88.0, 'very good', 'fp', '[]', '{}', ?, 'model.npz', '2026-12-01 10:00:00')",
        (report,),
    )
    db.execute("INSERT INTO samples VALUES (1, '0123456789abcdef0123456789abcdef', 0, 'a.wav', 1, NULL, NULL, '{}')")
    db.execute(
        "INSERT INTO jobs VALUES ('fedcba9876543210fedcba9876543210', 'alice', 'voice', 'done', 1.0, 'voice ready', "
        "NULL, '2026-12-01 10:00:00', '2026-12-01 10:01:00')"
    )
    db.execute("INSERT INTO pronunciations VALUES (1, 'alice', 'kokoro', 'koh-koh-roh')")
    db.execute("INSERT INTO api_keys VALUES ('ab' || hex(randomblob(31)), 'alice', 'rv_abc', 0, '2026-12-01')")
    db.commit()
    db.close()
    _old_voice_model(home / "voices" / "0123456789abcdef0123456789abcdef" / "model.npz")


def _old_voice_model(path: Path) -> None:
    """The voice's model file: a stock style, as a style-only fit of that release saved it."""
    from realvoice.engines import VoiceModel
    from realvoice.engines.kokoro import assets
    from realvoice.engines.kokoro.engine import VERSION

    style = next(iter(assets.stock_voices().values()))
    path.parent.mkdir(parents=True)
    VoiceModel("kokoro", VERSION, "fitted-adapter-fast", {"style": style.reshape(style.shape[0], -1)}).save(path)


def test_a_data_folder_from_before_migrations_upgrades_in_place_with_its_voices(tmp_path):
    home = tmp_path / "home"
    _old_data_folder(home)
    service = RealVoiceCloningService(home)  # migrates on start, the embedded default
    try:
        assert current_revision(service.db.engine) == head_revision()
        [voice] = service.get_user_voices("alice")
        assert (voice.name, voice.quality_score, voice.sample_count, voice.consent) == ("Joe", 88.0, 1, "none")
        assert {"consents", "consent_challenges"} <= set(inspect(service.db.engine).get_table_names())
        challenge = service.issue_consent_challenge("alice", "Joe")  # the new tables work
        assert challenge.code
        spoken = service.render(
            voice.voice_id, "Hello from before the upgrade.", "alice", output_path=tmp_path / "a.wav"
        )
        assert spoken.success and spoken.duration_s > 1.0, spoken  # the old voice still speaks
    finally:
        service.close()


def test_a_process_that_does_not_migrate_refuses_an_old_database_until_it_is_upgraded(tmp_path):
    home = tmp_path / "home"
    _old_data_folder(home)
    strict = Settings(home=home, migrate_on_start=False)
    with pytest.raises(StorageError) as refused:
        RealVoiceCloningService(settings=strict)
    assert refused.value.code == "schema_out_of_date" and "realvoice db upgrade" in refused.value.message

    runner = CliRunner()
    behind = runner.invoke(app, ["db", "current", "--home", str(home)])
    assert behind.exit_code == 1 and "behind" in behind.output
    upgraded = runner.invoke(app, ["db", "upgrade", "--home", str(home)])
    assert upgraded.exit_code == 0 and f"to {head_revision()}" in upgraded.output
    again = runner.invoke(app, ["db", "upgrade", "--home", str(home)])
    assert again.exit_code == 0 and "already at" in again.output

    service = RealVoiceCloningService(settings=strict)
    try:
        assert [v.name for v in service.get_user_voices("alice")] == ["Joe"]
    finally:
        service.close()


def test_processes_starting_together_migrate_once(postgres_url):
    url = fresh_database(postgres_url, "together")
    engines = [create_engine(url) for _ in range(4)]
    results: list[str] = []
    errors: list[BaseException] = []

    def start(engine) -> None:
        try:
            results.append(upgrade(engine))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert errors == [] and results == [head_revision()] * 4
