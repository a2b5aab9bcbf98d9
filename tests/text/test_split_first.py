"""Streaming's first sentence: growing pieces, cut where a phrase can break, no word lost."""

import pytest

from realvoice.pipeline import FIRST_PIECES_WORDS, split_first_sentence


@pytest.mark.parametrize(
    ("sentence", "pieces"),
    [
        # a clause boundary in reach wins, even after one word
        (
            "Today, on March third, we finally try the recipe you asked for most.",
            ["Today,", "on March third,", "we finally try the recipe you asked for most."],
        ),
        ("Thanks for watching, see you soon!", ["Thanks for watching,", "see you soon!"]),
        # otherwise cut before a word that starts a phrase
        (
            "Then we went to the market and bought some bread for the whole family.",
            ["Then we", "went to the market", "and bought some bread for the whole family."],
        ),
        # otherwise after the budget
        (
            "Seven bright purple elephants danced happily underneath tall trees today.",
            ["Seven bright", "purple elephants danced happily underneath", "tall trees today."],
        ),
    ],
)
def test_first_sentence_grows_and_loses_no_words(sentence: str, pieces: list[str]) -> None:
    out = split_first_sentence([sentence, "Next sentence."])
    assert out == [*pieces, "Next sentence."]


def test_pieces_keep_to_their_budgets() -> None:
    words = [f"word{i}" for i in range(60)]
    out = split_first_sentence([" ".join(words) + "."])
    assert [len(p.split()) for p in out] == [*FIRST_PIECES_WORDS, 60 - sum(FIRST_PIECES_WORDS)]
    assert " ".join(out).split() == [*words[:-1], words[-1] + "."]


def test_short_first_sentences_are_left_whole() -> None:
    assert split_first_sentence(["Hello there, friend.", "More."]) == ["Hello there, friend.", "More."]
    four = "We love fresh bread."
    assert split_first_sentence([four, "Bye."]) == [four, "Bye."]
    assert split_first_sentence(["One two three four five."]) == ["One two", "three four five."]
    assert split_first_sentence([]) == []
