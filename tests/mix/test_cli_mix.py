"""``realvoice mix``: a recording in, a produced file out, and clear errors for bad effects."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from realvoice.audio import decode, loudness_lufs, write_wav
from realvoice.cli.mix import mix
from realvoice.cli.options import parse_effect_options

from .signals import SR, speechlike

runner = CliRunner()
LIMITS = {"max_bytes": 50_000_000, "max_seconds": 600.0}


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(mix)
    return app


def test_mix_writes_a_produced_mp3(tmp_path):
    voice = write_wav(tmp_path / "voice.wav", speechlike(), SR)
    out = tmp_path / "out.mp3"
    result = runner.invoke(_app(), [str(voice), "--music", "lofi", "--effects", "podcast", "-o", str(out)])
    assert result.exit_code == 0, result.output
    produced = decode(out, **LIMITS)
    assert abs(produced.duration_s - (len(speechlike()) / SR + 3.0)) < 0.1  # speech + 1 s lead-in + 2 s tail
    assert abs(loudness_lufs(produced.samples, produced.sample_rate) - -16.0) < 1.0
    assert "LUFS" in result.output and "eq, compression, normalize" in result.output


def test_mix_rejects_bad_effects_clearly(tmp_path):
    voice = write_wav(tmp_path / "voice.wav", speechlike(phrases=1), SR)
    bad = runner.invoke(_app(), [str(voice), "-e", "reverb=3", "-o", str(tmp_path / "x.wav")])
    assert bad.exit_code == 2 and "bad_effect_value" in bad.output and not (tmp_path / "x.wav").exists()
    unknown = runner.invoke(_app(), [str(voice), "-e", "flanger", "-o", str(tmp_path / "x.wav")])
    assert unknown.exit_code == 2 and "unknown effect" in unknown.output


def test_effect_options_parse_to_the_dict_form():
    spec = parse_effect_options(["podcast,reverb=0.3", "echo.delay_seconds=0.4", "echo.mix=0.2"])
    assert spec == {"podcast": True, "reverb": 0.3, "echo": {"delay_seconds": 0.4, "mix": 0.2}}
