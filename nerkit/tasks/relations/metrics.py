"""Relation scores: micro/macro F1 over the real relations, per label, and SemEval-2010 Task 8.

`score_relations` compares, example by example, sets of (head, tail, relation) triples over
given entities; no-relation labels are never counted (a pair predicted as no relation is
simply not a prediction). Micro-F1 counts triples; macro-F1 is the mean per-label F1 over the
real labels of the gold data and the predictions (sklearn's default label set). A triple with
the right relation in the wrong direction is both a false positive and a false negative.

`semeval_official` is the official SemEval-2010 Task 8 score (scorer v1.2, evaluation (iii)):
labels are the 19 strings "R(e1,e2)", "R(e2,e1)" and "Other", one gold and one predicted per
example. Collapsed to the 9 relations + Other; a prediction with the right relation but the
wrong direction is not correct for that relation (recall) and is added to its precision
denominator (P = correct / (proposed + wrong direction)); a relation proposed zero times has
P = 0. The official score is the mean of the per-relation F1 over the relations of the key,
Other excluded (not the F1 of macro-P and macro-R).

`top_label_scores` is the F1 of the MG-Lattice code (Li et al. 2019, FinRE / SanWen,
`utils/metric.py`): one prediction per pair, its top relation when that is not a
no-relation one; correct when it is among the pair's gold relations; recall over the pairs
holding any real relation. Multi-label models report it as `mglattice_micro_f1`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nerkit.evaluation.labels import LabelScores, f1
from nerkit.tasks.relations.data import split_directed

__all__ = [
    "SEMEVAL_RELATIONS",
    "LabelScores",
    "OfficialScore",
    "RelationReport",
    "score_relations",
    "semeval_official",
    "top_label_scores",
]

SEMEVAL_RELATIONS = frozenset({
    "Cause-Effect", "Component-Whole", "Content-Container", "Entity-Destination",
    "Entity-Origin", "Instrument-Agency", "Member-Collection", "Message-Topic",
    "Product-Producer",
})  # fmt: skip
Triple = tuple[int, int, str]


@dataclass(frozen=True)
class OfficialScore:
    """The SemEval-2010 Task 8 official figures: macro-F1 (the score), micro-F1, per relation."""

    macro_f1: float
    micro_f1: float
    per_relation: dict[str, LabelScores]


@dataclass(frozen=True)
class RelationReport:
    """The scores of predicted relations against gold relations over given entities."""

    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_f1: float
    pairs: int
    per_label: dict[str, LabelScores]
    official: OfficialScore | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def main_score(self) -> float:
        """Return the score training maximises: the official score if any, else micro-F1."""
        return self.official.macro_f1 if self.official is not None else self.micro_f1

    def summary(self) -> dict[str, float]:
        """Return the headline scores: micro P/R/F1, macro-F1 (+ official_macro_f1)."""
        scores = {"micro_precision": self.micro_precision, "micro_recall": self.micro_recall,
                  "micro_f1": self.micro_f1, "macro_f1": self.macro_f1}  # fmt: skip
        if self.official is not None:
            scores["official_macro_f1"] = self.official.macro_f1
        return {**scores, **self.extra}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: the headline scores, counts and ``per_label``."""
        out: dict[str, Any] = {
            **self.summary(),
            "pairs": self.pairs,
            "per_label": {label: s.to_dict() for label, s in self.per_label.items()},
        }
        if self.official is not None:
            out["official_micro_f1"] = self.official.micro_f1
            out["official_per_relation"] = {
                label: s.to_dict() for label, s in self.official.per_relation.items()
            }
        return out

    def format_table(self) -> str:
        """Return an aligned table: one line per real label, then the overall scores."""
        width = max([len(label) for label in self.per_label] + [9])
        lines = [f"{'label':<{width}}  precision  recall     f1  support"]
        for label, s in self.per_label.items():
            lines.append(
                f"{label:<{width}}  {100 * s.precision:9.2f}  {100 * s.recall:6.2f}  "
                f"{100 * s.f1:5.2f}  {s.support:7d}"
            )
        line = (
            f"micro-F1 {100 * self.micro_f1:.2f}  macro-F1 {100 * self.macro_f1:.2f}  "
            f"({self.pairs} pairs, no-relation labels excluded)"
        )
        if self.official is not None:
            line += f"  SemEval official macro-F1 {100 * self.official.macro_f1:.2f}"
        return "\n".join([*lines, line])


