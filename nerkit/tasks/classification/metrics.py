"""Classification scores: accuracy, micro- and macro-F1 and per-label precision/recall/F1.

For single-label data every text has one gold and one predicted label, so micro-F1 equals
accuracy; macro-F1 averages the per-label F1 over the labels of the gold data and the
predictions. For multi-label data a text is accurate when its predicted label set equals
the gold set (exact match), and the F1 scores count (text, label) decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nerkit.evaluation.labels import LabelScores, f1

__all__ = ["ClassificationReport", "LabelScores", "score_labels"]


@dataclass(frozen=True)
class ClassificationReport:
    """The scores of predicted labels against gold labels."""

    accuracy: float
    micro_f1: float
    macro_f1: float
    texts: int
    multi_label: bool
    per_label: dict[str, LabelScores]

    @property
    def main_score(self) -> float:
        """Return the score training maximises: accuracy (single-label) or micro-F1."""
        return self.micro_f1 if self.multi_label else self.accuracy

    def summary(self) -> dict[str, float]:
        """Return the headline scores: accuracy, macro-F1, micro-F1."""
        return {"accuracy": self.accuracy, "macro_f1": self.macro_f1, "micro_f1": self.micro_f1}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: the headline scores, counts and ``per_label``."""
        return {
            **self.summary(),
            "texts": self.texts,
            "multi_label": self.multi_label,
            "per_label": {label: scores.to_dict() for label, scores in self.per_label.items()},
        }

    def format_table(self) -> str:
        """Return an aligned table: one line per label, then the overall scores."""
        width = max([len(label) for label in self.per_label] + [9])
        lines = [f"{'label':<{width}}  precision  recall     f1  support"]
        for label, s in self.per_label.items():
            lines.append(
                f"{label:<{width}}  {100 * s.precision:9.2f}  {100 * s.recall:6.2f}  "
                f"{100 * s.f1:5.2f}  {s.support:7d}"
            )
        lines.append(
            f"accuracy {100 * self.accuracy:.2f}  macro-F1 {100 * self.macro_f1:.2f}  "
            f"micro-F1 {100 * self.micro_f1:.2f}  ({self.texts} texts)"
        )
        return "\n".join(lines)


def score_labels(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], multi_label: bool = False
) -> ClassificationReport:
    """Return the report of predicted label lists against gold label lists, text by text."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold texts but {len(predicted)} predictions")
    counts: dict[str, list[int]] = {}  # label -> [gold, predicted, correct]
    exact = 0
    for gold_labels, predicted_labels in zip(gold, predicted, strict=True):
        g, p = set(gold_labels), set(predicted_labels)
        exact += g == p
        for label in g | p:
            row = counts.setdefault(label, [0, 0, 0])
            row[0] += label in g
            row[1] += label in p
            row[2] += label in g and label in p
    per_label = {}
    for label in sorted(counts):
        support, found, correct = counts[label]
        precision = correct / found if found else 0.0
        recall = correct / support if support else 0.0
        per_label[label] = LabelScores(precision, recall, f1(precision, recall), support)
    total = [sum(row[k] for row in counts.values()) for k in range(3)]
    micro_p = total[2] / total[1] if total[1] else 0.0
    micro_r = total[2] / total[0] if total[0] else 0.0
    macro = sum(s.f1 for s in per_label.values()) / len(per_label) if per_label else 0.0
    return ClassificationReport(
        accuracy=exact / len(gold) if gold else 0.0,
        micro_f1=f1(micro_p, micro_r),
        macro_f1=macro,
        texts=len(gold),
        multi_label=multi_label,
        per_label=per_label,
    )
