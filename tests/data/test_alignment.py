"""Char spans <-> token tags, and windows whose merge never loses, splits or duplicates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerkit.data.alignment import (
    merge_window_spans,
    spans_to_token_tags,
    token_tags_to_spans,
    windows,
)
from nerkit.data.tokenize import tokenize
from nerkit.schemes import Scheme
from nerkit.types import Span

TEXT = "张三在 New York 工作"  # tokens: 张 三 在 New York 工 作


def test_spans_on_token_boundaries_become_tags_and_back():
    tokens = tokenize(TEXT)
    spans = [Span(0, 2, "PER"), Span(4, 12, "LOC")]
    tags, rejected = spans_to_token_tags(tokens, spans, Scheme.BIOES)
    assert tags == ["B-PER", "E-PER", "O", "B-LOC", "E-LOC", "O", "O"]
    assert rejected == []
    assert token_tags_to_spans(tokens, tags, "BIOES") == spans


def test_spans_cutting_a_token_are_returned_not_moved():
    tokens = tokenize(TEXT)
    inside_word, ok = Span(5, 12, "LOC"), Span(2, 3, "X")
    tags, rejected = spans_to_token_tags(tokens, [inside_word, ok], "BIO")
    assert rejected == [inside_word]
    assert tags == ["O", "O", "B-X", "O", "O", "O", "O"]


def test_overlapping_spans_after_the_first_are_returned():
    tokens = tokenize("一二三")
    tags, rejected = spans_to_token_tags(tokens, [Span(0, 2, "A"), Span(1, 3, "B")], "BIO")
    assert tags == ["B-A", "I-A", "O"] and rejected == [Span(1, 3, "B")]


def test_tag_count_must_match_tokens():
    with pytest.raises(ValueError, match="got 1 tags for 2 tokens"):
        token_tags_to_spans(tokenize("a b"), ["O"], "BIO")


def test_windows_cover_everything_and_last_window_is_full():
    assert windows(10, 4, 3) == [(0, 4), (3, 7), (6, 10)]
    assert windows(11, 4, 3) == [(0, 4), (3, 7), (6, 10), (7, 11)]
    assert windows(3, 4, 2) == [(0, 3)]
    assert windows(0, 4, 2) == []
    with pytest.raises(ValueError, match="0 < stride <= max_len"):
        windows(5, 4, 5)


def _window_predictions(bounds, gold):
    """Emulate a perfect model that only sees its window: entities cut by an edge are clipped."""
    result = []
    for start, end in bounds:
        seen = []
        for s in gold:
            lo, hi = max(s.start, start), min(s.end, end)
            if lo < hi:
                seen.append(Span(lo, hi, s.label))
        result.append(seen)
    return result


@st.composite
def windowed_documents(draw):
    max_len = draw(st.integers(2, 12))
    stride = draw(st.integers(1, max_len - 1))
    n = draw(st.integers(1, 40))
    bounds = windows(n, max_len, stride)
    longest = max_len - stride
    # entities placed exactly on window boundaries, plus random ones
    edges = sorted({e for w in bounds for e in w})
    spans, i = [], 0
    while i < n:
        choice = draw(st.sampled_from(["skip", "random", "edge"]))
        if choice == "skip":
            i += 1
            continue
        if choice == "edge":
            later = [e for e in edges if i < e <= min(n, i + longest)]
            if not later:
                i += 1
                continue
            end = draw(st.sampled_from(later))
        else:
            end = draw(st.integers(i + 1, min(n, i + longest)))
        spans.append(Span(i, end, draw(st.sampled_from(["A", "B"]))))
        i = end
    return bounds, spans


@given(doc=windowed_documents())
def test_merge_keeps_every_entity_once_and_whole(doc):
    bounds, gold = doc
    assert merge_window_spans(bounds, _window_predictions(bounds, gold)) == gold


def test_merge_prefers_the_window_where_the_entity_is_most_central():
    bounds = [(0, 10), (5, 15), (10, 20)]
    # window 1 sees [9, 11) as LOC with margin 4; window 0 sees a clipped [9, 10) PER
    predictions = [[Span(9, 10, "PER")], [Span(9, 11, "LOC")], [Span(10, 11, "ORG")]]
    assert merge_window_spans(bounds, predictions) == [Span(9, 11, "LOC")]
