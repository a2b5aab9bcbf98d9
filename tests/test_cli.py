import json

import pytest
from typer.testing import CliRunner

from realvoice.cli import app
from realvoice.cli.options import BED_NAMES, EFFECT_NAMES, PRESET_NAMES

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_cli_lists_shows_says_and_deletes(service, alice_voice, tmp_path):
    home = ["--home", str(service.settings.home)]
    out = runner.invoke(app, ["voices", "list", "--user", "alice", *home])
    assert out.exit_code == 0 and alice_voice.voice_id in out.output
    out = runner.invoke(app, ["voices", "show", alice_voice.voice_id, "--user", "alice", *home])
    assert out.exit_code == 0 and "Score:" in out.output and "recordings" in out.output
    assert '"quality_score"' not in out.output and len(out.output.splitlines()) < 15  # a summary, not a dump
    out = runner.invoke(app, ["voices", "show", alice_voice.voice_id, "--user", "alice", "--json", *home])
    assert out.exit_code == 0 and json.loads(out.output)["quality_score"] == alice_voice.quality_score
    out = runner.invoke(app, ["voices", "show", alice_voice.voice_id, "--user", "mallory", *home])
    assert out.exit_code == 1 and "not found" in out.output and "--user" in out.output
    wav = tmp_path / "hi.flac"
    out = runner.invoke(
        app, ["say", "Hello there.", "--voice", alice_voice.voice_id, "--user", "alice", "-o", str(wav), *home]
    )
    assert out.exit_code == 0, out.output
    assert wav.stat().st_size > 1000
    out = runner.invoke(app, ["voices", "delete", "f" * 32, "--user", "alice", *home])
    assert out.exit_code == 1
    png = tmp_path / "r.png"
    out = runner.invoke(app, ["voices", "plot", alice_voice.voice_id, "--user", "alice", "-o", str(png), *home])
    assert out.exit_code == 0 and png.read_bytes()[:4] == b"\x89PNG"
    out = runner.invoke(app, ["words", "add", "GIF", "/ʤˈɪf/", "--user", "zed", *home])
    assert out.exit_code == 0
    out = runner.invoke(app, ["words", "list", "--user", "zed", *home])
    assert "gif -> /ʤˈɪf/" in out.output
    assert runner.invoke(app, ["words", "remove", "gif", "--user", "zed", *home]).exit_code == 0


@pytest.mark.parametrize(
    "args, says",
    [
        (["-o", "x.aiff"], ".wav, .flac, .ogg or .mp3"),
        (["-e", "reverbb"], "unknown effect 'reverbb'"),
        (["--speed", "5"], "speed must be between 0.5 and 2.0"),
        (["--pitch", "9"], "between -4 and +4 semitones"),
        (["--music", "jazz"], "no music bed named 'jazz'"),
        (["--voice", "f" * 32], "pass --user NAME"),
    ],
)
def test_say_finds_a_bad_argument_before_it_speaks(service, alice_voice, tmp_path, args, says):
    """No progress bar, no file, one clear sentence: the request is checked before any synthesis."""
    out_file = tmp_path / "never.wav"
    base = ["say", "Hello there.", "--voice", alice_voice.voice_id, "--user", "alice", "-o", str(out_file)]
    out = runner.invoke(app, base + args + ["--home", str(service.settings.home)], env={"COLUMNS": "200"})
    assert out.exit_code == 2, out.output
    assert says in " ".join(out.output.split()) and "speaking" not in out.output
    assert not list(tmp_path.iterdir())


def test_say_takes_every_option_of_the_speech_request(service, alice_voice, tmp_path):
    """Pitch, a music bed by name and a preset, as the page and the API take them."""
    wav = tmp_path / "produced.mp3"
    args = ["say", "Hello there, welcome back.", "--voice", alice_voice.voice_id, "--user", "alice", "-o", str(wav)]
    args += ["--pitch", "2", "--music", "lofi", "--effects", "podcast", "--home", str(service.settings.home)]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert wav.stat().st_size > 1000


def test_a_missing_recording_is_named_once_before_any_work(service, tmp_path):
    missing = tmp_path / "nowhere.wav"
    out = runner.invoke(app, ["voices", "create", str(missing), "--home", str(service.settings.home)])
    assert out.exit_code == 2 and "does not exist" in out.output
    assert " ".join(out.output.split()).count("nowhere.wav") == 1 and "cloning" not in out.output


