"""``realvoice``: create, list, show and delete voices, speak text, and run the demo."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..build_lock import WAITING
from ..controls import PAUSE_SCALE, PITCH_SEMITONES, SPEED
from ..models import CloneResult, RefineResult, SpeechResult, VoiceCharacteristics
from .options import EffectsOpt, MusicOpt, OutputOpt, PauseOpt, PitchOpt, SpeedOpt, parse_effect_options

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Offline voice cloning on a plain CPU.")
voices = typer.Typer(no_args_is_help=True, help="Create, list, show, refine, rename and delete voices.")
words = typer.Typer(no_args_is_help=True, help="Your pronunciation dictionary.")
app.add_typer(voices, name="voices")
app.add_typer(words, name="words")
console = Console()

HomeOpt = Annotated[Path | None, typer.Option("--home", envvar="REALVOICE_HOME", help="Data folder.")]
UserOpt = Annotated[str, typer.Option("--user", "-u", envvar="REALVOICE_USER", help="Whose voices.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", help="Also show measurements and the fit's values.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Everything, as JSON.")]


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        console.print(f"realvoice {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Offline voice cloning on a plain CPU."""


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


def _run_with_bar(label: str, fn, *, quiet: bool = False):
    """Run ``fn(progress)`` under a progress bar; the bar reaches 100 % only when the work succeeded."""
    if quiet:
        return fn(lambda fraction, message: None)
    with _progress() as bar:
        task = bar.add_task(label, total=1.0)
        said_waiting = False

        def update(fraction: float, message: str) -> None:
            nonlocal said_waiting
            if message.startswith(WAITING) and not said_waiting:
                # also a line of its own: a log (or a terminal with no live bar) shows why the build paused
                bar.console.print(f"{WAITING}…")
                said_waiting = True
            bar.update(task, completed=fraction, description=message[:44])

        result = fn(update)
        if getattr(result, "success", True):
            bar.update(task, completed=1.0)
        else:
            bar.update(task, description="failed")
    return result


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


LIKENESS = {"fitted": "[green]your voice", "partly_fitted": "[yellow]partly", "stock": "[red]stock voice"}


def print_clone_report(r: CloneResult, *, verbose: bool = False, offer: bool = True) -> None:
    """What a person can act on: which recordings were used, whether the voice is theirs, the score
    and what would raise it. ``verbose`` adds the per-sample table's measurements and the fit's values;
    ``offer`` False leaves out the refinement's offer (a refinement follows)."""
    table = Table(title="Recordings", show_lines=False)
    for col in ("file", "used", "speech", "reasons") + (("SNR dB", "quality") if verbose else ()):
        table.add_column(col)
    for s in r.sample_reports:
        extra = (f"{s.metrics.snr_db:.0f}", f"{s.quality:.0f}") if verbose else ()
        used = "[green]yes" if s.accepted else "[red]no"
        table.add_row(s.file, used, f"{s.metrics.speech_s:.1f} s", "; ".join(s.reasons) or "-", *extra)
    console.print(table)
    if not r.success:
        console.print(f"[red]Voice not created ({r.error_code}):[/red]\n" + "\n".join(r.errors))
    else:
        headline = {
            "stock": "[bold red]Voice created, but it is not your voice:[/bold red]",
            "partly_fitted": "[bold yellow]Voice created, only partly like you:[/bold yellow]",
            "fitted": "[bold green]Voice created:[/bold green]",
        }[r.fit_outcome]
        console.print(f"{headline} {r.voice_id}  ({r.name})")
        console.print(f"Score: [bold]{r.quality_score:.0f}/100[/bold] ({r.quality_tier})")
        if r.quality_breakdown:
            console.print("  " + "; ".join(f"{p.meaning} {p.score:.0f}" for p in r.quality_breakdown.parts))
        if r.characteristics:
            console.print(f"Voice: {_sounds_like(r.characteristics)} (estimates)")
        if r.consent is not None:
            console.print(f"Consent: {_consent_line(r)}")
        n_used = sum(s.accepted for s in r.sample_reports)
        console.print(f"Built from {n_used} recordings, {r.total_speech_s:.0f} s of speech, in {r.elapsed_s:.0f} s")
        if verbose:
            console.print(f"Method: {r.method} on {r.engine}")
            console.print("Fit: " + ", ".join(f"{k} {v:g}" for k, v in sorted(r.validation.items())))
    for w in r.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    for tip in r.recommendations:
        console.print(f"[cyan]tip:[/cyan] {tip}")
    if offer and r.success and r.refine_advised and r.voice_id:
        _offer_refinement(r.voice_id)


