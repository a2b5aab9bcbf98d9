"""The database schema's version: Alembic migrations bring any data folder to the models' schema.

A data folder from before migrations existed has the first revision's tables and no version table;
it is stamped with the newest revision whose tables it has, then upgraded like any other. Processes
that start together (several API processes, workers) take a lock first, so one of them migrates and
the others find the schema current.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text

from ..errors import StorageError
from .db import Base

MIGRATIONS = Path(__file__).with_name("migrations")
# (revision, a table it created): how a data folder from before migrations is recognised
_BEFORE_MIGRATIONS = (("0002", "consents"), ("0001", "voices"))
_PG_LOCK_KEY = 0x7265616C  # "real": one advisory lock for every realvoice process on the database


def target_metadata() -> MetaData:
    """Every table the models declare (the API keys live in their own module)."""
    from . import users  # noqa: F401  (registers its table on Base)

    return Base.metadata


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time: a file lock beside an SQLite file, an advisory lock on PostgreSQL
    (taken inside the migration's transaction, see :func:`upgrade`)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    from filelock import FileLock

    with FileLock(f"{database}.migrate.lock", timeout=300):
        yield


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the database to ``revision`` (the newest by default); returns the revision it is at."""
    with _migration_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        cfg = _config(conn)
        if MigrationContext.configure(conn).get_current_revision() is None:
            tables = set(inspect(conn).get_table_names())
            found = next((rev for rev, table in _BEFORE_MIGRATIONS if table in tables), None)
            if found is not None:
                command.stamp(cfg, found)
        command.upgrade(cfg, revision)
        return MigrationContext.configure(conn).get_current_revision() or ""


def require_current(engine: Engine) -> None:
    """Fail clearly when the database is behind this release (and migrations are not run on start)."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise StorageError(
            f"the database is at schema revision {current or 'none'}, this release needs {head}: "
            "run `realvoice db upgrade` (back up the data folder or database first)",
            code="schema_out_of_date",
        )
