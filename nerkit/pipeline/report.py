"""The report of a pipeline on data with gold entities and relations (`nerkit evaluate`).

The scores (`nerkit.evaluation.triples`, `nerkit.evaluation.metrics`), each micro P/R/F1 and
per label:

- `strict`: (head span + type, tail span + type, relation) triples, all exact: the score;
- `boundaries`: the same triples with entity types ignored;
- `attributes`: (entity span + type, value span, attribute name) triples, all exact, for a
  pipeline with attribute members (the value's label is always VALUE); the score of a
  pipeline without a relation member;
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
from nerkit.tasks.relations.attributes import VALUE_LABEL
from nerkit.types import Entity, Example, Span

__all__ = [
    "PipelineReport",
    "gold_attribute_triples",
    "gold_triples",
    "predicted_attribute_triples",
    "predicted_triples",
    "report",
]


@dataclass(frozen=True)
class PipelineReport:
    """Triple scores of relations and attributes (None without that member) and entity scores."""

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


def _mention(span: Span | Entity) -> tuple[int, int, str]:
    return (span.start, span.end, span.label)


def gold_triples(example: Example) -> set[Triple]:
    """Return the (head, tail, relation) triples of a gold example, entities typed."""
    spans = example.spans
    return {(_mention(spans[r.head]), _mention(spans[r.tail]), r.label) for r in example.relations}


def predicted_triples(result: PipelineResult) -> set[Triple]:
    """Return the (head, tail, relation) triples of a pipeline result."""
    return {(_mention(r.head), _mention(r.tail), r.label) for r in result.relations}


def gold_attribute_triples(example: Example) -> set[Triple]:
    """Return the (entity, value, name) triples of a gold example; values labelled VALUE."""
    return {
        (_mention(example.spans[a.entity]), (a.start, a.end, VALUE_LABEL), a.name)
        for a in example.attributes
    }


def predicted_attribute_triples(result: PipelineResult) -> set[Triple]:
    """Return the (entity, value, name) triples of a pipeline result."""
    return {
        (_mention(a.entity), (a.value.start, a.value.end, VALUE_LABEL), a.name)
        for a in result.attributes
    }


def report(
    predictor: PipelinePredictor, examples: Sequence[Example], batch_size: int = 64
) -> PipelineReport:
    """Return the report of the pipeline on labelled examples (it predicts from the texts)."""
    gold_types = {s.label for e in examples for s in e.spans}
    warn_unknown_labels("gold", gold_types, set(predictor.labels), "in the evaluated data")
    before = predictor.pairs_classified
    results = predictor.predict([e.text for e in examples], batch_size=batch_size)
    strict = boundaries = attributes = None
    if predictor.relations is not None and predictor.schema is not None:
        no_relation = {*predictor.relations.config.model.no_relation,
                       *predictor.schema.no_relation}  # fmt: skip
        gold = [gold_triples(e) for e in examples]
        found = [predicted_triples(r) for r in results]
        strict = score_triples(gold, found, no_relation)
        boundaries = score_triples([untyped(g) for g in gold], [untyped(p) for p in found],
                                   no_relation)  # fmt: skip
    if predictor.attributes is not None:
        attributes = score_triples(
            [gold_attribute_triples(e) for e in examples],
            [predicted_attribute_triples(r) for r in results],
            predictor.attributes.config.model.no_relation,
        )
    return PipelineReport(
        strict=strict, boundaries=boundaries, attributes=attributes,
        entities=score_spans([e.spans for e in examples],
                             [[Span(*_mention(x)) for x in r.entities] for r in results]),
        documents=len(examples),
        pairs_classified=predictor.pairs_classified - before,
    )  # fmt: skip
