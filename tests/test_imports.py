"""What importing the package costs: the command line answers --help without the audio stack.

Each check runs in a fresh interpreter, since this one has loaded everything already."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "scipy", "soundfile", "matplotlib", "onnxruntime", "torch")
LOADED = f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"


def fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_command_line_loads_no_audio_stack():
    assert fresh(f"import sys, realvoice.cli\n{LOADED}").strip() == ""


def test_help_answers_without_the_audio_stack():
    for args in (["--help"], ["voices", "--help"], ["say", "--help"]):
        run = f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        code = f"import sys\nfrom realvoice.cli import app\n{run}{LOADED}"
        *help_text, loaded = fresh(code).splitlines()
        assert "Usage" in "\n".join(help_text) and loaded.strip() == "", (args, loaded)


def test_the_seed_import_paths_still_give_the_service():
    out = fresh(
        "from realvoice import RealVoiceCloningService, TTSService\n"
        "from ai_influencer.real_voice_cloning import RealVoiceCloningService as Seed\n"
        "import sys\n"
        "print(Seed is RealVoiceCloningService, 'numpy' in sys.modules)"
    )
    assert out.split() == ["True", "True"]  # naming the service loads it, numpy and all
