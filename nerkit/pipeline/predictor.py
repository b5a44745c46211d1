"""`PipelinePredictor`: texts -> entities (NER member) -> relations between them, attributes.

`predict(texts)` gives, per text, a `PipelineResult(entities, relations, attributes)`:
`entities` exactly as the tagging member predicts them, `relations` as `ScoredRelation(head,
tail, label, score)` whose head and tail are those entities (typed, with their NER scores),
`attributes` as `ScoredAttribute(entity, name, value, score)` whose entity is one of those
entities and whose value is a span of the `values` tagger (label VALUE, the tagger's score;
the tagger reads only the texts with an entity that can carry an attribute).
A pipeline without a relation member gives no relations, one without attribute members no
attributes (`nerkit.pipeline.directory.MEMBERS`).

**Attributes.** The value tagger's spans are the candidate values of a text; the attribute
model (`model.targets: attributes`) classifies every (entity, value) pair of an entity whose
type its schema lets carry an attribute (`RelationPredictor.predict_attributes`, one batched
call over all texts) and drops the pairs it gives no attribute. A value range equal to an
entity's range is not a candidate value of that text.

**Types.** Two label sets meet here: the NER model's entity types (人物, 地点, ...) and the
entity labels the relation model was trained on (its saved schema's `entity_types`). The rule:

1. Input labels. When the relation model knows one entity label that is not an NER type (a
   DeepKE model: `ENTITY`, untyped so that gold types cannot leak the label), every entity
   is relabelled to it before the relation model reads it; otherwise the NER types are
   passed as they are (a relation model trained on typed entities, e.g. typed markers).
2. Pruning schema. The build-time schema (`nerkit pipeline build --schema`, written in NER
   types), else the relation model's saved schema. A schema written in NER types (every type
   it names is an NER label) is "typed": candidate pairs are the ordered pairs of entities
   whose NER types it links (`Schema.relations_between`), and a predicted relation whose
   label it does not allow for the (head type, tail type) of the result is dropped. An
   untyped schema prunes with the input labels of rule 1 (all pairs, for `ENTITY`).

So the cost grows with the pairs the schema allows, not with all n**2 pairs: every text's
entities are found in one batched NER call, and all candidate pairs of all texts are
classified in one batched relation call (`RelationPredictor.predict(..., pairs="given")`).
`pairs_classified` counts the pairs sent to the relation model since loading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nerkit.artifacts import load_model
from nerkit.data.schema import Schema
from nerkit.defaults import BATCH_SIZE, PRECISION
from nerkit.pipeline.directory import Manifest, read_manifest
from nerkit.runtime import paused_gc
from nerkit.tasks import get_task
from nerkit.tasks.base import check_texts
from nerkit.tasks.relations.attributes import VALUE_LABEL, carries
from nerkit.tasks.relations.data import candidate_pairs
from nerkit.tasks.relations.predictor import ScoredAttribute, ScoredRelation
from nerkit.types import Entity, Example, Relation, Span

__all__ = [
    "PipelinePredictor",
    "PipelineResult",
    "input_label",
    "joint_pipeline",
    "load_pipeline",
]


@dataclass(frozen=True)
class PipelineResult:
    """What the pipeline finds in one text: entities, relations among them, attributes."""

    entities: list[Entity]
    relations: list[ScoredRelation] = field(default_factory=list)
    attributes: list[ScoredAttribute] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with keys entities, relations, attributes."""
        return {
            "entities": [e.to_dict() for e in self.entities],
            "relations": [r.to_dict() for r in self.relations],
            "attributes": [a.to_dict() for a in self.attributes],
        }


def input_label(ner_labels: list[str], relation_types: tuple[str, ...]) -> str | None:
    """Return the one label every entity gets for the relation model, or None (keep types).

    Rule 1 of the module doc: a relation model whose only entity label is not an NER type.
    """
    if len(relation_types) == 1 and relation_types[0] not in ner_labels:
        return relation_types[0]
    return None


def is_typed(schema: Schema, ner_labels: list[str]) -> bool:
    """Return True when every entity type the schema's relations name is an NER label."""
    types = {t for r in schema.relations for pair in r.pairs for t in pair}
    return bool(types) and types <= set(ner_labels)


