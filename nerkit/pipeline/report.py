"""The report of a pipeline on data with gold entities and relations (`nerkit evaluate`).

Three scores (`nerkit.evaluation.triples`, `nerkit.evaluation.metrics`), each micro P/R/F1
and per label:

- `strict`: (head span + type, tail span + type, relation) triples, all exact: the score;
- `boundaries`: the same triples with entity types ignored;
- `entities`: the NER member's entities, exact (start, end, type).

No-relation labels (the relation model's `no_relation` and the schema's) are excluded. The
gold entity types must be the NER model's types: a file read without them (DeepKE RE CSV
gives `ENTITY` unless read with `types=`) scores 0 strict, and a warning names the labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nerkit.evaluation.metrics import Report as EntityReport
from nerkit.evaluation.metrics import score_spans
from nerkit.evaluation.triples import Triple, TripleScores, score_triples, untyped
from nerkit.pipeline.predictor import PipelinePredictor, PipelineResult
from nerkit.tasks.base import warn_unknown_labels
from nerkit.types import Entity, Example, Span

__all__ = ["PipelineReport", "gold_triples", "predicted_triples", "report"]


@dataclass(frozen=True)
class PipelineReport:
    """Strict and boundaries triple scores, and entity scores, of a pipeline on gold data."""

    strict: TripleScores
    boundaries: TripleScores
    entities: EntityReport
    documents: int
    pairs_classified: int

    @property
    def main_score(self) -> float:
        """Return the strict triple micro-F1."""
        return self.strict.f1

    def summary(self) -> dict[str, float]:
        """Return the headline scores: strict triple P/R/F1, boundaries F1, entity F1."""
        return {"triple_precision": self.strict.precision, "triple_recall": self.strict.recall,
                "triple_f1": self.strict.f1, "boundaries_f1": self.boundaries.f1,
                "entity_f1": self.entities.f1}  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Return every score, JSON-ready: the summary, then ``strict``, ``boundaries``,
        ``entities`` (each with ``per_label``), documents and pairs classified."""
        return {
            **self.summary(),
            "strict": self.strict.to_dict(),
            "boundaries": self.boundaries.to_dict(),
            "entities": self.entities.to_dict(),
            "documents": self.documents,
            "pairs_classified": self.pairs_classified,
        }

    def format_table(self) -> str:
        """Return the strict triple table, then one line per headline score."""
        return "\n".join([
            "strict triples (head span+type, tail span+type, relation):",
            self.strict.format_table(),
            f"strict triple F1 {100 * self.strict.f1:.2f}  boundaries F1 "
            f"{100 * self.boundaries.f1:.2f}  entity F1 {100 * self.entities.f1:.2f}  "
            f"({self.documents} documents, {self.pairs_classified} pairs classified, "
            "no-relation labels excluded)",
        ])  # fmt: skip


def _mention(span: Span | Entity) -> tuple[int, int, str]:
    return (span.start, span.end, span.label)


def gold_triples(example: Example) -> set[Triple]:
    """Return the (head, tail, relation) triples of a gold example, entities typed."""
    spans = example.spans
    return {(_mention(spans[r.head]), _mention(spans[r.tail]), r.label) for r in example.relations}


def predicted_triples(result: PipelineResult) -> set[Triple]:
    """Return the (head, tail, relation) triples of a pipeline result."""
    return {(_mention(r.head), _mention(r.tail), r.label) for r in result.relations}


def report(
    predictor: PipelinePredictor, examples: Sequence[Example], batch_size: int = 64
) -> PipelineReport:
    """Return the report of the pipeline on labelled examples (it predicts from the texts)."""
    gold_types = {s.label for e in examples for s in e.spans}
    warn_unknown_labels("gold", gold_types, set(predictor.labels), "in the evaluated data")
    before = predictor.pairs_classified
    results = predictor.predict([e.text for e in examples], batch_size=batch_size)
    no_relation = {*predictor.relations.config.model.no_relation, *predictor.schema.no_relation}
    gold = [gold_triples(e) for e in examples]
    found = [predicted_triples(r) for r in results]
    return PipelineReport(
        strict=score_triples(gold, found, no_relation),
        boundaries=score_triples([untyped(g) for g in gold], [untyped(p) for p in found],
                                 no_relation),
        entities=score_spans([e.spans for e in examples],
                             [[Span(*_mention(x)) for x in r.entities] for r in results]),
        documents=len(examples),
        pairs_classified=predictor.pairs_classified - before,
    )  # fmt: skip
