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
        ("Meet at 3pm.", "Meet at three P M."),
        (
            "$3.50 on 12/05/2024 at 3:30pm",
            "three dollars and fifty cents on December fifth, twenty twenty-four at three thirty P M",
        ),
        ("Due 2024-03-01.", "Due March first, twenty twenty-four."),
        ("Call (555) 123-4567.", "Call five five five, one two three, four five six seven."),
        ("5 km, 1 ft, 70 mph", "five kilometers, one foot, seventy miles per hour"),
        ("We raised $3.5 million", "We raised three point five million dollars"),
        ("Pages 10-20", "Pages ten to twenty"),
        ("It was -5 outside", "It was minus five outside"),
        ("In 1905 and 2000", "In nineteen oh-five and two thousand"),
        ("1,234 people", "one thousand, two hundred and thirty-four people"),
        ("Visit https://www.example.com/page now", "Visit example dot com now"),
        ("Tom & Jerry", "Tom and Jerry"),
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
