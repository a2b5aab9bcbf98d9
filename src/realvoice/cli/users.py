"""``realvoice users``: make, list and revoke the API keys that the web API and page sign in with."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

users = typer.Typer(no_args_is_help=True, help="Create, list and revoke API users' keys.")
console = Console()
notes = Console(stderr=True)  # so that standard output holds the key alone

HomeOpt = Annotated[Path | None, typer.Option("--home", envvar="REALVOICE_HOME", help="Data folder.")]


def _database(home: Path | None):
    from ..config import Settings
    from ..store.db import Database

    settings = Settings(home=home) if home is not None else Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.db_url, migrate=settings.migrate_on_start)
    return db


def _check_name(name: str) -> str:
    from ..errors import InvalidInputError
    from ..service import check_user

    try:
        return check_user(name)
    except InvalidInputError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None


@users.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The user's id: 1-64 letters, digits, '_', '.', '@' or '-'.")],
    home: HomeOpt = None,
) -> None:
    """Make a new API key for NAME and print it (it is stored hashed: save it now, it cannot be shown again)."""
    from ..store.users import create_key

    key = create_key(_database(home), _check_name(name))
    notes.print(f"API key for [bold]{name}[/bold] (shown once; keep it secret):")
    print(key)


@users.command("list")
def list_(
    name: Annotated[str | None, typer.Argument(help="Only this user's keys.")] = None,
    home: HomeOpt = None,
) -> None:
    """List users and their keys' first characters."""
    from ..store.users import list_keys

    rows = list_keys(_database(home), name)
    table = Table(title="API keys")
    for col in ("user", "key starts", "state", "created"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.user_id, r.hint + "…", "revoked" if r.revoked else "live", r.created_at.strftime("%Y-%m-%d"))
    console.print(table if rows else "No API keys yet. Make one with: realvoice users create NAME")


@users.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="Whose keys to revoke.")], home: HomeOpt = None) -> None:
    """Revoke every key of NAME; their requests are refused from now on."""
    from ..store.users import revoke_keys

    count = revoke_keys(_database(home), _check_name(name))
    if not count:
        console.print(f"[red]error:[/red] {name} has no live keys")
        raise typer.Exit(1)
    console.print(f"revoked {count} key(s) of {name}")
