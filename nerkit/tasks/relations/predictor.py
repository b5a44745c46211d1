"""`RelationPredictor`: a loaded relation model -> scored relations between given entities.

Input: a list of `nerkit.types.Example`s whose `spans` are the entities (character offsets,
end exclusive; their labels are the entity types, e.g. from an NER model, or "ENTITY"), or
of `(text, spans)` pairs whose spans are `Span`s or `(start, end, label)` tuples. A plain
string is refused, since the entities must be given (for plain texts, build an NER +
relation pipeline: `nerkit pipeline build`, docs/relations.md).
`pairs="all"` (default) ignores the relations already in an example and classifies every
ordered pair of distinct spans whose types the model's schema links
(`Schema.relations_between`; models trained with `pair_order: text` classify each unordered
pair once, the label carrying the direction). `pairs="given"` classifies only the (head, tail)
pairs an example's relations name (their labels are ignored).

Output, per input: `ScoredRelation(head, tail, label, score)`, head and tail as `Entity`s
(character offsets, text, the entity's score 1.0 because it was given), for every pair
whose predicted label is not a no-relation label: the top label of a single-label model
(score = its calibrated probability), every label at or above the threshold of a
multi-label model.

Attribute models (`model.targets: attributes`): `predict_attributes(inputs, values)` takes
the entities as above and, per input, the candidate value ranges (e.g. from a value tagger),
classifies every (entity, value) pair, and returns `ScoredAttribute(entity, name, value,
score)`; `pairs="given"` classifies the (entity, value) of each `Attribute` of an input
`Example` instead (the DeepKE AE setting).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerkit.defaults import BATCH_SIZE, PRECISION
from nerkit.errors import NerkitError
from nerkit.runtime import paused_gc
from nerkit.tasks.base import LoadedModel, LoadedPredictor, saved_schema
from nerkit.tasks.calibrated import probabilities_of
from nerkit.tasks.relations.attributes import VALUE_LABEL, ScoredAttribute, carries, with_values
from nerkit.tasks.relations.data import (
    PairInstance,
    candidate_pairs,
    marked_tokens,
    split_directed,
)
from nerkit.tasks.relations.model import encode_pairs, pair_logits
from nerkit.types import Entity, Example, Span

__all__ = [
    "RelationPredictor",
    "ScoredAttribute",
    "ScoredRelation",
    "as_examples",
    "check_pair_arguments",
    "given_entity",
]


@dataclass(frozen=True)
class ScoredRelation:
    """A predicted relation from entity `head` to entity `tail` with its probability."""

    head: Entity
    tail: Entity
    label: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with keys head, tail (entity dicts), label, score."""
        return {"head": self.head.to_dict(), "tail": self.tail.to_dict(), "label": self.label,
                "score": self.score}  # fmt: skip


def _span(item: Any, index: int, where: int) -> Span:
    if isinstance(item, Span):
        return item
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        try:
            return Span(int(item[0]), int(item[1]), str(item[2]) if len(item) == 3 else "ENTITY")
        except (TypeError, ValueError) as error:
            raise NerkitError(f"inputs[{where}]: span {index} {item!r}: {error}") from None
    raise NerkitError(
        f"inputs[{where}]: span {index} is {item!r}; expected a Span or (start, end, label)"
    )


def as_examples(inputs: Any) -> list[Example]:
    """Return the inputs of `predict` as Examples with sorted spans (see the module doc)."""
    if isinstance(inputs, str):
        raise NerkitError("predict() takes a list of Examples with spans, not a string")
    examples = []
    for where, item in enumerate(inputs):
        if isinstance(item, Example):
            example = item
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
            spans = tuple(_span(s, k, where) for k, s in enumerate(item[1]))
            example = Example(item[0], spans)
        else:
            raise NerkitError(
                f"inputs[{where}] is {type(item).__name__}: a relation model classifies given "
                "entity pairs, so each input is an Example with spans or a (text, spans) pair "
                "(for plain texts, build an NER + relation pipeline: nerkit pipeline build)"
            )
        _check_inside(example.text, [(s.start, s.end) for s in example.spans], where, "span")
        _check_inside(example.text, [(a.start, a.end) for a in example.attributes], where,
                      "attribute value")  # fmt: skip
        examples.append(example)
    return examples