def test_delete_asks_first(service, alice_voice):
    home = ["--home", str(service.settings.home)]
    out = runner.invoke(app, ["voices", "delete", alice_voice.voice_id, "--user", "alice", *home], input="n\n")
    assert out.exit_code == 1 and "Joe" in out.output
    assert [v.voice_id for v in service.get_user_voices("alice")] == [alice_voice.voice_id]


def test_version_answers_without_loading_anything():
    from realvoice import __version__

    out = runner.invoke(app, ["--version"])
    assert out.exit_code == 0 and out.output.strip() == f"realvoice {__version__}"


def test_the_help_names_every_effect_preset_and_bed():
    from realvoice.mix import BEDS, EFFECTS, PRESETS

    assert EFFECT_NAMES.split(", ") == list(EFFECTS)
    assert PRESET_NAMES.split(", ") == list(PRESETS)
    assert BED_NAMES.split(", ") == list(BEDS)


def test_the_score_parts_are_explained_in_the_words_the_api_sends(capsys):
    """The CLI and the API take each part's meaning from one place: models.SCORE_PARTS."""
    from realvoice.cli.app import print_clone_report
    from realvoice.models import SCORE_PARTS, CloneResult, QualityBreakdown

    breakdown = QualityBreakdown(consistency=91, sample_quality=72, duration_adequacy=55, variety=64)
    result = CloneResult(success=True, voice_id="v1", name="Joe", quality_breakdown=breakdown)
    sent = result.model_dump(mode="json")["quality_breakdown"]["parts"]
    assert [(p["key"], p["meaning"]) for p in sent] == list(SCORE_PARTS.items())
    assert [p["score"] for p in sent] == [91, 72, 55, 64]
    print_clone_report(result)
    printed = " ".join(capsys.readouterr().out.split())
    for part in sent:
        assert f"{part['meaning']} {part['score']:.0f}" in printed


def test_verify_answers_with_its_exit_code_and_names_both_thresholds(service, stock_voice, piper_samples, tmp_path):
    from realvoice.audio import write_wav
    from realvoice.engines.kokoro import KokoroEngine
    from realvoice.samples.intake import SAME_SPEAKER_MIN
    from realvoice.service import SAME_SPEAKER

    home = ["--home", str(service.settings.home)]
    verify = ["voices", "verify", str(stock_voice.voice_id)]
    same = runner.invoke(app, [*verify, str(piper_samples[2]), "--user", "rita", *home])
    assert same.exit_code == 0 and "same speaker" in same.output, same.output
    engine = service.engine
    assert isinstance(engine, KokoroEngine)
    woman = engine.synthesize_phonemes(engine._stock["jf_alpha"], engine.phonemize("Good morning, and welcome back."))
    other = runner.invoke(app, [*verify, str(write_wav(tmp_path / "w.wav", woman, 24000)), "--user", "rita", *home])
    printed = " ".join(other.output.split())
    assert other.exit_code == 1 and "different speaker" in printed, printed
    assert f"verify needs {SAME_SPEAKER:.2f}, stricter than the {SAME_SPEAKER_MIN:.2f} the sample check uses" in printed


def test_the_list_says_how_each_voice_sounds(service, stock_voice, monkeypatch):
    import importlib

    cli_module = importlib.import_module("realvoice.cli.app")  # the package's `app` is the Typer app
    monkeypatch.setattr(cli_module.console, "width", 200)  # one table row per line
    out = runner.invoke(app, ["voices", "list", "--user", "rita", "--home", str(service.settings.home)])
    (line,) = [row for row in out.output.splitlines() if stock_voice.voice_id in row]
    c = stock_voice.characteristics
    assert f"{c.gender}, {c.age_band}, {c.pitch_hz:.0f} Hz" in line and c.gender == "male"


