"""``realvoice consent`` and ``realvoice detect``: the speaker's consent statement, and finding our watermark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
consent = typer.Typer(no_args_is_help=True, help="The consent statement a speaker reads before a voice is made.")

HomeOpt = Annotated[Path | None, typer.Option("--home", envvar="REALVOICE_HOME", help="Data folder.")]
UserOpt = Annotated[str, typer.Option("--user", "-u", envvar="REALVOICE_USER", help="Whose voices.")]


@consent.command("statement")
def consent_statement(
    speaker: Annotated[str, typer.Option("--speaker", "-s", help="The speaker's name, as they will say it.")],
    user: UserOpt = "local",
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
    home: HomeOpt = None,
) -> None:
    """Print a statement with a one-time code for the speaker to read aloud; record it, then pass the
    recording to ``voices create --consent-recording FILE --consent-challenge ID``."""
    from ..errors import RealVoiceError
    from ..service import RealVoiceCloningService

    try:
        challenge = RealVoiceCloningService(home).issue_consent_challenge(user, speaker)
    except RealVoiceError as exc:
        console.print(f"[red]error:[/red] {exc.message} ({exc.code})")
        raise typer.Exit(2) from None
    if as_json:
        print(challenge.model_dump_json(indent=2))
        return
    console.print("Record the speaker reading this, word for word:\n")
    console.print(f'  [bold]"{challenge.statement}"[/bold]\n')
    console.print(f"Challenge: {challenge.challenge_id} (one attempt, until {challenge.expires_at:%H:%M} UTC)")
    console.print(
        "Then: realvoice voices create --consent-recording consent.wav "
        f"--consent-challenge {challenge.challenge_id} FILES..."
    )


def detect(
    files: Annotated[list[Path], typer.Argument(help="Audio files to check (WAV, MP3, FLAC, OGG, M4A...).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Does each file carry realvoice's watermark? Exit 0 when all do, 1 when any does not, 2 when one
    cannot be read."""
    from ..config import Settings
    from ..errors import RealVoiceError
    from ..provenance.detect import detect_file

    settings = Settings()
    status = 0
    for path in files:
        try:
            found = detect_file(path, max_bytes=settings.max_upload_bytes, max_seconds=settings.max_sample_seconds * 12)
        except RealVoiceError as exc:
            status = 2
            line = {"file": str(path), "error": exc.message, "code": exc.code}
            if as_json:
                print(json.dumps(line))
            else:
                console.print(f"{path}: [red]unreadable[/red] ({exc.message})")
            continue
        if not found.watermarked:
            status = max(status, 1)
        if as_json:
            print(json.dumps({"file": str(path), **found.model_dump(exclude={"file"})}))
        else:
            verdict = "[green]watermarked[/green]" if found.watermarked else "not watermarked"
            tag = f"; tagged by {found.tag_generator} at {found.tag_time}" if found.tag_generator else ""
            console.print(f"{path}: {verdict} (confidence {found.confidence:.2f}){tag}")
    raise typer.Exit(status)