def _check_inside(text: str, ranges: Sequence[tuple[int, int]], where: int, what: str) -> None:
    bad = next(((a, b) for a, b in ranges if b > len(text)), None)
    if bad is not None:
        raise NerkitError(
            f"inputs[{where}]: {what} {bad[0]}:{bad[1]} ends after the text's "
            f"{len(text)} characters"
        )


def _value_ranges(values: Any, count: int) -> list[list[tuple[int, int]]]:
    """Return the value ranges of `predict_attributes`' `values` (one list per input)."""
    if values is None:
        return [[] for _ in range(count)]
    values = list(values)
    if len(values) != count:
        raise NerkitError(f"got {count} inputs but {len(values)} lists of values")
    return [[(s.start, s.end) for s in (_span(v, k, where) for k, v in enumerate(items))]
            for where, items in enumerate(values)]  # fmt: skip


class RelationPredictor(LoadedPredictor):
    """A loaded relation classifier that scores the relations between given entities."""

    task = "relations"

    def __init__(self, loaded: LoadedModel, path: Path, precision: str = PRECISION) -> None:
        super().__init__(loaded, path, precision)
        self.schema = saved_schema(self.metadata)

    @property
    def labels(self) -> list[str]:
        """Return the real relation labels the model predicts, sorted."""
        no_relation = set(self.config.model.no_relation)
        names = {split_directed(label)[0] for label in self.model.labels}
        return sorted(names - no_relation)

    @property
    def pair_order(self) -> str:
        """Return how pairs are classified: "annotated" (as given) or "text" (e1 first)."""
        return str(self.config.model.pair_order)

    @property
    def no_relation(self) -> tuple[str, ...]:
        """Return the labels that mean "no relation"."""
        return tuple(self.config.model.no_relation)

    @property
    def says_no_relation(self) -> bool:
        """Return True when the model can leave a pair without a relation: it has a
        no-relation class or independent sigmoids. One trained without no-relation pairs
        (the DeepKE setting) gives every pair it is shown a relation."""
        model = self.config.model
        return model.multi_label or bool(set(self.model.labels) & set(model.no_relation))

    def info(self) -> dict[str, Any]:
        """Return a JSON-ready description: name, task, labels, encoder, markers, scores."""
        model = self.config.model
        return {
            "name": self.name, "task": self.task, "labels": self.labels,
            "multi_label": model.multi_label, "pair_order": model.pair_order,
            "markers": model.markers, "pooling": model.pooling,
            "tokenization": model.tokenization, "encoder": model.encoder.kind,
            "precision": self.precision, "temperature": self.temperature,
            "threshold": float(self.model.threshold) if model.multi_label else None,
            "schema": self.schema.to_dict(), "targets": model.targets,
            "dev": self.metadata.get("dev"), "test": self.metadata.get("test"),
        }  # fmt: skip

    def _relations(
        self, example: Example, instance: PairInstance, probabilities: Sequence[float]
    ) -> list[ScoredRelation]:
        model = self.config.model
        ranked = sorted(enumerate(probabilities), key=lambda item: -item[1])
        threshold = float(self.model.threshold)
        chosen = [c for c in ranked if c[1] >= threshold] if model.multi_label else ranked[:1]
        out = []
        for c, p in chosen:
            name, forward = split_directed(self.model.labels[c])
            if name in model.no_relation:
                continue
            head, tail = (
                (instance.head, instance.tail) if forward else (instance.tail, instance.head)
            )
            entities = given_entity(example, head), given_entity(example, tail)
            out.append(ScoredRelation(*entities, name, round(p, 6)))
        return out

    def _pairs(self, example: Example, pairs: str) -> list[tuple[int, int]]:
        if pairs == "all":
            return candidate_pairs(example, self.schema, self.config.model.pair_order)
        given = dict.fromkeys((r.head, r.tail) for r in example.relations)
        if self.config.model.pair_order == "text":  # e1 first: the label carries the direction
            starts = [(s.start, s.end) for s in example.spans]
            given = dict.fromkeys((h, t) if starts[h] <= starts[t] else (t, h) for h, t in given)
        return list(given)

    @paused_gc()
    def predict(
        self, inputs: Any, batch_size: int = BATCH_SIZE, pairs: str = "all"
    ) -> list[list[ScoredRelation]]:
        """Return the relations among the given entities of each input (see the module doc).

        `pairs="all"` classifies every pair the schema allows; `pairs="given"` only the
        (head, tail) pairs an input `Example`'s relations name (their labels are ignored): the
        DeepKE setting, where the caller names head and tail.
        """
        check_pair_arguments(batch_size, pairs)
        examples = as_examples(inputs)
        instances = [
            PairInstance(k, head, tail, ())
            for k, example in enumerate(examples)
            for head, tail in self._pairs(example, pairs)
        ]
        results: list[list[ScoredRelation]] = [[] for _ in examples]
        for instance, row in self._probabilities(examples, instances, batch_size):
            example = examples[instance.example]
            results[instance.example].extend(self._relations(example, instance, row))
        return results

    def _probabilities(
        self, examples: Sequence[Example], instances: Sequence[PairInstance], batch_size: int
    ) -> list[tuple[PairInstance, list[float]]]:
        """Return each pair instance with its calibrated class probabilities."""
        if not instances:
            return []
        model = self.config.model
        marked = [marked_tokens(examples[i.example], i.head, i.tail, model) for i in instances]
        rows = encode_pairs(marked, self.vocabs, model)
        logits = pair_logits(self.model, rows, batch_size)
        probabilities = probabilities_of(logits, self.temperature, model.multi_label)
        return list(zip(instances, probabilities.tolist(), strict=True))

    @paused_gc()
    def predict_attributes(
        self, inputs: Any, values: Any = None, batch_size: int = BATCH_SIZE, pairs: str = "all"
    ) -> list[list[ScoredAttribute]]:
        """Return the attributes of the given entities of each input (see the module doc).

        `values`: per input, the candidate value ranges (`Span`s or (start, end[, label])
        tuples; labels are ignored); `pairs="all"` classifies every (entity, value) pair of an
        entity type the model's schema lets carry an attribute. `pairs="given"` classifies the
        (entity, value) of each `Attribute` of an input `Example` (names ignored).
        """
        if self.config.model.targets != "attributes":
            raise NerkitError(
                f"{self.path} is a relation model (model.targets: relations); "
                "predict_attributes needs one trained with model.targets: attributes"
            )
        check_pair_arguments(batch_size, pairs)
        examples = as_examples(inputs)
        ranges = _value_ranges(values, len(examples))
        marked, instances = [], []
        for k, example in enumerate(examples):
            _check_inside(example.text, ranges[k], k, "value")
            if pairs == "given":
                named = [(a.entity, (a.start, a.end)) for a in example.attributes]
            else:
                entities = [i for i, s in enumerate(example.spans) if carries(self.schema, s.label)]
                named = [(e, value) for e in entities for value in ranges[k]]
            with_value, positions = with_values(example, [value for _, value in named])
            marked.append(with_value)
            instances += [
                PairInstance(k, e, v, ()) for (e, _), v in zip(named, positions, strict=True)
            ]
        results: list[list[ScoredAttribute]] = [[] for _ in examples]
        for instance, row in self._probabilities(marked, instances, batch_size):
            example = marked[instance.example]
            for found in self._relations(example, instance, row):
                value = found.tail
                results[instance.example].append(ScoredAttribute(
                    found.head, found.label,
                    Entity(value.start, value.end, VALUE_LABEL, value.text, 1.0), found.score,
                ))  # fmt: skip
        return results


def check_pair_arguments(batch_size: Any, pairs: Any) -> None:
    """Raise ValueError unless batch_size is an integer >= 1 and pairs "all" or "given"."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if pairs not in ("all", "given"):
        raise ValueError(f"pairs must be 'all' or 'given', got {pairs!r}")


def given_entity(example: Example, index: int) -> Entity:
    """Return span `index` of an example as an `Entity` (score 1.0: it was given)."""
    span = example.spans[index]
    return Entity(span.start, span.end, span.label, example.mention(span), 1.0)
