import pytest

from realvoice.text import normalize, split_sentences


@pytest.mark.parametrize(
    "text,expected",
    [
        ("I have 3 cats.", "I have three cats."),
        ("It costs $5.50.", "It costs five dollars and fifty cents."),
        ("Meet Dr. Smith at 10:30 am.", "Meet Doctor Smith at ten thirty A M."),
        ("Born in 1999, on the 3rd.", "Born in nineteen ninety-nine, on the third."),
        ("Up 25% today", "Up twenty-five percent today"),
        ("Pi is 3.14", "Pi is three point one four"),
        ("Love it 😀!", "Love it !"),
        ("Mail bob@example.com", "Mail bob at example dot com"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_split_keeps_order_and_bounds_length():
    text = "First one. Second one? " + ", ".join(["a clause with words"] * 40) + ". Last!"
    parts = split_sentences(text, max_chars=120)
    assert parts[0] == "First one." and parts[1] == "Second one?" and parts[-1] == "Last!"
    assert all(len(p) <= 120 for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
