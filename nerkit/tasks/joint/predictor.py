"""`JointRelations`: a joint model's pair head as the relation member of a pipeline predictor.

`nerkit.load` of a joint model directory returns a `PipelinePredictor` whose NER member is
a `TaggingPredictor` over the model (a `JointModel` is a `Tagger`) and whose relation member
is this view of the same model: so `predict`, `serve`, `extract` (with `--pair-window` too)
and the pipeline's schema pruning work for it unchanged. The token encoder runs once for the
entities and once per text (or window) for all its pairs.

`predict(inputs, pairs="all")` takes `Example`s with entity spans, like `RelationPredictor`,
and classifies every ordered pair of them whose types the saved schema links;
`pairs="given"` only the pairs an input's relations name. Per input: `ScoredRelation(head,
tail, label, score)` for every pair whose top class is not a no-relation class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nerkit.defaults import BATCH_SIZE, PRECISION
from nerkit.runtime import paused_gc
from nerkit.tasks.base import LoadedModel, LoadedPredictor, saved_schema
from nerkit.tasks.joint.inference import candidate_pairs, pair_probabilities, top_class
from nerkit.tasks.relations.predictor import (
    ScoredRelation,
    as_examples,
    check_pair_arguments,
    given_entity,
)

__all__ = ["JointRelations"]


class JointRelations(LoadedPredictor):
    """The relations a joint model finds between given entities (see the module doc)."""

    task = "joint"
    pair_order = "annotated"  # ordered (head, tail) pairs; the pipeline asks

    def __init__(self, loaded: LoadedModel, path: Path, precision: str = PRECISION) -> None:
        super().__init__(loaded, path, precision)
        self.schema = saved_schema(self.metadata)

    @property
    def labels(self) -> list[str]:
        """Return the relation labels the model predicts, sorted."""
        return sorted(set(self.model.classes) - set(self.no_relation))

    @property
    def no_relation(self) -> tuple[str, ...]:
        """Return the labels that mean "no relation"."""
        return tuple(self.config.model.no_relation)

    @property
    def says_no_relation(self) -> bool:
        """Return True when the model has a no-relation class (it can leave a pair without)."""
        return bool(set(self.model.classes) & set(self.no_relation))

    @property
    def temperature(self) -> float:
        """Return the calibration temperature of the relation scores."""
        return float(self.model.pair_temperature)

    def info(self) -> dict[str, Any]:
        """Return a JSON-ready description: name, task, labels, encoder, scores."""
        model = self.config.model
        return {
            "name": self.name, "task": self.task, "labels": self.labels,
            "entity_labels": list(self.model.types), "tokenization": model.tokenization,
            "encoder": model.encoder.kind, "precision": self.precision,
            "temperature": self.temperature, "schema": self.schema.to_dict(),
            "dev": self.metadata.get("dev"), "test": self.metadata.get("test"),
        }  # fmt: skip

    @paused_gc()
    def predict(
        self, inputs: Any, batch_size: int = BATCH_SIZE, pairs: str = "all"
    ) -> list[list[ScoredRelation]]:
        """Return the relations among the given entities of each input (see the module doc)."""
        check_pair_arguments(batch_size, pairs)
        examples = as_examples(inputs)
        chosen = [
            candidate_pairs(e.spans, self.schema) if pairs == "all"
            else list(dict.fromkeys((r.head, r.tail) for r in e.relations))
            for e in examples
        ]  # fmt: skip
        probabilities = pair_probabilities(
            self.model, self.vocabs, [e.text for e in examples], [e.spans for e in examples],
            chosen, batch_size,
        )  # fmt: skip
        results = []
        for example, text_pairs, rows in zip(examples, chosen, probabilities, strict=True):
            found = []
            for (a, b), row in zip(text_pairs, rows, strict=True):
                top = top_class(row, self.model.classes, self.no_relation)
                if top is not None:
                    label, score = top
                    head, tail = given_entity(example, a), given_entity(example, b)
                    found.append(ScoredRelation(head, tail, label, round(score, 6)))
            results.append(found)
        return results