def _offer_refinement(voice_id: str) -> None:
    """The one command that may bring a rough draft or a stock voice closer to the speaker."""
    console.print(
        f"[bold cyan]next:[/bold cyan] realvoice voices refine {voice_id}   "
        "(a thorough fit from the same recordings, a few minutes; the voice changes only if it comes out closer)"
    )


def print_refine_report(r: RefineResult) -> None:
    """Whether the voice changed, its likeness before and after, and where it stands now."""
    if not r.success:
        console.print(f"[red]Not refined ({r.error_code}):[/red] " + "\n".join(r.errors))
        return
    if r.improved:
        console.print(
            f"[bold green]Voice refined:[/bold green] version {r.version} replaces version {r.previous_version}."
        )
    else:
        console.print(f"[bold yellow]Voice kept as it was[/bold yellow] (version {r.version}).")
    console.print(r.message)
    if r.before and r.after:
        console.print(
            f"Likeness to your recordings: {r.before.similarity:.2f} before, {r.after.similarity:.2f} refined; "
            f"words misheard: {r.before.wer:.0%} before, {r.after.wer:.0%} refined"
        )
    console.print(
        f"Now: {LIKENESS[r.fit_outcome]}[/], score {r.quality_score:.0f}/100 ({r.quality_tier}), in {r.elapsed_s:.0f} s"
    )
    for w in r.warnings[:1] if r.fit_outcome != "fitted" else []:
        console.print(f"[yellow]warning:[/yellow] {w}")


def _sounds_like(c: VoiceCharacteristics) -> str:
    """One line a person can tell voices apart by: "male, adult, 118 Hz" (estimates from the recordings)."""
    return f"{c.gender}, {c.age_band}, {c.pitch_hz:.0f} Hz"


def _consent_line(r: CloneResult) -> str:
    c = r.consent
    if c is None or c.method == "none":
        return "not recorded"
    if c.method == "attested":
        return "attested by you (no consent recording)"
    return f"recording checked (statement, code, same speaker: similarity {c.similarity or 0:.2f})"


def _print_speech(r: SpeechResult) -> None:
    if not r.success:
        _fail(f"{'; '.join(r.errors)} ({r.error_code})")
    console.print(f"[green]wrote[/green] {r.audio_path}  ({r.duration_s:.1f} s of speech)")


