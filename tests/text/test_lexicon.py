import pytest

from realvoice.errors import InvalidInputError
from realvoice.text import apply_lexicon, check_entry


def test_whole_words_are_replaced_case_insensitively():
    lex = {"nguyen": "win", "gif": "/ʤˈɪf/"}
    out = apply_lexicon("Nguyen sent a GIF to Nguyens.", lex)
    assert out == "win sent a [GIF](/ʤˈɪf/) to Nguyens."


@pytest.mark.parametrize("word,say_as", [("two words", "x"), ("ok", ""), ("ok", "[bad]"), ("x" * 65, "y")])
def test_bad_entries_are_refused(word, say_as):
    with pytest.raises(InvalidInputError):
        check_entry(word, say_as)
