"""docs/settings.md is generated from the settings classes, and every setting says what it does."""

from __future__ import annotations

from pathlib import Path

from realvoice.api.config import ApiSettings
from realvoice.config import Settings
from realvoice.settings_doc import _comments, markdown


def test_every_setting_has_a_comment_in_the_source():
    for cls in (Settings, ApiSettings):
        comments = _comments(cls)
        assert not [f for f in cls.model_fields if not comments.get(f)], cls.__name__


def test_the_docs_are_the_settings():
    docs = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
    assert docs.read_text() == markdown(), "run: python -m realvoice.settings_doc > docs/settings.md"


def test_the_old_name_of_the_static_int8_setting_still_works(monkeypatch):
    monkeypatch.setenv("REALVOICE_KOKORO_FAST", "c1")
    assert Settings().kokoro_static_int8 == "c1"
    monkeypatch.setenv("REALVOICE_KOKORO_STATIC_INT8", "rb")
    assert Settings().kokoro_static_int8 == "rb"
