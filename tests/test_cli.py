import pytest
from typer.testing import CliRunner

from realvoice.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_cli_lists_shows_says_and_deletes(service, alice_voice, tmp_path):
    home = ["--home", str(service.settings.home)]
    out = runner.invoke(app, ["voices", "list", "--user", "alice", *home])
    assert out.exit_code == 0 and alice_voice.voice_id in out.output
    out = runner.invoke(app, ["voices", "show", alice_voice.voice_id, "--user", "alice", *home])
    assert out.exit_code == 0 and '"quality_score"' in out.output
    out = runner.invoke(app, ["voices", "show", alice_voice.voice_id, "--user", "mallory", *home])
    assert out.exit_code == 1 and "not found" in out.output
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