class PipelinePredictor:
    """An NER predictor, then relation and attribute predictors (see the module doc).

    `relations`, `values` and `attributes` are None for a pipeline without those members.
    """

    task = "pipeline"

    def __init__(
        self,
        manifest: Manifest,
        ner: Any,
        relations: Any = None,
        values: Any = None,
        attributes: Any = None,
    ) -> None:
        self.path, self.ner, self.relations = manifest.path, ner, relations
        self.values, self.attributes = values, attributes
        self.metadata: dict[str, Any] = {**manifest.info, "kind": "pipeline"}
        self.schema: Schema | None = None
        self.input_label: str | None = None
        self.typed = False
        if relations is not None:
            self.schema = manifest.schema or relations.schema
            self.input_label = input_label(ner.labels, relations.schema.entity_types)
            self.typed = is_typed(self.schema, ner.labels)
        self.pairs_classified = 0

    @property
    def name(self) -> str:
        """Return a short name for the pipeline: its directory name."""
        return self.path.resolve().name

    @property
    def labels(self) -> list[str]:
        """Return the entity labels the NER member predicts, sorted."""
        return list(self.ner.labels)

    @property
    def relation_labels(self) -> list[str]:
        """Return the relation labels the pipeline can return, sorted ([]: no relation member)."""
        if self.relations is None or self.schema is None:
            return []
        allowed = set(self.schema.relation_labels) - set(self.schema.no_relation)
        return sorted(set(self.relations.labels) & allowed)

    @property
    def attribute_names(self) -> list[str]:
        """Return the attribute names the pipeline can return, sorted ([]: no attribute member)."""
        if self.attributes is None:
            return []
        return sorted({a.name for a in self.attributes.schema.attributes})

    @property
    def temperature(self) -> float:
        """Return the NER member's calibration temperature (entity scores)."""
        return float(self.ner.temperature)

    def info(self) -> dict[str, Any]:
        """Return a JSON-ready description: the members, the schema, the type rule."""
        members = {"ner": self.ner, "relations": self.relations, "values": self.values,
                   "attributes": self.attributes}  # fmt: skip
        return {
            "name": self.name, "task": self.task, "labels": self.labels,
            "relations": self.relation_labels, "attributes": self.attribute_names,
            "schema": self.schema.to_dict() if self.schema is not None else None,
            "typed_schema": self.typed, "relation_input_label": self.input_label,
            "members": {name: m.info() for name, m in members.items() if m is not None},
        }  # fmt: skip

    @paused_gc()
    def predict(self, texts: list[str], batch_size: int = BATCH_SIZE) -> list[PipelineResult]:
        """Return the entities, relations and attributes of each text (see the module doc)."""
        from nerkit.pipeline.documents import predict_documents

        texts = check_texts(texts, batch_size)
        whole = [[(0, len(text))] for text in texts]  # each text one piece
        return predict_documents(self, texts, whole, batch_size=batch_size)

    def candidates(self, text: str, entities: list[Entity]) -> Example:
        """Return the relation model's input for one text: relabelled spans, candidate pairs.

        The pairs are the example's relations (label "?", ignored by `pairs="given"`).
        """
        typed = Example(text, tuple(Span(e.start, e.end, e.label) for e in entities))
        label = self.input_label
        spans = tuple(Span(s.start, s.end, label or s.label) for s in typed.spans)
        given = Example(text, spans)
        order = self.relations.pair_order
        pairs = candidate_pairs(typed if self.typed else given, self.schema, order)
        return Example(text, spans, relations=tuple(Relation(h, t, "?") for h, t in pairs))

    def relations_of(
        self,
        texts: list[str],
        entities: list[list[Entity]],
        batch_size: int = BATCH_SIZE,
        keep: Callable[[int, int, int], bool] | None = None,
    ) -> list[list[ScoredRelation]]:
        """Return the relations among given entities of every text: one batched call over all
        candidate pairs; `keep(text index, head, tail)`, when given, drops candidates first."""
        if self.relations is None:
            return [[] for _ in texts]
        inputs = [self.candidates(t, e) for t, e in zip(texts, entities, strict=True)]
        if keep is not None:
            inputs = [
                replace(x, relations=tuple(r for r in x.relations if keep(k, r.head, r.tail)))
                for k, x in enumerate(inputs)
            ]
        self.pairs_classified += sum(len(x.relations) for x in inputs)
        if not any(x.relations for x in inputs):
            return [[] for _ in texts]
        found = self.relations.predict(inputs, batch_size=batch_size, pairs="given")
        results = []
        for text_entities, relations in zip(entities, found, strict=True):
            by_range = {(e.start, e.end): e for e in text_entities}
            kept = []
            for r in relations:
                head = by_range[(r.head.start, r.head.end)]
                tail = by_range[(r.tail.start, r.tail.end)]
                if self.typed and not self.schema.allows(head.label, r.label, tail.label):
                    continue  # rule 2: a label the typed schema forbids for these types
                kept.append(ScoredRelation(head, tail, r.label, r.score))
            results.append(kept)
        return results

    def carries(self, entity: Entity) -> bool:
        """Return True when the attribute model's schema lets `entity`'s type carry one."""
        return self.attributes is not None and carries(self.attributes.schema, entity.label)

    def values_of(
        self,
        texts: list[str],
        entities: list[list[Entity]],
        wanted: list[bool],
        batch_size: int = BATCH_SIZE,
    ) -> list[dict[tuple[int, int], Entity]]:
        """Return the candidate values of the `wanted` texts by range ({} for the others):
        the value tagger's spans, less those equal to an entity's range of that text."""
        if self.values is None:
            return [{} for _ in texts]
        tagged = [i for i, want in enumerate(wanted) if want]  # the value tagger's texts
        values: list[list[Entity]] = [[] for _ in texts]
        found_values = self.values.predict([texts[i] for i in tagged], batch_size=batch_size)
        for i, text_values in zip(tagged, found_values, strict=True):
            values[i] = text_values
        return [_candidate_values(e, v) for e, v in zip(entities, values, strict=True)]

    def attributes_of(
        self,
        texts: list[str],
        entities: list[list[Entity]],
        values: list[dict[tuple[int, int], Entity]],
        batch_size: int = BATCH_SIZE,
    ) -> list[list[ScoredAttribute]]:
        """Return the attributes of every (entity, value) pair of each text whose entity's type
        can carry one: one batched call to the attribute model."""
        if self.attributes is None:
            return [[] for _ in texts]
        carrying = [sum(self.carries(e) for e in ents) for ents in entities]
        self.pairs_classified += sum(len(c) * n for c, n in zip(values, carrying, strict=True))
        if not any(c and n for c, n in zip(values, carrying, strict=True)):
            return [[] for _ in texts]
        inputs = [
            Example(text, tuple(Span(e.start, e.end, e.label) for e in text_entities))
            for text, text_entities in zip(texts, entities, strict=True)
        ]
        found = self.attributes.predict_attributes(
            inputs, values=[list(c) for c in values], batch_size=batch_size
        )
        results = []
        for text_entities, text_values, attributes in zip(entities, values, found, strict=True):
            by_range = {(e.start, e.end): e for e in text_entities}
            results.append([
                ScoredAttribute(
                    by_range[(a.entity.start, a.entity.end)], a.name,
                    _as_value(text_values[(a.value.start, a.value.end)]), a.score,
                )
                for a in attributes
            ])  # fmt: skip
        return results


