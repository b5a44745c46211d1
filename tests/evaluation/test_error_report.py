"""Error classification on hand-made cases."""

from __future__ import annotations

import pytest

from nerkit.errors import NerkitError
from nerkit.evaluation import error_report
from nerkit.types import Span


def kinds(report):
    return [(c.kind, c.gold, c.pred) for c in report.cases]


def test_each_kind_of_error_is_recognised():
    gold = [[Span(0, 2, "PER"), Span(3, 5, "LOC"), Span(6, 8, "ORG"), Span(10, 12, "PER")]]
    pred = [[Span(0, 2, "PER"), Span(3, 5, "PER"), Span(6, 9, "ORG"), Span(13, 15, "LOC")]]
    report = error_report(gold, pred)
    assert report.correct == 1
    assert kinds(report) == [
        ("type", Span(3, 5, "LOC"), Span(3, 5, "PER")),
        ("boundary", Span(6, 8, "ORG"), Span(6, 9, "ORG")),
        ("missed", Span(10, 12, "PER"), None),
        ("spurious", None, Span(13, 15, "LOC")),
    ]
    assert report.counts == {
        "type": 1, "boundary": 1, "boundary_type": 0, "missed": 1, "spurious": 1,
    }  # fmt: skip


def test_boundary_and_type_error():
    report = error_report([[Span(0, 3, "LOC")]], [[Span(1, 4, "PER")]])
    assert kinds(report) == [("boundary_type", Span(0, 3, "LOC"), Span(1, 4, "PER"))]
    assert report.per_label["LOC"]["boundary_type"] == 1
    assert report.per_label["PER"]["boundary_type"] == 0  # counted on the gold label
    assert report.confusion["LOC"]["PER"] == 1


def test_pairing_is_one_to_one_and_prefers_type_then_boundary():
    # one long prediction over two gold spans: one boundary pair, the other gold is missed
    report = error_report([[Span(0, 2, "A"), Span(2, 4, "A")]], [[Span(0, 4, "A")]])
    assert kinds(report) == [
        ("boundary", Span(0, 2, "A"), Span(0, 4, "A")),
        ("missed", Span(2, 4, "A"), None),
    ]
    # a same-range gold span is a type error even if a same-label overlapping one exists
    report = error_report([[Span(0, 2, "A"), Span(1, 3, "B")]], [[Span(1, 3, "A")]])
    assert kinds(report)[0] == ("type", Span(1, 3, "B"), Span(1, 3, "A"))
    assert kinds(report)[1] == ("missed", Span(0, 2, "A"), None)


def test_documents_are_kept_apart():
    report = error_report([[Span(0, 2, "A")], []], [[], [Span(0, 2, "A")]])
    assert [(c.kind, c.document) for c in report.cases] == [("missed", 0), ("spurious", 1)]
    assert report.confusion == {"A": {"A": 0, "O": 1}, "O": {"A": 1, "O": 0}}


def test_every_span_is_accounted_for_once():
    gold = [[Span(0, 2, "A"), Span(3, 6, "B"), Span(7, 8, "A")], [Span(0, 5, "B")]]
    pred = [[Span(0, 2, "A"), Span(2, 5, "B"), Span(7, 8, "B"), Span(9, 10, "A")], []]
    report = error_report(gold, pred)
    golds = [c.gold for c in report.cases if c.gold is not None]
    preds = [c.pred for c in report.cases if c.pred is not None]
    assert report.correct + len(golds) == sum(map(len, gold))
    assert report.correct + len(preds) == sum(map(len, pred))


def test_to_dict_shape_and_table():
    report = error_report([[Span(0, 2, "A")]], [[Span(0, 2, "B")]])
    data = report.to_dict()
    assert set(data) == {"correct", "counts", "per_label", "confusion", "cases"}
    assert data["cases"] == [
        {
            "kind": "type",
            "document": 0,
            "gold": {"start": 0, "end": 2, "label": "A"},
            "pred": {"start": 0, "end": 2, "label": "B"},
        }
    ]
    assert report.to_dict(max_cases=0)["cases"] == []
    assert "boundary_type" in report.format_table()


def test_document_count_mismatch_is_a_user_error():
    with pytest.raises(NerkitError, match=r"got 2 predicted and 1 gold"):
        error_report([[]], [[], []])
