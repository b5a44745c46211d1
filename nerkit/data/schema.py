"""What may be extracted: entity types, relation types and attribute names (torch-free).

A `Schema` lists the entity types; for each relation the (subject type, object type) pairs it
may link and whether it is directed; for each attribute the entity types that may carry it and
the type of its value (``"text"``, ``"number"`` or ``"date"``). It is inferred from training data
(`infer_schema`) when not given, saved as JSON (`Schema.to_dict` / `Schema.from_dict`), used to
check data (`validate`) and to prune candidate pairs when decoding (`Schema.relations_between`).

Conventions: an empty ``pairs`` (or ``entity_types`` of an attribute) means "any type"; a
relation that is not directed allows its pairs in both orders. ``no_relation`` names the labels
that mean "no relation" in a dataset (SemEval ``Other``, FinRE ``unknown``, DeepKE ``None``):
they are valid labels, but scorers exclude them and decoders need not propose them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nerkit.errors import ConfigError, DataFormatError, NerkitError
from nerkit.types import Example

__all__ = [
    "NO_RELATION_LABELS",
    "VALUE_TYPES",
    "AttributeType",
    "RelationType",
    "Schema",
    "SchemaError",
    "infer_schema",
    "validate",
]

ValueType = Literal["text", "number", "date"]
VALUE_TYPES: tuple[str, ...] = ("text", "number", "date")
# Labels that datasets use for "the pair holds no relation"; infer_schema recognises them.
NO_RELATION_LABELS = frozenset({"Other", "unknown", "None", "NA", "no_relation"})
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)*\s*[^\d\s]{0,3}$")  # 178, 1.78m, 178厘米
_DATE = re.compile(r"^\d{4}(?:(?:年|-|/|\.)(?:\d{1,2}(?:月|-|/|\.)?(?:\d{1,2}日?)?)?)?$")
_TYPED_SHARE = 0.9  # data is noisy (1米70, 74英寸（188厘米）): most values, not all, decide


class SchemaError(NerkitError):
    """An example uses a type, relation or attribute the schema does not allow."""


@dataclass(frozen=True)
class RelationType:
    """A relation label, the (subject type, object type) pairs it may link, and its direction."""

    name: str
    pairs: frozenset[tuple[str, str]] = frozenset()
    directed: bool = True

    def allows(self, head_label: str, tail_label: str) -> bool:
        """Return True when this relation may go from a `head_label` to a `tail_label` entity."""
        if not self.pairs:
            return True
        return (head_label, tail_label) in self.pairs or (
            not self.directed and (tail_label, head_label) in self.pairs
        )


@dataclass(frozen=True)
class AttributeType:
    """An attribute name, the entity types that may carry it, and its value type."""

    name: str
    entity_types: frozenset[str] = frozenset()
    value_type: ValueType = "text"

    def __post_init__(self) -> None:
        if self.value_type not in VALUE_TYPES:
            raise ConfigError(
                f"attribute {self.name!r} has value type {self.value_type!r}; "
                f"expected one of {', '.join(VALUE_TYPES)}"
            )


@dataclass(frozen=True)
class Schema:
    """Entity types, relation types and attribute types of a dataset or a model."""

    entity_types: tuple[str, ...] = ()
    relations: tuple[RelationType, ...] = ()
    attributes: tuple[AttributeType, ...] = ()
    no_relation: tuple[str, ...] = ()
    _relations: dict[str, RelationType] = field(init=False, repr=False, compare=False)
    _attributes: dict[str, AttributeType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for kind, items in (("relation", self.relations), ("attribute", self.attributes)):
            names = [item.name for item in items]
            if len(set(names)) != len(names):
                repeated = sorted({n for n in names if names.count(n) > 1})
                raise ConfigError(
                    f"expected each {kind} once in a schema, found {repeated!r} twice"
                )
        object.__setattr__(self, "_relations", {r.name: r for r in self.relations})
        object.__setattr__(self, "_attributes", {a.name: a for a in self.attributes})

    @property
    def relation_labels(self) -> tuple[str, ...]:
        """Return the relation labels, no-relation labels included, in schema order."""
        return tuple(self._relations)

    def allows(self, head_label: str, relation: str, tail_label: str) -> bool:
        """Return True when `relation` may link a `head_label` entity to a `tail_label` one.

        A no-relation label is allowed between any two entity types.
        """
        if relation in self.no_relation:
            return True
        rel = self._relations.get(relation)
        return rel is not None and rel.allows(head_label, tail_label)

    def relations_between(self, head_label: str, tail_label: str) -> tuple[str, ...]:
        """Return the real (not no-relation) labels allowed from `head_label` to `tail_label`.

        A decoder scores only pairs for which this is non-empty, so its cost grows with the
        pairs the schema allows rather than with all n**2 pairs.
        """
        return tuple(
            r.name
            for r in self.relations
            if r.name not in self.no_relation and r.allows(head_label, tail_label)
        )

    def allows_attribute(self, entity_label: str, name: str) -> bool:
        """Return True when an entity of type `entity_label` may carry attribute `name`."""
        attribute = self._attributes.get(name)
        if attribute is None:
            return False
        return not attribute.entity_types or entity_label in attribute.entity_types

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (lists sorted, so equal schemas give equal JSON)."""
        return {
            "entity_types": list(self.entity_types),
            "relations": [
                {"name": r.name, "pairs": sorted(list(p) for p in r.pairs),
                 "directed": r.directed}
                for r in self.relations
            ],
            "attributes": [
                {"name": a.name, "entity_types": sorted(a.entity_types),
                 "value_type": a.value_type}
                for a in self.attributes
            ],
            "no_relation": list(self.no_relation),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Any) -> Schema:
        """Return the Schema of a `to_dict` dict; unknown or malformed keys are a ConfigError."""
        top = _keys(data, "schema", {"entity_types", "relations", "attributes", "no_relation"})
        relations = []
        for item in _list(top, "relations"):
            rel = _keys(item, "schema relation", {"name", "pairs", "directed"}, {"name"})
            pairs = rel.get("pairs", [])
            if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(t, str) for t in p)
                for p in pairs
            ):
                raise ConfigError(
                    f"relation {rel['name']!r}: expected pairs as [[subject, object], ...], "
                    f"found {pairs!r}"
                )
            directed = rel.get("directed", True)
            if not isinstance(directed, bool):
                raise ConfigError(f"relation {rel['name']!r}: directed must be true or false")
            relations.append(RelationType(rel["name"], frozenset(map(tuple, pairs)), directed))
        attributes = []
        for item in _list(top, "attributes"):
            att = _keys(item, "schema attribute", {"name", "entity_types", "value_type"}, {"name"})
            types = att.get("entity_types", [])
            attributes.append(
                AttributeType(att["name"], frozenset(types), att.get("value_type", "text"))
            )
        return cls(
            tuple(_list(top, "entity_types")),
            tuple(relations),
            tuple(attributes),
            tuple(_list(top, "no_relation")),
        )