def test_rename_a_voice_and_change_its_description(service, stock_voice):
    home = ["--home", str(service.settings.home)]
    rename = ["voices", "rename", stock_voice.voice_id]
    try:
        out = runner.invoke(app, [*rename, "Rita two", "-d", "For the intros.", "--user", "rita", *home])
        assert out.exit_code == 0 and "Rita two" in out.output, out.output
        detail = service.get_user_voice(stock_voice.voice_id, "rita")
        assert (detail.name, detail.description) == ("Rita two", "For the intros.")
        out = runner.invoke(app, [*rename, "   ", "--user", "rita", *home])
        assert out.exit_code == 2 and "bad_voice_name" in out.output
        out = runner.invoke(app, [*rename, "Taken", "--user", "mallory", *home])
        assert out.exit_code == 2 and "not found" in out.output and "--user" in out.output
        assert service.get_user_voice(stock_voice.voice_id, "rita").name == "Rita two"
    finally:
        service.update_user_voice(stock_voice.voice_id, "rita", name="Rita", description="a quick voice")


def test_refine_shows_its_progress_and_says_plainly_what_changed(service, refinable, fake_refinement):
    """A stock voice offers the refinement; ``voices refine`` runs it under a progress bar and says whether
    the voice changed, with the likeness before and after (the fit and validation stood in for)."""
    home = ["--home", str(service.settings.home)]
    wide = {"COLUMNS": "200"}
    shown = runner.invoke(app, ["voices", "show", refinable.voice_id, "--user", "rhea", *home], env=wide)
    assert shown.exit_code == 0 and f"next: realvoice voices refine {refinable.voice_id}" in shown.output
    out = runner.invoke(app, ["voices", "refine", refinable.voice_id, "--user", "rhea", *home], env=wide)
    printed = " ".join(out.output.split())
    assert out.exit_code == 0, out.output
    assert "Voice refined: version 2 replaces version 1." in printed
    assert "Likeness to your recordings: 0.55 before, 0.78 refined" in printed and "100%" in printed
    assert "your voice" in printed and "warning" not in printed
    shown = runner.invoke(app, ["voices", "show", refinable.voice_id, "--user", "rhea", *home], env=wide)
    assert "Version 2 (refined)" in shown.output and "next:" not in shown.output
    again = runner.invoke(app, ["voices", "refine", refinable.voice_id, "--user", "rhea", "--json", *home])
    result = json.loads(again.output)  # --json: the whole result and nothing else
    assert again.exit_code == 0 and not result["improved"] and result["version"] == 2
    printed = " ".join(runner.invoke(app, ["voices", "refine", refinable.voice_id, "-u", "rhea", *home]).output.split())
    assert "Voice kept as it was (version 2)." in printed and "did not come out closer" in printed


def test_refine_of_a_voice_that_is_not_yours_names_the_user(service, refinable):
    out = runner.invoke(
        app, ["voices", "refine", refinable.voice_id, "--user", "mallory", "--home", str(service.settings.home)]
    )
    printed = " ".join(out.output.split())
    assert out.exit_code == 2 and "not found" in printed and "--user" in printed


def test_a_rough_draft_offers_the_refinement_when_it_is_made(capsys):
    from realvoice.cli.app import print_clone_report
    from realvoice.models import CloneResult

    rough = CloneResult(success=True, voice_id="a" * 32, name="Joe", fit_outcome="partly_fitted", refine_advised=True)
    print_clone_report(rough)
    assert f"next: realvoice voices refine {'a' * 32}" in " ".join(capsys.readouterr().out.split())
    print_clone_report(CloneResult(success=True, voice_id="b" * 32, name="Joe"))
    assert "voices refine" not in capsys.readouterr().out


def test_create_with_refine_makes_the_voice_then_refines_it(service, piper_samples, fake_refinement):
    """--refine: the voice is ready first (it can speak), then the refinement runs and says what changed
    (the fit and validation stood in for: the build's fit and the refinement's are the same stand-in, so
    the refinement measures no gain and keeps the voice)."""
    home = ["--home", str(service.settings.home)]
    files = [str(p) for p in piper_samples]
    out = runner.invoke(app, ["voices", "create", *files, "--user", "rory", "--refine", *home], env={"COLUMNS": "200"})
    printed = " ".join(out.output.split())
    try:
        assert out.exit_code == 0, out.output
        assert printed.index("Voice created:") < printed.index("refining it") < printed.index("Voice kept as it was")
        assert "did not come out closer" in printed and "next:" not in printed
        (voice,) = service.get_user_voices("rory")
        assert voice.version == 1 and voice.fit_outcome == "fitted"
    finally:
        for v in service.get_user_voices("rory"):
            service.delete_user_voice(v.voice_id, "rory")
