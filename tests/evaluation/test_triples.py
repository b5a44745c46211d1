"""End-to-end triple scores (`nerkit.evaluation.triples`) on hand-computed cases."""

from __future__ import annotations

import pytest

from nerkit.errors import NerkitError
from nerkit.evaluation.triples import score_triples, untyped

A, B = (0, 2, "PER"), (5, 7, "LOC")
C, D = (0, 3, "WORK"), (8, 10, "PER")
B_ORG = (5, 7, "ORG")  # B's span with another type


def test_strict_micro_and_per_label_by_hand():
    gold = [
        {(A, B, "出生地"), (C, D, "导演")},
        {(A, B, "国籍")},
        set(),
    ]
    predicted = [
        {(A, B, "出生地"), (D, C, "导演")},  # right; wrong direction
        {(A, B_ORG, "国籍"), (A, B, "None")},  # wrong tail type; a no-relation label
        {(A, B, "出生地"), (A, B, "出生地")},  # a false positive (duplicates count once)
    ]
    scores = score_triples(gold, predicted, no_relation=["None"])
    # gold 3, predicted 4 (None dropped), correct 1
    assert (scores.support, scores.predicted, scores.correct) == (3, 4, 1)
    assert scores.precision == pytest.approx(1 / 4) and scores.recall == pytest.approx(1 / 3)
    assert scores.f1 == pytest.approx(2 * (1 / 4) * (1 / 3) / (1 / 4 + 1 / 3))
    per = scores.per_label
    assert set(per) == {"出生地", "导演", "国籍"}
    assert (per["出生地"].support, per["出生地"].predicted, per["出生地"].correct) == (1, 2, 1)
    assert per["出生地"].precision == 0.5 and per["出生地"].recall == 1.0
    assert per["导演"].f1 == 0.0 and per["国籍"].f1 == 0.0
    data = scores.to_dict()
    assert data["micro_f1"] == scores.f1 and data["per_label"]["出生地"]["predicted"] == 2
    assert "micro" in scores.format_table()


def test_boundaries_ignore_the_entity_types():
    gold = [{(A, B, "国籍")}]
    predicted = [{(A, B_ORG, "国籍")}]
    assert score_triples(gold, predicted).f1 == 0.0
    boundaries = score_triples([untyped(g) for g in gold], [untyped(p) for p in predicted])
    assert boundaries.f1 == 1.0
    assert untyped({(A, B, "x")}) == {((0, 2, ""), (5, 7, ""), "x")}


def test_empty_and_mismatched_inputs():
    empty = score_triples([set()], [set()])
    assert (empty.precision, empty.recall, empty.f1, empty.per_label) == (0.0, 0.0, 0.0, {})
    with pytest.raises(NerkitError, match="as many predicted documents as gold"):
        score_triples([set()], [])
