"""The relation scores against hand-computed cases: the SemEval-2010 Task 8 official scorer
(direction errors cost precision and recall), and micro/macro F1 without no-relation labels."""

from __future__ import annotations

import pytest

from nerkit.tasks.relations.metrics import score_relations, semeval_official, top_label_scores


def test_a_direction_error_costs_both_precision_and_recall():
    gold = ["Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)", "Component-Whole(e1,e2)", "Other",
            "Component-Whole(e2,e1)"]  # fmt: skip
    predicted = ["Cause-Effect(e1,e2)", "Cause-Effect(e1,e2)", "Cause-Effect(e1,e2)",
                 "Component-Whole(e1,e2)", "Component-Whole(e2,e1)"]  # fmt: skip
    score = semeval_official(gold, predicted)
    # Cause-Effect: 1 correct; proposed 2 (rows 1, 3) + 1 wrong direction (row 2): P = 1/3;
    # R = 1/2; F1 = 0.4. Without the wrong-direction term P would be 1/2 and F1 0.5.
    cause = score.per_relation["Cause-Effect"]
    assert (cause.precision, cause.recall, cause.f1) == pytest.approx((1 / 3, 1 / 2, 0.4))
    # Component-Whole: 1 correct of 2 proposed (row 4 is gold Other), 1 of 2 gold: F1 = 0.5
    assert score.per_relation["Component-Whole"].f1 == pytest.approx(0.5)
    assert "Other" not in score.per_relation
    assert score.macro_f1 == pytest.approx((0.4 + 0.5) / 2)
    # micro over the key's relations: 2 correct / (3 + 2) proposed, 2 / 4 gold
    assert score.micro_f1 == pytest.approx(2 * 0.4 * 0.5 / 0.9)


def test_a_relation_proposed_only_in_the_wrong_direction_has_precision_zero():
    score = semeval_official(["Message-Topic(e1,e2)"], ["Message-Topic(e2,e1)"])
    topic = score.per_relation["Message-Topic"]
    assert (topic.precision, topic.recall, topic.f1) == (0.0, 0.0, 0.0)
    assert score.macro_f1 == 0.0


def test_the_macro_average_runs_over_the_relations_of_the_key_only():
    gold = ["Cause-Effect(e1,e2)", "Other"]
    predicted = ["Cause-Effect(e1,e2)", "Member-Collection(e2,e1)"]
    score = semeval_official(gold, predicted)
    assert list(score.per_relation) == ["Cause-Effect"]  # Member-Collection is not in the key
    assert score.macro_f1 == 1.0 and score.micro_f1 == 1.0


def test_the_macro_f1_is_the_mean_of_f1s_not_the_f1_of_the_means():
    gold = ["Cause-Effect(e1,e2)"] * 4 + ["Entity-Origin(e1,e2)"]
    predicted = ["Cause-Effect(e1,e2)"] * 4 + ["Cause-Effect(e1,e2)"]
    score = semeval_official(gold, predicted)
    # Cause-Effect P = 4/5, R = 1, F1 = 8/9; Entity-Origin P = 0 (never proposed), R = 0
    assert score.macro_f1 == pytest.approx((8 / 9 + 0) / 2)


def test_micro_and_macro_exclude_no_relation_labels_and_count_direction():
    gold = [{(0, 1, "A")}, {(0, 1, "no_relation")}, {(0, 1, "B")}]
    predicted = [{(0, 1, "A")}, {(0, 1, "A")}, {(1, 0, "B")}]  # B in the wrong direction
    report = score_relations(gold, predicted, no_relation=["no_relation"])
    assert set(report.per_label) == {"A", "B"}
    a, b = report.per_label["A"], report.per_label["B"]
    assert (a.precision, a.recall, a.support) == (0.5, 1.0, 1)
    assert (b.precision, b.recall, b.f1) == (0.0, 0.0, 0.0)
    # micro: 1 correct of 3 predicted real triples, of 2 gold ones
    assert report.micro_precision == pytest.approx(1 / 3)
    assert report.micro_recall == pytest.approx(1 / 2)
    assert report.micro_f1 == pytest.approx(0.4)
    assert report.macro_f1 == pytest.approx((2 / 3 + 0) / 2)
    assert report.official is None and "official_macro_f1" not in report.to_dict()


def test_a_pair_predicted_as_no_relation_is_only_a_miss():
    report = score_relations([{(0, 1, "A")}], [{(0, 1, "Other")}], no_relation=["Other"])
    assert report.micro_precision == 0.0 and report.micro_recall == 0.0
    assert report.per_label["A"].support == 1 and report.pairs == 1


def test_top_label_scores_follow_the_mg_lattice_rule():
    # pairs: right top label, a top label outside a multi-label gold set, no prediction on a
    # real pair, a prediction on an unknown-only pair
    gold = [["收购"], ["收购", "控股"], ["合作"], []]
    top = ["收购", "合作", None, "合作"]
    scores = top_label_scores(gold, top)
    assert scores["mglattice_micro_precision"] == pytest.approx(1 / 3)
    assert scores["mglattice_micro_recall"] == pytest.approx(1 / 3)
    assert scores["mglattice_micro_f1"] == pytest.approx(1 / 3)
    assert top_label_scores([[]], [None])["mglattice_micro_f1"] == 0.0
