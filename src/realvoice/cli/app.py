"""``realvoice``: create, list, show and delete voices, speak text, and run the demo."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..models import CloneResult, SpeechResult

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Offline voice cloning on a plain CPU.")
voices = typer.Typer(no_args_is_help=True, help="Create, list, show and delete voices.")
words = typer.Typer(no_args_is_help=True, help="Your pronunciation dictionary.")
app.add_typer(voices, name="voices")
app.add_typer(words, name="words")
console = Console()

HomeOpt = Annotated[Path | None, typer.Option("--home", envvar="REALVOICE_HOME", help="Data folder.")]
UserOpt = Annotated[str, typer.Option("--user", "-u", envvar="REALVOICE_USER", help="Whose voices.")]


def _service(home: Path | None):
    from ..service import RealVoiceCloningService

    return RealVoiceCloningService(home)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<34}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _run_with_bar(label: str, fn):
    with _progress() as bar:
        task = bar.add_task(label, total=1.0)

        def update(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=message[:34])

        result = fn(update)
        bar.update(task, completed=1.0)
    return result


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def print_clone_report(r: CloneResult) -> None:
    table = Table(title="Samples", show_lines=False)
    for col in ("file", "verdict", "speech s", "SNR dB", "quality", "reasons"):
        table.add_column(col)
    for s in r.sample_reports:
        table.add_row(
            s.file,
            "[green]accepted" if s.accepted else "[red]rejected",
            f"{s.metrics.speech_s:.1f}",
            f"{s.metrics.snr_db:.0f}",
            f"{s.quality:.0f}",
            "; ".join(s.reasons) or "-",
        )
    console.print(table)
    if not r.success:
        console.print(f"[red]Voice not created ({r.error_code}):[/red]\n" + "\n".join(r.errors))
    else:
        c = r.characteristics
        if r.fit_outcome == "stock":
            console.print(f"[bold red]Voice created, but it is not your voice:[/bold red] {r.voice_id}  ({r.name})")
        elif r.fit_outcome == "partly_fitted":
            console.print(f"[bold yellow]Voice created, only partly like you:[/bold yellow] {r.voice_id}  ({r.name})")
        else:
            console.print(f"[bold green]Voice created:[/bold green] {r.voice_id}  ({r.name})")
        console.print(f"Quality: [bold]{r.quality_score:.0f}/100[/bold] ({r.quality_tier})  {r.quality_breakdown}")
        if c:
            console.print(
                f"Voice: {c.gender} ({c.gender_confidence:.0%}), {c.age_band} (estimate, "
                f"{c.age_confidence:.0%}), tone {', '.join(c.tone)}, pitch {c.pitch_hz:.0f} Hz, "
                f"{c.speaking_rate_wps:.1f} words/s"
            )
        console.print(f"Method: {r.method} on {r.engine}; validation {r.validation}")
        console.print(f"Speech used: {r.total_speech_s:.1f} s in {r.elapsed_s:.1f} s")
    for w in r.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    for tip in r.recommendations:
        console.print(f"[cyan]tip:[/cyan] {tip}")


def _print_speech(r: SpeechResult) -> None:
    if not r.success:
        _fail(f"{'; '.join(r.errors)} ({r.error_code})")
    console.print(
        f"[green]wrote[/green] {r.audio_path}  ({r.duration_s:.1f} s at {r.sample_rate} Hz, "
        f"synthesis RTF {r.real_time_factor:.2f})"
    )


@voices.command("create")
def voices_create(
    files: Annotated[list[Path], typer.Argument(help="Five or more recordings of one speaker.")],
    user: UserOpt = "local",
    name: Annotated[str, typer.Option("--name", "-n")] = "My voice",
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    allow_duplicate: bool = False,
    home: HomeOpt = None,
) -> None:
    """Check, clean and analyse the recordings and build a voice."""
    svc = _service(home)
    result = _run_with_bar(
        "cloning",
        lambda cb: svc.create_voice(user, name, files, description, progress=cb, allow_duplicate=allow_duplicate),
    )
    print_clone_report(result)
    if not result.success:
        raise typer.Exit(2)


@voices.command("list")
def voices_list(user: UserOpt = "local", home: HomeOpt = None) -> None:
    """List a user's voices."""
    rows = _service(home).get_user_voices(user)
    table = Table(title=f"Voices of {user}")
    table.add_column("id", no_wrap=True, min_width=32)
    for col in ("name", "quality", "tier", "likeness", "method", "created"):
        table.add_column(col)
    likeness = {"fitted": "[green]your voice", "partly_fitted": "[yellow]partly", "stock": "[red]stock voice"}
    for v in rows:
        table.add_row(
            v.voice_id,
            v.name,
            f"{v.quality_score:.0f}",
            v.quality_tier,
            likeness[v.fit_outcome],
            v.method,
            v.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table if rows else "No voices yet. Create one with: realvoice voices create FILES...")


@voices.command("show")
def voices_show(voice_id: str, user: UserOpt = "local", home: HomeOpt = None) -> None:
    """Show a voice's report."""
    from ..errors import RealVoiceError

    try:
        detail = _service(home).get_user_voice(voice_id, user)
    except RealVoiceError as exc:
        _fail(exc.message)
    console.print_json(detail.model_dump_json())


