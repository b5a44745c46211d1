"""Entity-level precision, recall and F1: exact match of (start, end, label) per document.

`score_spans` works on any spans (character offsets from readers and predictors, or token
indices from `nerkit.schemes`): a predicted span is correct when a gold span of the same
document has the same start, end and label. Spans are compared as sets per document, so a
duplicate span counts once. `score_tags` first chunks token tags with `nerkit.schemes`:

- ``mode="conlleval"`` chunks leniently (conlleval.pl's rules; seqeval's default mode), so
  ill-formed sequences such as ``O I-PER`` still yield chunks;
- ``mode="strict"`` keeps only chunks well-formed for the scheme (seqeval's ``mode="strict"``).

Scores follow seqeval: micro P/R/F1 over all labels; per label over the union of gold and
predicted labels; macro F1 is the unweighted mean of the per-label F1; 0/0 is 0.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from nerkit.errors import NerkitError
from nerkit.evaluation.labels import f1
from nerkit.schemes import Scheme, tags_to_spans
from nerkit.types import Span

__all__ = ["LabelScore", "Mode", "Report", "score_spans", "score_tags"]

Mode = Literal["strict", "conlleval"]
MODES: tuple[Mode, ...] = ("strict", "conlleval")


def _ratio(numerator: float, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


@dataclass(frozen=True)
class LabelScore:
    """Scores of one label: `support` gold spans, `predicted` spans, `correct` exact matches."""

    precision: float
    recall: float
    f1: float
    support: int
    predicted: int
    correct: int

    @classmethod
    def from_counts(cls, support: int, predicted: int, correct: int) -> LabelScore:
        """Return the scores of the given counts (0/0 is 0.0)."""
        precision, recall = _ratio(correct, predicted), _ratio(correct, support)
        return cls(precision, recall, f1(precision, recall), support, predicted, correct)

    def to_dict(self) -> dict[str, Any]:
        """Return precision, recall, f1, support, predicted and correct as a JSON-ready dict."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
            "predicted": self.predicted,
            "correct": self.correct,
        }


@dataclass(frozen=True)
class Report:
    """Micro-averaged scores, macro F1 and the scores of each label (sorted by label)."""

    precision: float
    recall: float
    f1: float
    macro_f1: float
    support: int
    predicted: int
    correct: int
    per_label: dict[str, LabelScore]

    @property
    def main_score(self) -> float:
        """Return the score training maximises: micro F1."""
        return self.f1

    def summary(self) -> dict[str, float]:
        """Return the headline scores: micro precision, recall and F1."""
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: micro scores, macro_f1, counts and ``per_label``."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "macro_f1": self.macro_f1,
            "support": self.support,
            "predicted": self.predicted,
            "correct": self.correct,
            "per_label": {label: score.to_dict() for label, score in self.per_label.items()},
        }

    def format_table(self) -> str:
        """Return a conlleval-like text table: micro scores, then one line per label."""

        def row(score: LabelScore | Report) -> str:
            return (
                f"precision: {100 * score.precision:6.2f}%; recall: {100 * score.recall:6.2f}%; "
                f"FB1: {100 * score.f1:6.2f}"
            )

        width = max([17, *(len(label) for label in self.per_label)])
        lines = [
            f"processed {self.support} gold phrases; found: {self.predicted} phrases; "
            f"correct: {self.correct}.",
            f"{'all':>{width}}: {row(self)}  macro FB1: {100 * self.macro_f1:6.2f}",
        ]
        for label, score in self.per_label.items():
            counts = f"found {score.predicted:>5}  gold {score.support:>5}"
            lines.append(f"{label:>{width}}: {row(score)}  {counts}")
        return "\n".join(lines)


def _report(counts: dict[str, list[int]]) -> Report:
    """Return the Report of per-label [support, predicted, correct] counts."""
    per_label = {label: LabelScore.from_counts(*counts[label]) for label in sorted(counts)}
    support, predicted, correct = (sum(c[k] for c in counts.values()) for k in range(3))
    micro = LabelScore.from_counts(support, predicted, correct)
    macro_f1 = _ratio(sum(s.f1 for s in per_label.values()), len(per_label))
    return Report(
        micro.precision, micro.recall, micro.f1, macro_f1, support, predicted, correct, per_label
    )


def score_spans(gold: Sequence[Iterable[Span]], pred: Sequence[Iterable[Span]]) -> Report:
    """Return P/R/F1 of predicted spans against gold spans, document by document.

    `gold[i]` and `pred[i]` are the spans of document i; a predicted span is correct when the
    same document has a gold span with the same start, end and label.
    """
    if len(gold) != len(pred):
        raise NerkitError(
            f"expected as many predicted documents as gold ones, got {len(pred)} predicted "
            f"and {len(gold)} gold (pair the documents in the same order)"
        )
    counts: dict[str, list[int]] = {}
    for gold_doc, pred_doc in zip(gold, pred, strict=True):
        gold_set, pred_set = set(gold_doc), set(pred_doc)
        for span in gold_set:
            counts.setdefault(span.label, [0, 0, 0])[0] += 1
        for span in pred_set:
            entry = counts.setdefault(span.label, [0, 0, 0])
            entry[1] += 1
            entry[2] += span in gold_set
    return _report(counts)


def score_tags(
    gold_tags: Sequence[Sequence[str]],
    pred_tags: Sequence[Sequence[str]],
    scheme: Scheme,
    mode: Mode = "conlleval",
) -> Report:
    """Return P/R/F1 of predicted tag sequences against gold ones, chunked per `mode`.

    Sentence i of `pred_tags` must be as long as sentence i of `gold_tags`.
    """
    if mode not in MODES:
        raise NerkitError(f"unknown evaluation mode {mode!r}; expected one of {', '.join(MODES)}")
    if len(gold_tags) != len(pred_tags):
        raise NerkitError(
            f"expected as many predicted sentences as gold ones, got {len(pred_tags)} "
            f"predicted and {len(gold_tags)} gold"
        )
    for i, (gold_seq, pred_seq) in enumerate(zip(gold_tags, pred_tags, strict=True)):
        if len(gold_seq) != len(pred_seq):
            raise NerkitError(
                f"sentence {i} has {len(gold_seq)} gold tags but {len(pred_seq)} predicted "
                "tags (one tag per token on both sides)"
            )
    strict = mode == "strict"
    gold = [tags_to_spans(seq, scheme, strict=strict) for seq in gold_tags]
    pred = [tags_to_spans(seq, scheme, strict=strict) for seq in pred_tags]
    return score_spans(gold, pred)
