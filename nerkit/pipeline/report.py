"""The report of a pipeline on data with gold entities and relations (`nerkit evaluate`).

The pipeline predicts from the texts alone and is scored as any end-to-end system
(`nerkit.evaluation.end_to_end.EndToEndReport`): strict and boundaries relation triples,
attribute triples (with attribute members; the value's label is always VALUE) and the NER
member's entities. No-relation labels (the relation model's and the schema's) are excluded.
The gold entity types must be the NER model's types: a file read without them (DeepKE RE
CSV gives `ENTITY` unless read with `types=`) scores 0 strict, and a warning names the
labels.
"""

from __future__ import annotations

from collections.abc import Sequence

from nerkit.evaluation.end_to_end import EndToEndReport, gold_triples
from nerkit.evaluation.metrics import score_spans
from nerkit.evaluation.triples import Triple, score_triples, untyped
from nerkit.pipeline.predictor import PipelinePredictor, PipelineResult
from nerkit.tasks.base import warn_unknown_labels
from nerkit.tasks.relations.attributes import VALUE_LABEL
from nerkit.types import Entity, Example, Span

__all__ = [
    "gold_attribute_triples",
    "gold_triples",
    "predicted_attribute_triples",
    "predicted_triples",
    "report",
]


def _mention(span: Span | Entity) -> tuple[int, int, str]:
    return (span.start, span.end, span.label)


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
) -> EndToEndReport:
    """Return the report of the pipeline on labelled examples (it predicts from the texts)."""
    gold_types = {s.label for e in examples for s in e.spans}
    warn_unknown_labels("gold", gold_types, set(predictor.labels), "in the evaluated data")
    before = predictor.pairs_classified
    results = predictor.predict([e.text for e in examples], batch_size=batch_size)
    strict = boundaries = attributes = None
    if predictor.relations is not None and predictor.schema is not None:
        no_relation = {*predictor.relations.no_relation, *predictor.schema.no_relation}
        gold = [gold_triples(e) for e in examples]
        found = [predicted_triples(r) for r in results]
        strict = score_triples(gold, found, no_relation)
        boundaries = score_triples([untyped(g) for g in gold], [untyped(p) for p in found],
                                   no_relation)  # fmt: skip
    if predictor.attributes is not None:
        attributes = score_triples(
            [gold_attribute_triples(e) for e in examples],
            [predicted_attribute_triples(r) for r in results],
            predictor.attributes.no_relation,
        )
    return EndToEndReport(
        strict=strict, boundaries=boundaries, attributes=attributes,
        entities=score_spans([e.spans for e in examples],
                             [[Span(*_mention(x)) for x in r.entities] for r in results]),
        documents=len(examples),
        pairs_classified=predictor.pairs_classified - before,
    )  # fmt: skip
