"""End-to-end relation scores: exact (head, tail, relation) triples over predicted entities.

An end-to-end system (NER + relation classifier) finds its own entities, so a relation is
scored as a triple of two entity mentions and a label, compared per document as sets:

- strict: `((head start, head end, head type), (tail start, tail end, tail type), label)`, all
  exact (the "strict" evaluation of Bekoulis et al. 2018 and Taillé et al. 2020);
- boundaries: the same with the entity types removed (`untyped`), so a right pair of mentions
  with a wrong NER type still counts (Taillé et al.'s "boundaries" setting).

No-relation labels are excluded from gold and predictions (a pair predicted as no relation is
no prediction). Micro P/R/F1 count triples over all labels; per label by relation name, over
the labels of the gold data and the predictions. A duplicate triple counts once; a right
relation in the wrong direction is a false positive and a false negative; 0/0 is 0.0.
Torch-free: it compares tuples, it never runs a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nerkit.errors import NerkitError
from nerkit.evaluation.metrics import LabelScore

__all__ = ["Mention", "Triple", "TripleScores", "score_triples", "untyped"]

Mention = tuple[int, int, str]  # start, end (exclusive), entity type ("" when untyped)
Triple = tuple[Mention, Mention, str]  # head, tail, relation label


def untyped(triples: Iterable[Triple]) -> set[Triple]:
    """Return the triples with the entity types blanked: the "boundaries" setting."""
    return {((h[0], h[1], ""), (t[0], t[1], ""), label) for h, t, label in triples}


@dataclass(frozen=True)
class TripleScores(LabelScore):
    """Micro precision/recall/F1 over triples (the `LabelScore` fields), and per relation label."""

    per_label: dict[str, LabelScore]

    def to_dict(self) -> dict[str, Any]:
        """Return the micro scores, the counts and ``per_label`` as a JSON-ready dict."""
        return {
            "micro_precision": self.precision, "micro_recall": self.recall,
            "micro_f1": self.f1, "support": self.support, "predicted": self.predicted,
            "correct": self.correct,
            "per_label": {label: s.to_dict() for label, s in self.per_label.items()},
        }  # fmt: skip

    def format_table(self) -> str:
        """Return an aligned table: one line per relation label, then the micro scores."""
        width = max([len(label) for label in self.per_label] + [9])
        lines = [f"{'label':<{width}}  precision  recall     f1  support"]
        rows = [*self.per_label.items(), ("micro", self)]
        for label, s in rows:
            lines.append(
                f"{label:<{width}}  {100 * s.precision:9.2f}  {100 * s.recall:6.2f}  "
                f"{100 * s.f1:5.2f}  {s.support:7d}"
            )
        return "\n".join(lines)


def score_triples(
    gold: Sequence[Iterable[Triple]],
    predicted: Sequence[Iterable[Triple]],
    no_relation: Iterable[str] = (),
) -> TripleScores:
    """Return the scores of predicted against gold triples, document by document.

    `gold[i]` and `predicted[i]` are the triples of document i; triples whose label is in
    `no_relation` are dropped from both first.
    """
    if len(gold) != len(predicted):
        raise NerkitError(
            f"expected as many predicted documents as gold ones, got {len(predicted)} "
            f"predicted and {len(gold)} gold (pair the documents in the same order)"
        )
    skip = set(no_relation)
    counts: dict[str, list[int]] = {}  # label -> [gold, predicted, correct]
    for gold_doc, predicted_doc in zip(gold, predicted, strict=True):
        g = {t for t in gold_doc if t[2] not in skip}
        p = {t for t in predicted_doc if t[2] not in skip}
        for triple in g | p:
            row = counts.setdefault(triple[2], [0, 0, 0])
            row[0] += triple in g
            row[1] += triple in p
            row[2] += triple in g and triple in p
    per_label = {label: LabelScore.from_counts(*counts[label]) for label in sorted(counts)}
    support, found, correct = (sum(row[k] for row in counts.values()) for k in range(3))
    total = LabelScore.from_counts(support, found, correct)
    return TripleScores(**vars(total), per_label=per_label)