def _label_scores(counts: dict[str, list[int]]) -> dict[str, LabelScores]:
    per_label = {}
    for label in sorted(counts):
        support, found, correct = counts[label]
        precision = correct / found if found else 0.0
        recall = correct / support if support else 0.0
        per_label[label] = LabelScores(precision, recall, f1(precision, recall), support)
    return per_label


def score_relations(
    gold: Sequence[set[Triple]],
    predicted: Sequence[set[Triple]],
    no_relation: Sequence[str] = (),
    official: OfficialScore | None = None,
) -> RelationReport:
    """Return the report of predicted against gold (head, tail, label) triples, per example."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold examples but {len(predicted)} predictions")
    counts: dict[str, list[int]] = {}  # label -> [gold, predicted, correct]
    skip = set(no_relation)
    pairs = 0
    for gold_triples, predicted_triples in zip(gold, predicted, strict=True):
        g = {t for t in gold_triples if t[2] not in skip}
        p = {t for t in predicted_triples if t[2] not in skip}
        pairs += len({(h, t) for h, t, _ in gold_triples})
        for triple in g | p:
            row = counts.setdefault(triple[2], [0, 0, 0])
            row[0] += triple in g
            row[1] += triple in p
            row[2] += triple in g and triple in p
    per_label = _label_scores(counts)
    total = [sum(row[k] for row in counts.values()) for k in range(3)]
    micro_p = total[2] / total[1] if total[1] else 0.0
    micro_r = total[2] / total[0] if total[0] else 0.0
    macro = sum(s.f1 for s in per_label.values()) / len(per_label) if per_label else 0.0
    return RelationReport(micro_p, micro_r, f1(micro_p, micro_r), macro, pairs, per_label,
                          official)  # fmt: skip


def semeval_official(
    gold: Sequence[str], predicted: Sequence[str], other: str = "Other"
) -> OfficialScore:
    """Return the official SemEval-2010 Task 8 score of 19-way labels (see the module doc)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    answer: Counter[str] = Counter()
    proposed: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    wrong_direction: Counter[str] = Counter()
    for gold_label, predicted_label in zip(gold, predicted, strict=True):
        g, p = split_directed(gold_label)[0], split_directed(predicted_label)[0]
        answer[g] += 1
        if predicted_label == gold_label:
            proposed[p] += 1
            correct[g] += 1
        elif p == g:  # the relation matches, the direction does not
            wrong_direction[g] += 1
        else:
            proposed[p] += 1
    per_relation = {}
    for label in sorted(answer):
        if label == other:
            continue
        precision = (
            correct[label] / (proposed[label] + wrong_direction[label]) if proposed[label] else 0.0
        )
        recall = correct[label] / answer[label]
        per_relation[label] = LabelScores(precision, recall, f1(precision, recall), answer[label])
    found = sum(proposed[label] + wrong_direction[label] for label in per_relation)
    hits = sum(correct[label] for label in per_relation)
    support = sum(answer[label] for label in per_relation)
    micro_p = hits / found if found else 0.0
    micro_r = hits / support if support else 0.0
    macro = sum(s.f1 for s in per_relation.values()) / len(per_relation) if per_relation else 0.0
    return OfficialScore(macro, f1(micro_p, micro_r), per_relation)


def top_label_scores(
    gold: Sequence[Sequence[str]], top: Sequence[str | None], prefix: str = "mglattice"
) -> dict[str, float]:
    """Return the MG-Lattice micro P/R/F1 of one top relation per pair (None: no relation).

    `gold` holds each pair's real relations (no-relation labels already removed).
    """
    if len(gold) != len(top):
        raise ValueError(f"{len(gold)} gold pairs but {len(top)} predictions")
    found = sum(label is not None for label in top)
    correct = sum(
        label is not None and label in labels for labels, label in zip(gold, top, strict=True)
    )
    support = sum(bool(labels) for labels in gold)
    precision = correct / found if found else 0.0
    recall = correct / support if support else 0.0
    return {f"{prefix}_micro_precision": precision, f"{prefix}_micro_recall": recall,
            f"{prefix}_micro_f1": f1(precision, recall)}  # fmt: skip
