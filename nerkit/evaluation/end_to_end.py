"""The end-to-end report of a system that finds entities and relations from texts alone.

A pipeline (`nerkit.pipeline.report`) and a joint model (`nerkit.tasks.joint`) are scored
the same way (`nerkit.evaluation.triples`), each micro P/R/F1 and per label:

- `strict`: (head span + type, tail span + type, relation) triples, all exact: the score;
- `boundaries`: the same triples with entity types ignored;
- `attributes`: (entity span + type, value span, attribute name) triples, all exact; the
  score of a system without relations;
- `entities`: the system's entities, exact (start, end, type).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nerkit.evaluation.metrics import Report as EntityReport
from nerkit.evaluation.triples import Triple, TripleScores
from nerkit.types import Example, Span

__all__ = ["EndToEndReport", "gold_triples"]


def _mention(span: Span) -> tuple[int, int, str]:
    return (span.start, span.end, span.label)


def gold_triples(example: Example) -> set[Triple]:
    """Return the (head, tail, relation) triples of a gold example, entities typed."""
    spans = example.spans
    return {(_mention(spans[r.head]), _mention(spans[r.tail]), r.label) for r in example.relations}


@dataclass(frozen=True)
class EndToEndReport:
    """Triple scores of relations and attributes (None where the system has none) and entity
    scores."""

    strict: TripleScores | None
    boundaries: TripleScores | None
    attributes: TripleScores | None
    entities: EntityReport
    documents: int
    pairs_classified: int

    @property
    def main_score(self) -> float:
        """Return the strict relation triple micro-F1, else the attribute triple micro-F1."""
        scores = self.strict if self.strict is not None else self.attributes
        return scores.f1 if scores is not None else 0.0

    def summary(self) -> dict[str, float]:
        """Return the headline scores: strict triple P/R/F1 and boundaries F1 (relations),
        attribute triple P/R/F1 (attributes), entity F1."""
        found: dict[str, float] = {}
        if self.strict is not None and self.boundaries is not None:
            found.update(triple_precision=self.strict.precision, triple_recall=self.strict.recall,
                         triple_f1=self.strict.f1, boundaries_f1=self.boundaries.f1)  # fmt: skip
        if self.attributes is not None:
            found.update(attribute_precision=self.attributes.precision,
                         attribute_recall=self.attributes.recall,
                         attribute_f1=self.attributes.f1)  # fmt: skip
        return {**found, "entity_f1": self.entities.f1}

    def to_dict(self) -> dict[str, Any]:
        """Return every score, JSON-ready: the summary, then ``strict``, ``boundaries``,
        ``attributes`` (those the pipeline has), ``entities`` (each with ``per_label``),
        documents and pairs classified."""
        parts = {"strict": self.strict, "boundaries": self.boundaries,
                 "attributes": self.attributes}  # fmt: skip
        return {
            **self.summary(),
            **{name: scores.to_dict() for name, scores in parts.items() if scores is not None},
            "entities": self.entities.to_dict(),
            "documents": self.documents,
            "pairs_classified": self.pairs_classified,
        }

    def format_table(self) -> str:
        """Return the strict triple and attribute tables, then one line of headline scores."""
        lines, scores = [], []
        if self.strict is not None and self.boundaries is not None:
            lines += ["strict triples (head span+type, tail span+type, relation):",
                      self.strict.format_table()]  # fmt: skip
            scores += [f"strict triple F1 {100 * self.strict.f1:.2f}",
                       f"boundaries F1 {100 * self.boundaries.f1:.2f}"]  # fmt: skip
        if self.attributes is not None:
            lines += ["attributes (entity span+type, value span, name):",
                      self.attributes.format_table()]  # fmt: skip
            scores.append(f"attribute F1 {100 * self.attributes.f1:.2f}")
        scores.append(f"entity F1 {100 * self.entities.f1:.2f}")
        lines.append(
            "  ".join(scores) + f"  ({self.documents} documents, {self.pairs_classified} pairs "
            "classified, no-relation labels excluded)"
        )
        return "\n".join(lines)