@voices.command("create")
def voices_create(
    files: Annotated[
        list[Path],
        typer.Argument(help="Five or more recordings of one speaker.", exists=True, dir_okay=False, readable=True),
    ],
    user: UserOpt = "local",
    name: Annotated[str, typer.Option("--name", "-n")] = "My voice",
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    allow_duplicate: bool = False,
    consent_recording: Annotated[
        Path | None,
        typer.Option(
            help="The speaker reading the statement of 'realvoice consent statement'.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    consent_challenge: Annotated[str | None, typer.Option(help="The challenge id that statement came with.")] = None,
    refine: Annotated[
        bool,
        typer.Option(
            "--refine",
            help="Once the voice is ready, refine it: a longer fit (minutes), kept only if it is closer to you.",
        ),
    ] = False,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Check, clean and analyse the recordings and build a voice.

    Without --consent-recording, the voice records your word that you are the speaker or have their consent."""
    from ..consent import ConsentRecording

    if (consent_recording is None) != (consent_challenge is None):
        _fail("give both --consent-recording and --consent-challenge (from 'realvoice consent statement')", 2)
    agreed = ConsentRecording(consent_challenge, consent_recording) if consent_recording and consent_challenge else None
    svc = _service(home)
    result = _run_with_bar(
        "cloning",
        lambda cb: svc.create_voice(
            user, name, files, description, progress=cb, allow_duplicate=allow_duplicate, consent=agreed
        ),
        quiet=as_json,
    )
    refined = None
    if refine and result.success and result.voice_id:
        if not as_json:
            print_clone_report(result, verbose=verbose, offer=False)
            console.print("The voice is ready and can speak now; refining it…")
        voice_id = result.voice_id
        refined = _run_with_bar("refining", lambda cb: svc.refine(voice_id, user, progress=cb), quiet=as_json)
    if as_json and refined is not None:
        both = {"voice": result.model_dump(mode="json"), "refinement": refined.model_dump(mode="json")}
        print(json.dumps(both, indent=2))
    elif as_json:
        print(result.model_dump_json(indent=2))
    elif refined is not None:
        print_refine_report(refined)
    else:
        print_clone_report(result, verbose=verbose)
    if not result.success:
        raise typer.Exit(2)


@voices.command("list")
def voices_list(user: UserOpt = "local", home: HomeOpt = None) -> None:
    """List a user's voices."""
    rows = _service(home).get_user_voices(user)
    table = Table(title=f"Voices of {user}")
    table.add_column("id", no_wrap=True, min_width=32)
    for col in ("name", "sounds", "quality", "tier"):
        table.add_column(col)
    # the likeness is the column a person must read whole: on a narrow terminal the others wrap first
    table.add_column("likeness", no_wrap=True, min_width=max(len(Text.from_markup(v).plain) for v in LIKENESS.values()))
    table.add_column("created")
    for v in rows:
        table.add_row(
            v.voice_id,
            v.name,
            _sounds_like(v.characteristics),
            f"{v.quality_score:.0f}",
            v.quality_tier,
            LIKENESS[v.fit_outcome],
            v.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table if rows else "No voices yet. Create one with: realvoice voices create FILES...")


@voices.command("show")
def voices_show(voice_id: str, user: UserOpt = "local", as_json: JsonOpt = False, home: HomeOpt = None) -> None:
    """Show a voice: whether it is yours, its score, what it was made from (--json: everything)."""
    from ..errors import RealVoiceError

    try:
        detail = _service(home).get_user_voice(voice_id, user)
    except RealVoiceError as exc:
        _fail(_not_found_hint(exc, user))
    if as_json:
        print(detail.model_dump_json(indent=2))
        return
    console.print(f"[bold]{detail.name}[/bold]  {detail.voice_id}  ({LIKENESS[detail.fit_outcome]}[/])")
    if detail.description:
        console.print(detail.description)
    console.print(f"Score: [bold]{detail.quality_score:.0f}/100[/bold] ({detail.quality_tier})")
    console.print(f"Voice: {_sounds_like(detail.characteristics)} (estimates)")
    console.print(f"Made {detail.created_at:%Y-%m-%d %H:%M} from {detail.sample_count} recordings")
    if detail.version > 1:
        console.print(f"Version {detail.version} (refined)")
    for w in detail.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    if detail.refine_advised:
        _offer_refinement(detail.voice_id)


@voices.command("refine")
def voices_refine(voice_id: str, user: UserOpt = "local", as_json: JsonOpt = False, home: HomeOpt = None) -> None:
    """Refine a voice: a thorough fit from its recordings (a few minutes), kept only if it sounds more like
    the speaker. The voice keeps working as it was meanwhile."""
    from ..errors import VoiceNotFoundError

    svc = _service(home)
    result = _run_with_bar("refining", lambda cb: svc.refine(voice_id, user, progress=cb), quiet=as_json)
    if as_json:
        print(result.model_dump_json(indent=2))
    elif result.error_code == "voice_not_found":
        _fail(_not_found_hint(VoiceNotFoundError(result.errors[0]), user), code=2)
    else:
        print_refine_report(result)
    if not result.success:
        raise typer.Exit(2)


def _not_found_hint(exc: Exception, user: str) -> str:
    """A missing voice may be another user's: say whose voices were looked in."""
    from ..errors import VoiceNotFoundError

    if isinstance(exc, VoiceNotFoundError):
        return f"{exc} among the voices of user {user!r} (another user's voice: pass --user NAME)"
    return str(exc)


@voices.command("rename")
def voices_rename(
    voice_id: str,
    new_name: Annotated[str, typer.Argument(help="The voice's new name (1-100 characters).")],
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="A new description (up to 2000 characters).")
    ] = None,
    user: UserOpt = "local",
    home: HomeOpt = None,
) -> None:
    """Rename a voice, and change its description if you give one."""
    from ..errors import RealVoiceError

    try:
        detail = _service(home).update_user_voice(voice_id, user, name=new_name, description=description)
    except RealVoiceError as exc:
        _fail(f"{_not_found_hint(exc, user)} ({exc.code})", code=2)
    console.print(f"renamed {detail.voice_id} to {detail.name!r}")
    if description is not None:
        console.print(f"description: {detail.description or '(none)'}")


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
    from ..samples.intake import SAME_SPEAKER_MIN

    try:
        r = _service(home).verify_speaker(voice_id, clip, user)
    except RealVoiceError as exc:
        _fail(_not_found_hint(exc, user), code=2)
    verdict = "[green]same speaker" if r["same_speaker"] else "[red]different speaker"
    console.print(
        f"{verdict}[/] (similarity {r['similarity']:.2f}; verify needs {r['threshold']:.2f}, "
        f"stricter than the {SAME_SPEAKER_MIN:.2f} the sample check uses)"
    )
    if not r["same_speaker"]:
        raise typer.Exit(1)  # scripts can test the answer: 0 same speaker, 1 different


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
def voices_delete(
    voice_id: str,
    user: UserOpt = "local",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    home: HomeOpt = None,
) -> None:
    """Delete a voice and every trace of it: model, recordings, previews, reports."""
    from ..errors import RealVoiceError

    svc = _service(home)
    try:
        name = svc.get_user_voice(voice_id, user).name
    except RealVoiceError as exc:
        _fail(_not_found_hint(exc, user))
    if not yes and not typer.confirm(f"Delete the voice {name!r} ({voice_id}) and everything made from it?"):
        raise typer.Exit(1)
    if not svc.delete_user_voice(voice_id, user):
        _fail(f"voice {voice_id} not found")
    console.print(f"deleted {name!r} ({voice_id})")


@app.command()
def say(
    text: Annotated[str, typer.Argument(help="Text to speak; '-' reads standard input.")],
    voice: Annotated[str, typer.Option("--voice", "-v", help="The voice's id (see: realvoice voices list).")],
    user: UserOpt = "local",
    output: OutputOpt = Path("out.wav"),
    speed: SpeedOpt = SPEED.default,
    pitch_semitones: PitchOpt = PITCH_SEMITONES.default,
    pause_scale: PauseOpt = PAUSE_SCALE.default,
    music: MusicOpt = None,
    effects: EffectsOpt = None,
    home: HomeOpt = None,
) -> None:
    """Speak text in a voice, with effects and music if asked."""
    from ..errors import RealVoiceError

    svc = _service(home)
    options: dict[str, Any] = {
        "speed": speed,
        "pitch_semitones": pitch_semitones,
        "pause_scale": pause_scale,
        "background_music": music or False,
    }
    try:  # everything that can be wrong with the request is found before any speech is made
        options["effects"] = parse_effect_options(effects or [])
        svc.check_speech_request(voice, user, output_path=output, **options)
    except RealVoiceError as exc:
        _fail(f"{_not_found_hint(exc, user)} ({exc.code})", code=2)
    if text == "-":
        text = sys.stdin.read()
    result = _run_with_bar(
        "speaking", lambda cb: svc.render(voice, text, user, output_path=output, progress=cb, **options)
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
    from .consent import consent, detect
    from .db import db
    from .mix import mix
    from .users import users

    app.command()(mix)
    app.command()(detect)
    app.add_typer(users, name="users")
    app.add_typer(consent, name="consent")
    app.add_typer(db, name="db")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="API processes (builds run in `realvoice worker` where a broker is set).")
    ] = 1,
    home: HomeOpt = None,
    require_consent: Annotated[
        bool,
        typer.Option(
            help="A voice needs a recording of its speaker reading the consent statement "
            "(--no-require-consent accepts the caller's word instead)."
        ),
    ] = True,
) -> None:
    """Serve the REST API (/docs) and the web page (/)."""
    from ..api.server import serve as run

    if home is not None:
        os.environ["REALVOICE_HOME"] = str(home)  # the server builds its settings from the environment
    os.environ["REALVOICE_REQUIRE_CONSENT_RECORDING"] = "true" if require_consent else "false"
    run(host, port, workers)


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, help="Jobs at once (a process each, with its own models); 1 suits 2 cores.")
    ] = 1,
    threads: Annotated[
        int, typer.Option(min=0, help="CPU threads per job (0: one per core).", envvar="REALVOICE_THREADS")
    ] = 0,
    broker: Annotated[
        str | None,
        typer.Option(help="The Celery broker, e.g. redis://localhost:6379/0.", envvar="REALVOICE_BROKER_URL"),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Run voice builds and long renders from the task queue (for `realvoice serve` with a broker)."""
    if not broker:
        _fail("a worker needs a broker: pass --broker redis://HOST:6379/0 or set REALVOICE_BROKER_URL", 2)
    from ..jobs.broker import run_worker

    # the worker's service reads its settings from the environment, like the server's
    os.environ["REALVOICE_BROKER_URL"] = str(broker)
    os.environ["REALVOICE_THREADS"] = str(threads)
    if home is not None:
        os.environ["REALVOICE_HOME"] = str(home)
    run_worker(concurrency)


_register_extras()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
