"""Attribute extraction on the relation classifier: (entity -> value) pairs named by attribute.

`model.targets: attributes` reads examples whose `attributes` say "entity E has attribute N
with value text[start:end]" (DeepKE AE, nerkit JSON lines) and turns each into a relation
instance: the value range becomes a span labelled `VALUE_LABEL` (after the entity spans, so
the entity indices stay valid), and `Relation(entity, value span, N)` links them. The
relation classifier then marks the entity as e1 and the value as e2 and names the attribute;
with `negative_pairs` every other (entity, value) pair of the example is a no-relation pair.
The example's own relations are dropped: an attribute model learns attributes only.

The end-to-end setting (no value given) is a value tagger + this model: a tagging model
trained on `value_examples` (the values as spans) proposes the value spans, the entities come
from an NER model, and `RelationPredictor.predict_attributes` classifies every (entity, value)
pair; such a model must be trained with `negative_pairs: true`, so that it has seen pairs
holding no attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from nerkit.data.schema import Schema, infer_schema
from nerkit.tasks.base import located_error
from nerkit.types import Entity, Example, Relation, Span

__all__ = [
    "VALUE_LABEL",
    "ScoredAttribute",
    "attribute_pairs",
    "attribute_schema",
    "check_attribute_names",
    "value_examples",
    "with_values",
]

VALUE_LABEL = "VALUE"  # the span label of attribute values in the pairs the model reads
UNTYPED = "ENTITY"  # the DeepKE AE reader's entity label: "any entity type"


@dataclass(frozen=True)
class ScoredAttribute:
    """A predicted attribute `name` of entity `entity` whose value is the text range `value`."""

    entity: Entity
    name: str
    value: Entity  # the value's range and text (label VALUE_LABEL; score 1.0 when given)
    score: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with keys entity, name, value (entity dicts), score."""
        return {"entity": self.entity.to_dict(), "name": self.name,
                "value": self.value.to_dict(), "score": self.score}  # fmt: skip


def with_values(example: Example, values: Sequence[tuple[int, int]]) -> tuple[Example, list[int]]:
    """Return the example with value spans appended after its spans, and their indices.

    A value range equal to an earlier value range shares its span.
    """
    spans = list(example.spans)
    index: dict[tuple[int, int], int] = {}
    positions = []
    for start, end in values:
        if (start, end) not in index:
            index[(start, end)] = len(spans)
            spans.append(Span(start, end, VALUE_LABEL))
        positions.append(index[(start, end)])
    return replace(example, spans=tuple(spans), relations=(), attributes=()), positions


def attribute_pairs(example: Example) -> Example:
    """Return the example whose relations are its attributes, the values as e2 spans.

    `meta["lines"]` keeps one line per attribute, so it still names the row of each relation.
    """
    marked, positions = with_values(example, [(a.start, a.end) for a in example.attributes])
    relations = tuple(
        Relation(a.entity, value, a.name)
        for a, value in zip(example.attributes, positions, strict=True)
    )
    return replace(marked, relations=relations)


def value_examples(examples: Sequence[Example], label: str = VALUE_LABEL) -> list[Example]:
    """Return the examples with the attribute values as their only spans (to train a tagger).

    Overlapping values keep the first (a tagger cannot hold overlapping spans).
    """
    out = []
    for example in examples:
        spans: list[Span] = []
        for a in sorted(example.attributes, key=lambda a: (a.start, a.end)):
            if not spans or a.start >= spans[-1].end:
                spans.append(Span(a.start, a.end, label))
        out.append(Example(example.text, tuple(spans), example.tokens, (), example.id,
                           dict(example.meta)))  # fmt: skip
    return out


def attribute_schema(examples: Sequence[Example], no_relation: Sequence[str]) -> Schema:
    """Return the schema of attribute examples: their attributes and the (entity, VALUE) pairs."""
    declared = infer_schema(examples, no_relation=[])
    pairs = infer_schema([attribute_pairs(e) for e in examples], no_relation=no_relation)
    types = tuple(dict.fromkeys([*declared.entity_types, VALUE_LABEL]))
    return Schema(types, pairs.relations, declared.attributes, pairs.no_relation)


def check_attribute_names(examples: Sequence[Example], schema: Schema, what: str) -> None:
    """Raise a one-line error at the first attribute whose name the schema does not hold.

    The error names `file:line` when the examples came from a file (`meta["path"]`, set by
    the relation task's reader, and the reader's `meta["lines"]`).
    """
    known = {a.name for a in schema.attributes}
    for number, example in enumerate(examples, start=1):
        for k, attribute in enumerate(example.attributes):
            if attribute.name in known:
                continue
            problem = (
                f"attribute {attribute.name!r} is not in the model's schema "
                f"({', '.join(sorted(known))})"
            )
            k += len(example.relations)  # the readers number relations, then attributes
            hint = f"the {what} must use those names"
            raise located_error(example, number, k, problem, hint, what)


def carries(schema: Schema, label: str) -> bool:
    """Return True when an entity labelled `label` may carry an attribute of the schema.

    A model trained on untyped entities (the DeepKE AE reader's "ENTITY") takes any label.
    """
    types = {t for a in schema.attributes for t in a.entity_types}
    return not types or types == {UNTYPED} or label in types
