"""One feature set: every option of the speech request exists with the same name and range in the Python
API, the CLI's ``say``, the REST schemas, the job record and the page's controls (issue 24, point 6).

``controls.py`` and the effect, preset and bed registries are the source; each front end is read as a user
meets it: the service's signatures, the command's options and help, the OpenAPI schema, index.html."""

from __future__ import annotations

import inspect
import typing
from html.parser import HTMLParser
from pathlib import Path

import pytest
import typer

from realvoice import RealVoiceCloningService
from realvoice.api.schemas import EFFECTS_HELP, SpeechJobRequest, SpeechRequest, SpeechStreamRequest
from realvoice.audio.io import OUTPUT_FORMATS
from realvoice.cli import app
from realvoice.controls import CONTROLS
from realvoice.errors import InvalidInputError
from realvoice.jobs import SpeechRender
from realvoice.mix import BEDS, EFFECTS, PRESETS
from realvoice.pipeline import check_controls

INDEX = Path(__file__).resolve().parents[1] / "src" / "realvoice" / "web" / "index.html"
REQUESTS = (SpeechRequest, SpeechStreamRequest, SpeechJobRequest)
PYTHON_API = ("render", "open_speech_stream", "stream_user_speech", "check_speech_request")
# Set on the page by their own control rather than a box: pitch by the pitch_semitones slider.
EFFECTS_WITH_A_CONTROL = {"pitch"}


class Controls(HTMLParser):
    """The page's form controls: inputs by name (a list each), and each select's option values."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, list[dict[str, str]]] = {}
        self.selects: dict[str, list[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name"):
            self.inputs.setdefault(a["name"], []).append(a)
        elif tag == "select":
            self._select = a.get("name") or None
            if self._select:
                self.selects[self._select] = []
        elif tag == "option" and self._select:
            self.selects[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


@pytest.fixture(scope="module")
def page() -> Controls:
    parser = Controls()
    parser.feed(INDEX.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def say() -> dict[str, typer.core.TyperOption]:
    command = typer.main.get_command(app).commands["say"]  # type: ignore[attr-defined]
    return {opt: p for p in command.params for opt in p.opts}


@pytest.mark.parametrize("name", list(CONTROLS))
def test_each_control_has_one_name_and_range_everywhere(name, page, say):
    span = CONTROLS[name]
    for method in PYTHON_API:
        param = inspect.signature(getattr(RealVoiceCloningService, method)).parameters[name]
        assert param.default == span.default, (method, name)
    for request in REQUESTS:
        field = request.model_json_schema()["properties"][name]
        assert (field["minimum"], field["maximum"], field["default"]) == (span.low, span.high, span.default)
    assert SpeechRender.model_fields[name].default == span.default
    option = say[f"--{name.replace('_', '-')}"]
    assert option.default == span.default and span.span() in (option.help or "")
    (slider,) = page.inputs[name]
    assert slider["type"] == "range"
    assert (float(slider["min"]), float(slider["max"]), float(slider["value"])) == (span.low, span.high, span.default)


@pytest.mark.parametrize("name", list(CONTROLS))
def test_the_pipeline_holds_each_control_to_its_range(name):
    span = CONTROLS[name]
    values = {n: c.default for n, c in CONTROLS.items()}
    for inside in (span.low, span.high):
        check_controls(**(values | {name: inside}))
    for outside in (span.low - 0.01, span.high + 0.01):
        with pytest.raises(InvalidInputError):
            check_controls(**(values | {name: outside}))


def test_every_effect_and_preset_is_offered_everywhere(page, say):
    boxes = {box["value"] for box in page.inputs["effect"]}
    assert boxes == set(EFFECTS) - EFFECTS_WITH_A_CONTROL
    assert [v for v in page.selects["preset"] if v] == list(PRESETS)
    help_text = say["--effects"].help or ""
    for name in [*EFFECTS, *PRESETS]:
        assert name in help_text and name in EFFECTS_HELP, name
    assert "effects" in inspect.signature(RealVoiceCloningService.render).parameters
    for request in REQUESTS:
        assert "effects" in request.model_fields


def test_every_music_bed_is_offered_everywhere(page, say):
    assert [v for v in page.selects["background_music"] if v] == list(BEDS)
    for request in REQUESTS:
        choices = typing.get_args(request.model_fields["background_music"].annotation)
        named = {a for c in choices for a in typing.get_args(c)}
        assert named == {"default", *BEDS}, request
    assert all(bed in (say["--music"].help or "") for bed in BEDS)
    assert "background_music" in inspect.signature(RealVoiceCloningService.render).parameters


def test_every_file_format_is_offered_everywhere(page, say):
    assert set(page.selects["format"]) == set(OUTPUT_FORMATS)  # each lists them in its own order
    for request in (SpeechRequest, SpeechJobRequest):
        assert set(typing.get_args(request.model_fields["format"].annotation)) == set(OUTPUT_FORMATS)
    assert all(f".{fmt}" in (say["--output"].help or "") for fmt in OUTPUT_FORMATS)