@voices.command("plot")
def voices_plot(
    voice_id: str,
    user: UserOpt = "local",
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("voice_report.png"),
    home: HomeOpt = None,
) -> None:
    """Save the voice's report picture: pitch histogram, sample quality, speaker consistency."""
    import shutil

    from ..errors import RealVoiceError

    try:
        shutil.copyfile(_service(home).voice_report_plot(voice_id, user), output)
    except RealVoiceError as exc:
        _fail(exc.message)
    console.print(f"wrote {output}")


@voices.command("verify")
def voices_verify(voice_id: str, clip: Path, user: UserOpt = "local", home: HomeOpt = None) -> None:
    """Is this recording the same person as the voice?"""
    from ..errors import RealVoiceError

    try:
        r = _service(home).verify_speaker(voice_id, clip, user)
    except RealVoiceError as exc:
        _fail(exc.message)
    verdict = "[green]same speaker" if r["same_speaker"] else "[red]different speaker"
    console.print(f"{verdict}[/] (similarity {r['similarity']:.2f}, threshold {r['threshold']:.2f})")


@words.command("add")
def words_add(word: str, say_as: str, user: UserOpt = "local", home: HomeOpt = None) -> None:
    """Teach your voices a word: a respelling ("win") or phonemes between slashes ("/ŋwˈɪn/")."""
    from ..errors import RealVoiceError

    try:
        _service(home).set_pronunciation(user, word, say_as)
    except RealVoiceError as exc:
        _fail(exc.message)
    console.print(f"{word} -> {say_as}")


@words.command("list")
def words_list(user: UserOpt = "local", home: HomeOpt = None) -> None:
    """Show your pronunciation dictionary."""
    for word, say_as in sorted(_service(home).get_pronunciations(user).items()):
        console.print(f"{word} -> {say_as}")


@words.command("remove")
def words_remove(word: str, user: UserOpt = "local", home: HomeOpt = None) -> None:
    """Forget a word."""
    if not _service(home).delete_pronunciation(user, word):
        _fail(f"{word!r} is not in the dictionary")
    console.print(f"removed {word}")


@voices.command("delete")
def voices_delete(voice_id: str, user: UserOpt = "local", home: HomeOpt = None) -> None:
    """Delete a voice and all its files."""
    if not _service(home).delete_user_voice(voice_id, user):
        _fail(f"voice {voice_id} not found")
    console.print(f"deleted {voice_id}")


@app.command()
def say(
    text: Annotated[str, typer.Argument(help="Text to speak; '-' reads standard input.")],
    voice: Annotated[str, typer.Option("--voice", "-v")],
    user: UserOpt = "local",
    output: Annotated[Path, typer.Option("--output", "-o", help=".wav, .flac, .ogg or .mp3")] = Path("out.wav"),
    speed: float = 1.0,
    music: Annotated[bool, typer.Option("--music", help="Add a background music bed.")] = False,
    effect: Annotated[
        list[str] | None, typer.Option("--effect", "-e", help="reverb, echo, compression, eq, normalize")
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Speak text in a voice."""
    if text == "-":
        text = sys.stdin.read()
    svc = _service(home)
    result = _run_with_bar(
        "speaking",
        lambda cb: svc.render(
            voice, text, user, output_path=output, speed=speed, background_music=music, effects=effect, progress=cb
        ),
    )
    _print_speech(result)


@app.command()
def demo(
    samples: Annotated[Path | None, typer.Option(help="Folder of your own recordings (else Piper makes six).")] = None,
    out: Annotated[Path, typer.Option(help="Where to write the WAV files.")] = Path("out"),
    home: HomeOpt = None,
) -> None:
    """The main job: make (or take) enrollment recordings, clone the voice, and speak a paragraph."""
    from ..demo import DEMO_PARAGRAPH, make_piper_samples

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    home = home or Path(os.environ.get("REALVOICE_HOME") or out / "data")
    if samples is None:
        console.print("Recording six enrollment samples with the Piper 'joe' voice (not a Kokoro voice)...")
        files = make_piper_samples(out / "samples")
    else:
        files = sorted(p for p in samples.iterdir() if p.is_file())
    for f in files:
        console.print(f"  sample: {f}")
    svc = _service(home)
    result = _run_with_bar(
        "cloning", lambda cb: svc.create_voice("demo", "Demo voice", files, progress=cb, allow_duplicate=True)
    )
    print_clone_report(result)
    if not result.success:
        raise typer.Exit(2)
    speech = _run_with_bar(
        "speaking",
        lambda cb: svc.render(
            result.voice_id, DEMO_PARAGRAPH, "demo", output_path=out / "cloned_speech.wav", progress=cb
        ),
    )
    _print_speech(speech)
    produced = _run_with_bar(
        "mixing",
        lambda cb: svc.render(
            result.voice_id,
            DEMO_PARAGRAPH,
            "demo",
            output_path=out / "cloned_speech_produced.wav",
            background_music=True,
            effects="podcast",
            progress=cb,
        ),
    )
    _print_speech(produced)
    console.print(f"[bold]Done in {time.perf_counter() - t0:.0f} s.[/bold] Listen to {speech.audio_path}")


def _register_extras() -> None:
    from .mix import mix
    from .users import users

    app.command()(mix)
    app.add_typer(users, name="users")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the REST API (/docs) and the web page (/)."""
    from ..api.server import serve as run

    run(host, port)


_register_extras()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
