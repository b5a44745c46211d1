"""Span metrics: equal to seqeval on random tag sequences, and conlleval cases worked by hand."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB1, IOB2, IOBES

from nerkit.errors import NerkitError
from nerkit.evaluation import score_spans, score_tags
from nerkit.schemes import Scheme, split_tag, tag_inventory
from nerkit.types import Span

SEQEVAL_SCHEME = {Scheme.IOB1: IOB1, Scheme.BIO: IOB2, Scheme.BIOES: IOBES, Scheme.BMES: IOBES}


def seqeval_spelling(tags: list[str]) -> list[str]:
    """Rewrite BMES's M as I, the letter seqeval knows."""
    out = []
    for tag in tags:
        prefix, label = split_tag(tag)
        out.append(tag if label is None else f"{'I' if prefix == 'M' else prefix}-{label}")
    return out


@st.composite
def gold_and_pred(draw, scheme: Scheme):
    """Draw sentences of random (possibly ill-formed) gold tags and equally long predictions."""
    inventory = tag_inventory(["PER", "LOC", "ORG"], scheme)
    tag = st.sampled_from(inventory)
    lengths = draw(st.lists(st.integers(0, 10), min_size=1, max_size=5))
    gold = [draw(st.lists(tag, min_size=n, max_size=n)) for n in lengths]
    # predictions: mostly copies of gold with some tags changed, so that there are hits
    pred = [[draw(st.sampled_from([t, t, draw(tag)])) for t in seq] for seq in gold]
    return gold, pred


def seqeval_scores(gold, pred, scheme, mode):
    gold, pred = [seqeval_spelling(s) for s in gold], [seqeval_spelling(s) for s in pred]
    options = {} if mode == "conlleval" else {"mode": "strict", "scheme": SEQEVAL_SCHEME[scheme]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        micro = tuple(f(gold, pred, **options) for f in (precision_score, recall_score, f1_score))
        report = classification_report(gold, pred, output_dict=True, **options)
    return micro, report


@pytest.mark.parametrize("mode", ["conlleval", "strict"])
@pytest.mark.parametrize("scheme", list(Scheme))
@settings(deadline=None, max_examples=60)
@given(data=st.data())
def test_scores_equal_seqeval(scheme, mode, data):
    gold, pred = data.draw(gold_and_pred(scheme))
    report = score_tags(gold, pred, scheme, mode=mode)
    (precision, recall, f1), expected = seqeval_scores(gold, pred, scheme, mode)
    assert (report.precision, report.recall, report.f1) == pytest.approx((precision, recall, f1))
    labels = sorted(k for k in expected if not k.endswith(" avg"))
    assert list(report.per_label) == labels
    for label in labels:
        got, want = report.per_label[label], expected[label]
        assert (got.precision, got.recall, got.f1, got.support) == pytest.approx(
            (want["precision"], want["recall"], want["f1-score"], want["support"])
        )
    if labels:
        assert report.macro_f1 == pytest.approx(expected["macro avg"]["f1-score"])
        assert report.f1 == pytest.approx(expected["micro avg"]["f1-score"])


def test_conlleval_counts_ill_formed_chunks_and_strict_drops_them():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "I-PER", "O", "B-LOC"]]  # conlleval reads I-PER I-PER as a PER chunk
    assert score_tags(gold, pred, Scheme.BIO).f1 == 1.0
    strict = score_tags(gold, pred, Scheme.BIO, mode="strict")
    assert (strict.precision, strict.recall) == (1.0, 0.5)
    assert strict.per_label["PER"].predicted == 0 and strict.per_label["PER"].support == 1


def test_conlleval_hand_worked_example():
    # gold chunks: PER(0,2) LOC(3,4) ORG(5,7); predicted: PER(0,2) LOC(3,5) ORG(6,7 from orphan I)
    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG"]]
    pred = [["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "I-ORG"]]
    report = score_tags(gold, pred, Scheme.BIO)
    assert (report.support, report.predicted, report.correct) == (3, 3, 1)
    assert report.precision == report.recall == report.f1 == pytest.approx(1 / 3)
    assert report.per_label["PER"].f1 == 1.0
    assert report.macro_f1 == pytest.approx(1 / 3)
    table = report.format_table()
    assert "processed 3 gold phrases; found: 3 phrases; correct: 1." in table
    assert "PER: precision: 100.00%; recall: 100.00%; FB1: 100.00" in table


def test_zero_over_zero_is_zero():
    report = score_spans([[], []], [[], []])
    assert (report.precision, report.recall, report.f1, report.macro_f1) == (0.0, 0.0, 0.0, 0.0)
    assert report.per_label == {}
    only_missed = score_spans([[Span(0, 1, "A")]], [[]])
    assert only_missed.per_label["A"].precision == 0.0 and only_missed.per_label["A"].recall == 0.0


def test_score_spans_is_exact_match_per_document():
    gold = [[Span(0, 2, "A")], [Span(0, 2, "A")]]
    pred = [[Span(0, 2, "A")], [Span(0, 3, "A"), Span(5, 6, "B")]]
    report = score_spans(gold, pred)
    assert (report.support, report.predicted, report.correct) == (2, 3, 1)
    assert report.to_dict()["per_label"]["B"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": 1, "correct": 0,
    }  # fmt: skip
    assert set(report.to_dict()) >= {"precision", "recall", "f1", "macro_f1", "per_label"}


def test_mismatched_inputs_are_user_errors():
    with pytest.raises(NerkitError, match=r"got 1 predicted and 2 gold"):
        score_spans([[], []], [[]])
    with pytest.raises(NerkitError, match=r"sentence 0 has 2 gold tags but 1 predicted tags"):
        score_tags([["O", "O"]], [["O"]], Scheme.BIO)
    with pytest.raises(NerkitError, match=r"unknown evaluation mode 'lenient'"):
        score_tags([["O"]], [["O"]], Scheme.BIO, mode="lenient")  # type: ignore[arg-type]
