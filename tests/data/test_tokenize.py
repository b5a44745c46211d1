"""Tokeniser: offsets, CJK per character, word runs, symbols, whitespace never inside a token."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerkit.data.tokenize import is_wide, tokenize
from nerkit.types import Token


def texts(tokens: list[Token]) -> list[str]:
    return [t.text for t in tokens]


def test_word_mode_splits_cjk_per_character_and_latin_into_words():
    assert texts(tokenize("我在Apple公司工作了３年，salary 5000元!")) == [
        "我", "在", "Apple", "公", "司", "工", "作", "了", "３", "年", "，",
        "salary", "5000", "元", "!",
    ]  # fmt: skip


def test_word_mode_keeps_fullwidth_alphanumerics_and_cyrillic_as_runs():
    assert texts(tokenize("ＩＢＭ１２３ Москва2024")) == ["ＩＢＭ１２３", "Москва2024"]


def test_kana_and_hangul_are_per_character():
    assert texts(tokenize("東京タワー 서울")) == ["東", "京", "タ", "ワ", "ー", "서", "울"]


def test_emoji_is_one_index_and_its_own_token():
    tokens = tokenize("hi😀there")
    assert tokens == [Token("hi", 0, 2), Token("😀", 2, 3), Token("there", 3, 8)]


def test_combining_marks_stay_with_their_letter():
    assert texts(tokenize("cafe\u0301 ok")) == ["cafe\u0301", "ok"]


def test_char_mode_drops_whitespace_only():
    assert tokenize("a b\u3000中", mode="char") == [
        Token("a", 0, 1), Token("b", 2, 3), Token("中", 4, 5),
    ]  # fmt: skip


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="mode must be 'char' or 'word'"):
        tokenize("x", mode="bpe")  # type: ignore[arg-type]


def test_is_wide_covers_cjk_and_fullwidth_but_not_ascii():
    assert is_wide("中") and is_wide("１") and is_wide("，") and not is_wide("a")


_ALPHABET = st.sampled_from([*"ab Z9９Ａ中文。，、 \t\n😀𠀀-'.é", "\u0301", "\u3000"])


@pytest.mark.parametrize("mode", ["char", "word"])
@given(text=st.text(alphabet=_ALPHABET, max_size=40))
def test_tokens_point_into_the_text_in_order_and_skip_only_whitespace(mode, text):
    tokens = tokenize(text, mode=mode)
    for tok in tokens:
        assert text[tok.start : tok.end] == tok.text
        assert not any(c.isspace() for c in tok.text)
    assert all(a.end <= b.start for a, b in pairwise(tokens))
    covered = {i for t in tokens for i in range(t.start, t.end)}
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)
