"""The statement, its code and the transcript check, without audio."""

from __future__ import annotations

import numpy as np
import pytest

from realvoice.consent import Heard, check_speaker_name, check_statement, match_transcript, new_code, statement
from realvoice.consent.check import Challenge
from realvoice.errors import ConsentError, InvalidInputError


def test_codes_are_four_digits_without_zero_or_a_repeat():
    codes = [new_code() for _ in range(500)]
    assert all(len(c) == 4 and c.isdigit() and "0" not in c for c in codes)
    assert all(a != b for c in codes for a, b in zip(c, c[1:], strict=False))
    assert len(set(codes)) > 300  # random, not a fixed list


def test_the_statement_names_the_speaker_and_spells_the_code():
    s = statement("Ana Lima", "4821")
    assert s.startswith("I, Ana Lima, agree") and s.endswith("My code is 4, 8, 2, 1.")


@pytest.mark.parametrize(
    "heard",
    [
        "I, Ana Lima, agree that realvoice creates a synthetic version of my voice. My code is 4 8 2 1.",
        "I Ana Lima agree that real voice creates a synthetic version of my voice. My code is 4821.",
        "I, Anna Lima, agree that RealVoice creates a synthetic version of my voice. My code is four eight two one.",
        "I Ana Lima agree that real voice creates the synthetic version of my voice my code is 48, 21",
    ],
)
def test_a_faithful_reading_passes(heard):
    match = match_transcript(heard, "Ana Lima", "4821")
    assert match.statement_ok and match.code_ok, match


@pytest.mark.parametrize(
    ("heard", "statement_ok", "code_ok"),
    [
        ("I, Ana Lima, agree that realvoice creates a synthetic version of my voice. My code is 4 8 2 2.", True, False),
        ("I, Ana Lima, agree that realvoice creates a synthetic version of my voice. My code is 4 8 2.", True, False),
        ("I, Ana Lima, agree that realvoice creates a synthetic version of my voice.", True, False),
        ("The quick brown fox jumps over the lazy dog. My code is 4 8 2 1.", False, True),
        ("I do not agree to anything at all, my code is 4 8 2 1.", False, True),
        ("", False, False),
    ],
)
def test_a_wrong_reading_fails_on_what_is_wrong(heard, statement_ok, code_ok):
    match = match_transcript(heard, "Ana Lima", "4821")
    assert (match.statement_ok, match.code_ok) == (statement_ok, code_ok), match


@pytest.mark.parametrize("name", ["Ana", "Zoë O'Neil-Sánchez", "J. R. Tolkien", "李小龙"])
def test_names_people_have_are_accepted(name):
    assert check_speaker_name(f"  {name} ") == name


@pytest.mark.parametrize("name", ["", "   ", "R2D2", "<script>", "a" * 61, "Ana\x07"])
def test_names_that_cannot_be_said_are_refused(name):
    with pytest.raises(InvalidInputError) as err:
        check_speaker_name(name)
    assert err.value.code == "bad_speaker_name"


def test_after_the_word_code_sound_alikes_are_digits():
    heard = "I, Ana Lima, agree that realvoice creates a synthetic version of my voice. My code is 821-A."
    assert match_transcript(heard, "Ana Lima", "8218").code_ok
    assert match_transcript("I, Ana Lima, for the record, agree", "Ana Lima", "4").digits_heard == ""


def test_a_second_listen_to_the_code_can_rescue_a_dropped_digit():
    """The whole statement heard with a digit missing; the code alone, heard right: accepted."""
    said = statement("Ana Lima", "4257")
    dropped = said.replace("4, 2, 5, 7", "4-5-7")
    challenge = Challenge("Ana Lima", "4257")
    record = check_statement(Heard(np.zeros(1, np.float32), 16000, dropped, "is 4, 2, 5, 7."), challenge)
    assert record.code_heard and record.code_transcript == "is 4, 2, 5, 7."
    with pytest.raises(ConsentError) as err:
        check_statement(Heard(np.zeros(1, np.float32), 16000, dropped, "is 4, 5, 7."), challenge)
    assert err.value.code == "consent_code_mismatch"
