"""Sub-word alignment on mixed-script text, and the sub-word window plan."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerkit.data.tokenize import tokenize
from nerkit.encoders.pretrained import SubwordTokenizer, assign_windows

ALPHABET = list("张三在北京工作上海华为龘鼎") + list("AliceBobxyzQ0129") + [
    " ", "\t", "\n", "２", "Ａ", "，", "。", "ﬁ", "㍿", "e\u0301", "\u200b", "😀", "-", ".",
]  # fmt: skip
texts = st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join)


@pytest.fixture(scope="module")
def subwords(tiny_bert):
    return SubwordTokenizer.load(tiny_bert, char_positions=True)


@settings(max_examples=40, deadline=None)
@given(text=texts, mode=st.sampled_from(["char", "word"]))
def test_every_token_gets_at_least_one_sub_word_and_offsets_round_trip(subwords, text, mode):
    tokens = tokenize(text, mode=mode)
    ids, owners = subwords.encode([token.text for token in tokens])
    assert len(ids) == len(owners)
    assert owners == sorted(owners)
    assert set(owners) == set(range(len(tokens)))
    assert all(0 <= i < len(subwords.vocab) for i in ids)
    for index, token in enumerate(tokens):
        assert text[token.start : token.end] == token.text
        pieces = [ids[j] for j, owner in enumerate(owners) if owner == index]
        assert pieces == subwords.pieces(token.text)


@settings(max_examples=40, deadline=None)
@given(text=texts)
def test_known_pieces_spell_the_normalised_token(subwords, text):
    normalizer = subwords.tokenizer.backend_tokenizer.normalizer
    inverse = {i: piece for piece, i in subwords.vocab.items()}
    for token in tokenize(text, mode="word"):
        pieces = subwords.pieces(token.text)
        if subwords.unk_id in pieces:
            continue
        spelled = "".join(inverse[i].removeprefix("##") for i in pieces)
        form = unicodedata.normalize("NFKC", token.text)
        expected = normalizer.normalize_str(form) if normalizer else form
        assert spelled == "".join(expected.split())


def test_char_positions_give_one_piece_per_cjk_char_and_full_width_maps_to_ascii(subwords):
    assert subwords.encode(list("张三在北京")) == (
        [subwords.vocab[c] for c in "张三在北京"],
        [0, 1, 2, 3, 4],
    )
    assert subwords.pieces("２") == [subwords.vocab["2"]]
    assert subwords.pieces("\u200b") == [subwords.unk_id]  # maps to nothing: UNK, not zero pieces
    assert subwords.pieces("龘") == [subwords.unk_id]


def test_without_char_positions_a_char_goes_through_the_tokenizer(tiny_bert):
    plain = SubwordTokenizer.load(tiny_bert, char_positions=False)
    assert len(plain.pieces("Parising")) == 2  # paris ##ing
    assert plain.encode(["Parising", "张"]) == (
        plain.pieces("Parising") + plain.pieces("张"),
        [0, 0, 1],
    )


def test_the_piece_cache_stays_bounded_and_gives_the_same_pieces(tiny_bert):
    fresh = SubwordTokenizer.load(tiny_bert, char_positions=False)
    small = SubwordTokenizer.load(tiny_bert, char_positions=False)
    small.cache_limit = 5
    words = [f"paris{i}" for i in range(40)]
    for first in range(0, len(words), 3):
        chunk = words[first : first + 3]
        assert small.encode(chunk) == fresh.encode(chunk)
        assert len(small._cache) <= small.cache_limit
    assert len(fresh._cache) == len(words)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 60),
    size=st.integers(1, 10),
    data=st.data(),
)
def test_each_sub_word_keeps_the_window_where_it_is_farthest_from_a_cut(n, size, data):
    stride = data.draw(st.integers(1, size))
    bounds, choice = assign_windows(n, size, stride)
    assert all(end - start <= size for start, end in bounds)
    assert bounds[0][0] == 0 and bounds[-1][1] == n and len(choice) == n

    def margin(i, start, end):
        left = math.inf if start == 0 else i - start
        right = math.inf if end == n else end - 1 - i
        return min(left, right)

    for i, k in enumerate(choice):
        start, end = bounds[k]
        assert start <= i < end
        best = max(margin(i, s, e) for s, e in bounds if s <= i < e)
        assert margin(i, start, end) == best
    if n > size:  # with overlap, a sub-word is never kept at a cut edge when avoidable
        assert all(
            margin(i, *bounds[k]) >= min((size - stride) // 2, n) for i, k in enumerate(choice)
        )
