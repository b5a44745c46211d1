"""Overlap detection and the documented overlap policies."""

from __future__ import annotations

import pytest

from nerkit.data.spans import has_overlaps, resolve_overlaps, sort_spans
from nerkit.errors import NerkitError
from nerkit.types import Relation, Span

NESTED = [Span(0, 4, "ORG"), Span(0, 2, "LOC"), Span(3, 6, "PER"), Span(7, 8, "X")]


def test_has_overlaps():
    assert has_overlaps(NESTED)
    assert not has_overlaps([Span(0, 2, "A"), Span(2, 3, "B")])


def test_longest_keeps_the_longest_of_each_group():
    assert resolve_overlaps(NESTED, "longest") == [Span(0, 4, "ORG"), Span(7, 8, "X")]


def test_first_keeps_the_earliest_then_longest():
    spans = [Span(1, 6, "B"), Span(0, 2, "A"), Span(2, 3, "C")]
    assert resolve_overlaps(spans, "first") == [Span(0, 2, "A"), Span(2, 3, "C")]


def test_error_policy_names_the_pair():
    with pytest.raises(NerkitError, match=r"found Span\(start=0, end=2, label='LOC'\)"):
        resolve_overlaps(NESTED, "error")


def test_duplicates_collapse_under_every_policy():
    for policy in ("longest", "first", "error"):
        assert resolve_overlaps([Span(0, 1, "A"), Span(0, 1, "A")], policy) == [Span(0, 1, "A")]


def test_sort_spans_reindexes_relations():
    spans, relations = sort_spans([Span(5, 6, "B"), Span(0, 1, "A")], [Relation(0, 1, "r")])
    assert spans == (Span(0, 1, "A"), Span(5, 6, "B"))
    assert relations == (Relation(1, 0, "r"),)