def _candidate_values(
    entities: list[Entity], values: list[Entity]
) -> dict[tuple[int, int], Entity]:
    """Return a text's value spans by range, less those equal to an entity's range."""
    taken = {(e.start, e.end) for e in entities}
    return {(v.start, v.end): v for v in values if (v.start, v.end) not in taken}


def _as_value(span: Entity) -> Entity:
    """Return a value tagger's span as an attribute value: label VALUE, the tagger's score."""
    return Entity(span.start, span.end, VALUE_LABEL, span.text, span.score)


def load_pipeline(directory: Path | str, precision: str = PRECISION, runtime: str = "torch") -> Any:
    """Return the `PipelinePredictor` of a pipeline directory.

    `runtime` "onnx" runs the taggers' exported graphs (ner/model.onnx, values/model.onnx);
    the relation and attribute members always run in torch.
    """
    manifest = read_manifest(directory)
    predictors = {}
    for name, path in manifest.members.items():
        loaded = load_model(path)
        member_runtime = runtime if name in ("ner", "values") else "torch"
        predictors[name] = get_task(loaded.config.task).predictor(
            loaded, path, precision, member_runtime
        )
    return PipelinePredictor(manifest, **predictors)


def joint_pipeline(
    loaded: Any, path: Path, precision: str = PRECISION, runtime: str = "torch"
) -> PipelinePredictor:
    """Return the `PipelinePredictor` of a joint model directory: the model's tagging head is
    the NER member and its pair head the relation member (`nerkit.tasks.joint.predictor`)."""
    from nerkit.tasks.tagging.predictor import TaggingPredictor

    relations = get_task("joint").predictor(loaded, path, precision, runtime)
    manifest = Manifest(Path(path), {}, None, {"name": relations.name, "joint": True})
    return PipelinePredictor(manifest, TaggingPredictor(loaded, path, precision), relations)
