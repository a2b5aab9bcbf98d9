"""The streaming first chunk: a few words, cut where a phrase can break, the rest untouched."""

import pytest

from realvoice.pipeline import FIRST_CHUNK_WORDS, SHORT_SENTENCE_WORDS, split_first_sentence


@pytest.mark.parametrize(
    ("sentence", "first"),
    [
        # a clause boundary in reach wins
        ("Today, on March third, we finally try the recipe you asked for most.", "Today, on March third,"),
        # ...but not one so far that the first chunk would take long to make
        ("When we started this channel, we had no idea so many of you would care.", "When we started"),
        # otherwise cut before a word that starts a phrase
        ("Then we went to the market and bought some bread.", "Then we went"),
        ("The old house stood alone at the end of the long road.", "The old house"),
        # otherwise after the word limit
        ("Seven bright purple elephants danced happily underneath tall trees today.", "Seven bright purple"),
    ],
)
def test_first_chunk_is_short_and_loses_no_words(sentence: str, first: str) -> None:
    out = split_first_sentence([sentence, "Next sentence."])
    assert out[0] == first
    assert len(out[0].split()) <= FIRST_CHUNK_WORDS + 1
    assert " ".join(out[:2]) == sentence
    assert out[2:] == ["Next sentence."]


def test_short_first_sentences_are_left_whole() -> None:
    assert split_first_sentence(["Hello there, friend.", "More."]) == ["Hello there, friend.", "More."]
    eight = "Thanks for watching, see you again soon, friends!"
    assert len(eight.split()) == SHORT_SENTENCE_WORDS and split_first_sentence([eight]) == [eight]
    assert split_first_sentence([eight, "Bye."]) == [eight, "Bye."]
    nine = eight[:-1] + " and bye!"
    assert split_first_sentence([nine]) == ["Thanks for watching,", "see you again soon, friends and bye!"]
    assert split_first_sentence([]) == []
