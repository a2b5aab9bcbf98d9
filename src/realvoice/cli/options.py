"""Options shared by the commands that make audio (``say``, ``mix``), so they read the same.

Help texts name the effects, presets and music beds as plain text: importing the registries would
load numpy and the DSP stack before ``--help`` could answer. A test checks the names against them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..controls import PAUSE_SCALE, PITCH_SEMITONES, SPEED

EFFECT_NAMES = "pitch, eq, compression, chorus, echo, reverb, normalize"
PRESET_NAMES = "podcast, radio, cinematic, phone"
BED_NAMES = "ambient, lofi, corporate"

EffectsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--effects",
        "--effect",
        "-e",
        help=f"A preset ({PRESET_NAMES}) or an effect ({EFFECT_NAMES}), as NAME, NAME=VALUE or "
        "NAME.PARAM=VALUE; repeat or comma-separate.",
    ),
]
MusicOpt = Annotated[
    str | None,
    typer.Option("--music", "-m", help=f"Background music: a bed ({BED_NAMES}, or default) or an audio file."),
]
# The names are the speech request's own (``pitch_semitones`` is ``--pitch-semitones``); ``--pitch`` stays
# as the short spelling people type.
SpeedOpt = Annotated[float, typer.Option("--speed", help=f"Speaking rate, {SPEED.span()} (1 = the voice's own).")]
PitchOpt = Annotated[
    float, typer.Option("--pitch-semitones", "--pitch", help=f"Pitch shift in semitones, {PITCH_SEMITONES.span()}.")
]
PauseOpt = Annotated[
    float,
    typer.Option("--pause-scale", help=f"Pauses between sentences, {PAUSE_SCALE.span()} (1 = natural, 0 = none)."),
]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="The file to write: .wav, .flac, .ogg or .mp3.")]


def parse_effect_options(options: list[str]) -> dict[str, Any]:
    """``["podcast", "reverb=0.3", "echo.delay_seconds=0.4"]`` (or comma-separated) to ``parse_effects``' dict
    form: a name switches an effect or preset on, ``name=value`` sets its main control, ``name.param=value``
    one parameter."""
    from ..errors import InvalidInputError

    spec: dict[str, Any] = {}
    for token in (t.strip() for option in options for t in option.split(",")):
        if not token:
            continue
        name, _, value = token.partition("=")
        effect, _, param = name.strip().partition(".")
        if not value:
            spec[effect] = True
            continue
        try:
            number = float(value)
        except ValueError:
            raise InvalidInputError(f"{name}: {value!r} is not a number", code="bad_effect_value") from None
        if param:
            current = spec.get(effect)
            spec[effect] = (current if isinstance(current, dict) else {}) | {param: number}
        else:
            spec[effect] = number
    return spec
