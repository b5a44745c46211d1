"""Why predictions are wrong: each mismatch classified, per label, plus a label confusion table.

Works on spans per document, like `nerkit.evaluation.metrics.score_spans`. Exact matches are
`correct`; every other gold or predicted span ends up in exactly one error case:

- ``type``: same start and end, another label;
- ``boundary``: same label, overlapping but different start or end;
- ``boundary_type``: overlapping, different boundaries and a different label;
- ``missed``: a gold span left without a partner (false negative);
- ``spurious``: a predicted span left without a partner (false positive).

Pairing is one-to-one and greedy, in that order of passes (type, then boundary, then
boundary_type); within a pass predicted spans are taken in position order and each takes the
first free gold span that fits. A gold span overlapping a prediction that was already paired
therefore counts as missed. Per-label counts go to the gold label, except ``spurious`` which
goes to the predicted label. The confusion table counts correct spans and every pair as
``confusion[gold_label][pred_label]``, missed spans as ``[label]["O"]`` and spurious ones as
``["O"][label]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nerkit.errors import NerkitError
from nerkit.types import Span

__all__ = ["KINDS", "ErrorCase", "ErrorReport", "error_report"]

KINDS = ("type", "boundary", "boundary_type", "missed", "spurious")
OUTSIDE = "O"


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


_PASSES: tuple[tuple[str, Callable[[Span, Span], bool]], ...] = (
    ("type", lambda g, p: (g.start, g.end) == (p.start, p.end)),
    ("boundary", lambda g, p: g.label == p.label and _overlaps(g, p)),
    ("boundary_type", _overlaps),
)


def _span_dict(span: Span | None) -> dict[str, Any] | None:
    return None if span is None else {"start": span.start, "end": span.end, "label": span.label}


@dataclass(frozen=True)
class ErrorCase:
    """One error: its kind, the document index and the gold and/or predicted span."""

    kind: str
    document: int
    gold: Span | None
    pred: Span | None

    def to_dict(self) -> dict[str, Any]:
        """Return kind, document, gold and pred (each span a dict or None) as a JSON-ready dict."""
        return {
            "kind": self.kind,
            "document": self.document,
            "gold": _span_dict(self.gold),
            "pred": _span_dict(self.pred),
        }


@dataclass(frozen=True)
class ErrorReport:
    """Error counts overall and per label, a label confusion table, and every error case."""

    correct: int
    counts: dict[str, int]
    per_label: dict[str, dict[str, int]]
    confusion: dict[str, dict[str, int]]
    cases: tuple[ErrorCase, ...]

    def to_dict(self, max_cases: int | None = None) -> dict[str, Any]:
        """Return a JSON-ready dict; `max_cases` keeps only the first cases (None keeps all)."""
        cases = self.cases if max_cases is None else self.cases[:max_cases]
        return {
            "correct": self.correct,
            "counts": dict(self.counts),
            "per_label": {label: dict(row) for label, row in self.per_label.items()},
            "confusion": {label: dict(row) for label, row in self.confusion.items()},
            "cases": [case.to_dict() for case in cases],
        }

    def format_table(self) -> str:
        """Return the per-label error counts and the confusion table as aligned text."""
        columns = ("correct", *KINDS)
        width = max([8, *(len(label) for label in self.confusion)])
        lines = [f"{'label':<{width}} " + " ".join(f"{c:>13}" for c in columns)]
        for label, row in self.per_label.items():
            lines.append(f"{label:<{width}} " + " ".join(f"{row[c]:>13}" for c in columns))
        total = {"correct": self.correct, **self.counts}
        lines.append(f"{'all':<{width}} " + " ".join(f"{total[c]:>13}" for c in columns))
        names = list(self.confusion)
        cell = max([5, *(len(n) for n in names)])
        corner = "gold\\pred"
        lines += ["", f"{corner:<{width}} " + " ".join(f"{n:>{cell}}" for n in names)]
        for gold in names:
            row = self.confusion[gold]
            lines.append(f"{gold:<{width}} " + " ".join(f"{row[n]:>{cell}}" for n in names))
        return "\n".join(lines)


def _classify(document: int, gold: set[Span], pred: set[Span]) -> list[ErrorCase]:
    """Return the error cases of one document (exact matches excluded)."""
    free_gold = sorted(gold - pred)
    free_pred = sorted(pred - gold)
    cases: list[ErrorCase] = []
    for kind, fits in _PASSES:
        unpaired = []
        for p in free_pred:
            partner = next((g for g in free_gold if fits(g, p)), None)
            if partner is None:
                unpaired.append(p)
            else:
                free_gold.remove(partner)
                cases.append(ErrorCase(kind, document, partner, p))
        free_pred = unpaired
    cases += [ErrorCase("missed", document, g, None) for g in free_gold]
    cases += [ErrorCase("spurious", document, None, p) for p in free_pred]
    return cases


def _tables(
    correct: list[Span], cases: list[ErrorCase]
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Return (per_label, confusion) tables with every label present in every row."""
    labels = sorted({s.label for s in correct} | {
        s.label for c in cases for s in (c.gold, c.pred) if s is not None
    })  # fmt: skip
    per_label = {label: dict.fromkeys(("correct", *KINDS), 0) for label in labels}
    names = [*labels, OUTSIDE]
    confusion = {label: dict.fromkeys(names, 0) for label in names}
    for span in correct:
        per_label[span.label]["correct"] += 1
        confusion[span.label][span.label] += 1
    for case in cases:
        owner = case.gold if case.gold is not None else case.pred
        per_label[owner.label][case.kind] += 1  # type: ignore[union-attr]
        gold_label = case.gold.label if case.gold is not None else OUTSIDE
        pred_label = case.pred.label if case.pred is not None else OUTSIDE
        confusion[gold_label][pred_label] += 1
    return per_label, confusion


def error_report(gold: Sequence[Iterable[Span]], pred: Sequence[Iterable[Span]]) -> ErrorReport:
    """Return the classified errors of predicted spans against gold spans, document by document."""
    if len(gold) != len(pred):
        raise NerkitError(
            f"expected as many predicted documents as gold ones, got {len(pred)} predicted "
            f"and {len(gold)} gold (pair the documents in the same order)"
        )
    correct: list[Span] = []
    cases: list[ErrorCase] = []
    for document, (gold_doc, pred_doc) in enumerate(zip(gold, pred, strict=True)):
        gold_set, pred_set = set(gold_doc), set(pred_doc)
        correct += sorted(gold_set & pred_set)
        cases += _classify(document, gold_set, pred_set)
    per_label, confusion = _tables(correct, cases)
    counts = {kind: sum(case.kind == kind for case in cases) for kind in KINDS}
    return ErrorReport(len(correct), counts, per_label, confusion, tuple(cases))
