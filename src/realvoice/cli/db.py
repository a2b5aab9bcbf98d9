"""``realvoice db``: the database schema's version, and upgrading it in place."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

db = typer.Typer(no_args_is_help=True, help="Show or upgrade the database schema (SQLite or PostgreSQL).")
console = Console()

HomeOpt = Annotated[Path | None, typer.Option("--home", envvar="REALVOICE_HOME", help="Data folder.")]


def _engine(home: Path | None):
    from sqlalchemy import create_engine

    from ..config import Settings

    settings = Settings(home=home) if home is not None else Settings()
    if settings.database_url is None:
        settings.home.mkdir(parents=True, exist_ok=True)
    return settings, create_engine(settings.db_url)


def _shown(url) -> str:
    return url.render_as_string(hide_password=True)


@db.command("current")
def db_current(home: HomeOpt = None) -> None:
    """Print the schema revision the database is at and the one this release needs."""
    from ..store.schema import current_revision, head_revision

    _, engine = _engine(home)
    current, head = current_revision(engine), head_revision()
    state = "[green]up to date" if current == head else "[yellow]behind: run `realvoice db upgrade`"
    console.print(f"{_shown(engine.url)}: revision {current or 'none'}, this release needs {head} ({state}[/])")
    raise typer.Exit(0 if current == head else 1)


@db.command("upgrade")
def db_upgrade(home: HomeOpt = None) -> None:
    """Upgrade the database's schema to this release's, keeping every voice (safe to run twice)."""
    from ..store.schema import current_revision, upgrade

    _, engine = _engine(home)
    before = current_revision(engine)
    after = upgrade(engine)
    if before == after:
        console.print(f"{_shown(engine.url)}: already at revision {after}")
    else:
        console.print(f"{_shown(engine.url)}: upgraded from revision {before or 'none'} to {after}")