def _keys(
    data: Any, what: str, allowed: set[str], required: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(f"expected the {what} as a JSON object, found {data!r}")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(
            f"unknown {what} key(s) {unknown!r}; expected some of {', '.join(sorted(allowed))}"
        )
    missing = sorted(set(required) - set(data))
    if missing:
        raise ConfigError(f"the {what} {data!r} lacks the key(s) {missing!r}")
    return data


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"expected schema {key!r} as a list, found {value!r}")
    return value


def _value_type(values: list[str]) -> ValueType:
    """Return "date" or "number" when at least 90% of the values look like one, else "text"."""
    for name, pattern in (("date", _DATE), ("number", _NUMBER)):
        if values and sum(bool(pattern.match(v)) for v in values) >= _TYPED_SHARE * len(values):
            return name  # type: ignore[return-value]
    return "text"


def infer_schema(
    examples: Iterable[Example], *, no_relation: Iterable[str] | None = None
) -> Schema:
    """Return the Schema that the examples use, in order of first appearance.

    Relation pairs are the (head type, tail type) pairs seen; a relation is undirected when
    every instance has its reverse with the same label in the same example. `no_relation`
    defaults to the labels of `NO_RELATION_LABELS` that occur.
    """
    entity_types: dict[str, None] = {}
    pairs: dict[str, set[tuple[str, str]]] = {}
    symmetric: dict[str, bool] = {}
    carriers: dict[str, set[str]] = defaultdict(set)
    values: dict[str, list[str]] = {}
    for example in examples:
        entity_types.update(dict.fromkeys(s.label for s in example.spans))
        links = dict.fromkeys((r.head, r.tail, r.label) for r in example.relations)
        for head, tail, label in links:
            labels = (example.spans[head].label, example.spans[tail].label)
            pairs.setdefault(label, set()).add(labels)
            symmetric[label] = symmetric.get(label, True) and (tail, head, label) in links
        for attribute in example.attributes:
            carriers[attribute.name].add(example.spans[attribute.entity].label)
            values.setdefault(attribute.name, []).append(example.attribute_value(attribute))
    names = list(pairs)
    negative = [n for n in names if n in NO_RELATION_LABELS] if no_relation is None else no_relation
    relations = tuple(
        RelationType(n, frozenset(pairs[n]), directed=not symmetric[n]) for n in names
    )
    attributes = tuple(
        AttributeType(n, frozenset(carriers[n]), _value_type(values[n])) for n in values
    )
    return Schema(tuple(entity_types), relations, attributes, tuple(negative))


def _problems(example: Example, schema: Schema) -> Iterable[tuple[int | None, str]]:
    """Yield (index of the relation/attribute or None, problem) for every schema violation."""
    known = ", ".join(schema.entity_types)
    for span in example.spans:
        if schema.entity_types and span.label not in schema.entity_types:
            yield None, f"entity type {span.label!r} is not in the schema ({known})"
    for k, rel in enumerate(example.relations):
        head, tail = example.spans[rel.head].label, example.spans[rel.tail].label
        if rel.label not in schema.relation_labels and rel.label not in schema.no_relation:
            yield k, f"relation {rel.label!r} is not in the schema"
        elif not schema.allows(head, rel.label, tail):
            yield k, f"relation {rel.label!r} may not link a {head!r} to a {tail!r} entity"
    offset = len(example.relations)
    for k, attribute in enumerate(example.attributes):
        label = example.spans[attribute.entity].label
        if not schema.allows_attribute(label, attribute.name):
            yield offset + k, f"attribute {attribute.name!r} is not allowed on a {label!r} entity"


def validate(examples: Iterable[Example], schema: Schema, *, path: Path | str | None = None) -> int:
    """Check every example against the schema; return how many were checked.

    Raises `DataFormatError` naming ``file:line`` when `path` is given and the readers left a
    line in ``meta`` (``meta["lines"]`` per relation/attribute, else ``meta["line"]``), and
    `SchemaError` naming the example's position otherwise.
    """
    count = 0
    for count, example in enumerate(examples, start=1):
        for k, problem in _problems(example, schema):
            hint = "fix the data, or extend the schema (infer_schema on the training data)"
            lines = example.meta.get("lines", ())
            line = lines[k] if k is not None and k < len(lines) else example.meta.get("line")
            if path is not None and isinstance(line, int):
                raise DataFormatError(path, line, problem, hint)
            raise SchemaError(f"example {count} (id {example.id!r}): {problem} ({hint})")
    return count
