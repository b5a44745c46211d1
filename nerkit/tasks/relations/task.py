"""The relation task behind the `nerkit.tasks.base` protocol.

`prepare` infers the schema from the training examples (`nerkit.data.schema.infer_schema`;
saved in metadata.json, it prunes negative and predicted pairs), builds the class labels,
the pair instances and their marked token sequences, vocabularies over those sequences (so
the marker tokens are ordinary tokens of the vocabulary), the seeded classifier, bucketed
batches and the dev evaluation. After every epoch the evaluation fits the calibration
temperature on the dev pairs (when `model.calibrate`), so the model saved at the best epoch
carries the temperature fitted for it. With `model.targets: attributes` the examples'
attributes become the (entity -> value) pairs first (`nerkit.tasks.relations.attributes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from nerkit.config import DataConfig
from nerkit.data.schema import Schema, infer_schema
from nerkit.encoders.batching import epoch_batches
from nerkit.encoders.token import prepare_inputs
from nerkit.errors import ArtifactError, ConfigError
from nerkit.tasks.base import (
    LoadedModel,
    Prepared,
    Splits,
    read_located,
    saved_schema,
    warn_unknown_labels,
)
from nerkit.tasks.calibrated import (
    expected_calibration_error,
    fit_temperature,
    fit_threshold,
    predicted_labels,
    probabilities_of,
)
from nerkit.tasks.distill import distilled_targets
from nerkit.tasks.relations.attributes import (
    attribute_pairs,
    attribute_schema,
    check_attribute_names,
)
from nerkit.tasks.relations.config import RelationModelConfig, RelationsConfig
from nerkit.tasks.relations.data import (
    PairInstance,
    marked_tokens,
    marker_tokens,
    pair_instances,
    split_directed,
)
from nerkit.tasks.relations.metrics import (
    SEMEVAL_RELATIONS,
    RelationReport,
    score_relations,
    semeval_official,
    top_label_scores,
)
from nerkit.tasks.relations.model import (
    PairRow,
    RelationClassifier,
    collate_pairs,
    encode_pairs,
    pair_logits,
)
from nerkit.types import Example

__all__ = [
    "TASK",
    "RelationsTask",
    "as_pairs",
    "decode_labels",
    "evaluate_pairs",
    "model_schema",
    "score_pairs",
]


def model_schema(examples: Sequence[Example], config: RelationModelConfig) -> Schema:
    """Return the schema of the training examples, with the configured no-relation labels."""
    if config.targets == "attributes":
        used = {a.name for e in examples for a in e.attributes}
        return attribute_schema(examples, [n for n in config.no_relation if n in used])
    used = {r.label for e in examples for r in e.relations}
    return infer_schema(examples, no_relation=[n for n in config.no_relation if n in used])


def as_pairs(examples: Sequence[Example], config: RelationModelConfig) -> list[Example]:
    """Return the examples whose relations the model classifies (attributes as relations)."""
    if config.targets == "attributes":
        return [attribute_pairs(e) for e in examples]
    return list(examples)


def negative_label(labels: Sequence[str], config: RelationModelConfig) -> str | None:
    """Return the class of no-relation instances: a configured no-relation label in `labels`."""
    if config.multi_label:
        return None
    present = [name for name in config.no_relation if name in labels]
    return present[0] if present else config.no_relation[0]


def _class_labels(instances: Sequence[PairInstance], config: RelationModelConfig) -> list[str]:
    labels = sorted({label for instance in instances for label in instance.labels})
    if config.multi_label:
        if not labels:
            raise ConfigError("the training data holds no relation other than no-relation ones")
        return labels
    several = next((i for i in instances if len(i.labels) != 1), None)
    if several is not None:
        raise ConfigError(
            f"a single-label relation model needs one label per entity pair, found "
            f"{list(several.labels)!r} (set model.multi_label: true for data such as FinRE)"
        )
    if len(labels) < 2:
        raise ConfigError(
            f"relation classification needs at least 2 labels in train, found {labels} "
            "(set model.negative_pairs: true to learn no-relation pairs as well)"
        )
    return labels


def _rows(
    examples: Sequence[Example], instances: Sequence[PairInstance], vocabs: Any, config: Any
) -> list[PairRow]:
    marked = [marked_tokens(examples[i.example], i.head, i.tail, config) for i in instances]
    return encode_pairs(marked, vocabs, config)


def _targets(instances: Sequence[PairInstance], labels: list[str], multi_label: bool) -> Tensor:
    index = {label: k for k, label in enumerate(labels)}
    if not multi_label:
        return torch.tensor([index[i.labels[0]] for i in instances], dtype=torch.long)
    targets = torch.zeros(len(instances), len(labels))
    for row, instance in enumerate(instances):
        for label in instance.labels:
            if label in index:
                targets[row, index[label]] = 1.0
    return targets


def decode_labels(
    instance: PairInstance, labels: Sequence[str], config: RelationModelConfig
) -> set[tuple[int, int, str]]:
    """Return the (head, tail, relation) triples that class labels of a pair stand for."""
    triples = set()
    for label in labels:
        if config.pair_order == "text":
            name, forward = split_directed(label)
            head, tail = (
                (instance.head, instance.tail) if forward else (instance.tail, instance.head)
            )
            triples.add((head, tail, name))
        else:
            triples.add((instance.head, instance.tail, label))
    return triples


def _official_label(example: Example, triples: set[tuple[int, int, str]], other: str) -> str:
    real = [t for t in triples if t[2] in SEMEVAL_RELATIONS]
    if not real:
        return other
    head, tail, name = real[0]
    a, b = example.spans[head], example.spans[tail]
    return f"{name}(e1,e2)" if (a.start, a.end) <= (b.start, b.end) else f"{name}(e2,e1)"


def evaluate_pairs(
    model: RelationClassifier,
    vocabs: Any,
    examples: Sequence[Example],
    schema: Schema | None,
    fit: bool = False,
) -> tuple[RelationReport, dict[str, float]]:
    """Return the report of a relation model on labelled examples, and calibration figures.

    The pairs are those `pair_instances` builds (with the model's schema for negatives); with
    `fit`, the temperature (`model.calibrate`) and then the multi-label threshold
    (`model.fit_threshold`, the best main score) are first fitted on them and set on the model.
    """
    config = model.config
    negative = negative_label(model.labels, config)
    instances = pair_instances(examples, config, schema, negative)
    rows = _rows(examples, instances, vocabs, config)
    logits = pair_logits(model, rows) if rows else torch.zeros(0, len(model.labels))
    extra: dict[str, float] = {}
    known = [k for k, i in enumerate(instances) if set(i.labels) <= set(model.labels)]
    if known and (config.multi_label or all(instances[k].labels for k in known)):
        targets = _targets([instances[k] for k in known], model.labels, config.multi_label)
        if fit and config.calibrate:
            model.set_temperature(fit_temperature(logits[known], targets, config.multi_label))
        after = probabilities_of(logits[known], float(model.temperature), config.multi_label)
        extra["ece"] = expected_calibration_error(after, targets, config.multi_label)
        extra["temperature"] = float(model.temperature)
    probabilities = probabilities_of(logits, float(model.temperature), config.multi_label)
    if fit and config.fit_threshold and instances:

        def main_score(threshold: float) -> float:
            guess = predicted_labels(probabilities, model.labels, True, threshold)
            return score_pairs(examples, instances, guess, config).main_score

        model.set_threshold(fit_threshold(main_score))
        extra["threshold"] = float(model.threshold)
    report = score_pairs(examples, instances, model.predicted(probabilities), config)
    if config.multi_label and instances:
        best, where = probabilities.max(dim=1)
        top = [
            model.labels[c] if p >= float(model.threshold) else None
            for p, c in zip(best.tolist(), where.tolist(), strict=True)
        ]
        gold = [[x for x in i.labels if x not in config.no_relation] for i in instances]
        report = replace(report, extra=top_label_scores(gold, top))
    return report, extra


def score_pairs(
    examples: Sequence[Example],
    instances: Sequence[PairInstance],
    predicted: Sequence[Sequence[str]],
    config: RelationModelConfig,
) -> RelationReport:
    """Return the report of predicted class labels of pairs against the pairs' gold labels.

    The SemEval official score is added when every gold relation is a SemEval-2010 one.
    """
    gold_sets: list[set[tuple[int, int, str]]] = [set() for _ in examples]
    predicted_sets: list[set[tuple[int, int, str]]] = [set() for _ in examples]
    gold19, predicted19 = [], []
    for instance, labels in zip(instances, predicted, strict=True):
        gold = decode_labels(instance, instance.labels, config)
        guess = decode_labels(instance, labels, config)
        gold_sets[instance.example] |= gold
        predicted_sets[instance.example] |= guess
        example = examples[instance.example]
        gold19.append(_official_label(example, gold, "Other"))
        predicted19.append(_official_label(example, guess, "Other"))
    names = {t[2] for triples in gold_sets for t in triples}
    official = None
    semeval_like = names <= SEMEVAL_RELATIONS | {"Other"} and names & SEMEVAL_RELATIONS
    if semeval_like and not config.multi_label:
        official = semeval_official(gold19, predicted19)
    return score_relations(gold_sets, predicted_sets, config.no_relation, official)


def _training_pairs(
    train: Sequence[Example], config: RelationModelConfig
) -> tuple[Schema, list[PairInstance], list[str]]:
    """Return the schema of the training examples, their pair instances and the classes."""
    schema = model_schema(train, config)
    train = as_pairs(train, config)
    annotated = pair_instances(train, config.model_copy(update={"negative_pairs": False}))
    negative = negative_label(sorted({x for i in annotated for x in i.labels}), config)
    instances = pair_instances(train, config, schema, negative)
    return schema, instances, _class_labels(instances, config)


def _distilled(
    config: RelationsConfig,
    teacher: LoadedModel | None,
    train: Sequence[Example],
    instances: Sequence[PairInstance],
    targets: Tensor,
    labels: list[str],
) -> Tensor:
    """Return the targets of the training pairs mixed with a relation teacher's
    (`nerkit.tasks.distill`); the teacher reads the same pairs with its own markers."""
    model_config = config.model
    if teacher is not None and teacher.config.task == "relations":
        theirs = teacher.model.config
        for key in ("targets", "pair_order"):
            if getattr(theirs, key) != getattr(model_config, key):
                raise ConfigError(
                    f"the teacher {config.train.distill.teacher} has model.{key} "
                    f"{getattr(theirs, key)!r}, this model {getattr(model_config, key)!r}"
                )

    def teacher_logits(loaded: LoadedModel) -> Tensor:
        rows = _rows(train, instances, loaded.vocabs, loaded.model.config)
        return pair_logits(loaded.model, rows)

    multi_label = model_config.multi_label
    return distilled_targets(config, teacher, targets, labels, multi_label, teacher_logits)


class RelationsTask:
    """Relations between given entity pairs, from the token states at entity markers."""

    name = "relations"

    def read_examples(
        self, path: Path, data: DataConfig, format: str | None = None
    ) -> list[Example]:
        """Return the examples of a file (deepke-re, finre, semeval, jsonl, ...)."""
        return read_located(path, format or data.format)

    def build(
        self, config: RelationsConfig, vocab_sizes: dict[str, int], labels: list[str]
    ) -> RelationClassifier:
        """Return an untrained relation classifier over the classes `labels`."""
        return RelationClassifier(config.model, vocab_sizes, labels)

    def upgrade_state_dict(self, state: dict[str, Any]) -> dict[str, Any]:
        """Return saved weights unchanged (no older relation model layout exists)."""
        return state

    def prepare(
        self, config: RelationsConfig, splits: Splits, teacher: LoadedModel | None = None
    ) -> Prepared:
        """Return a new relation classifier over `splits.train`, its batches and dev evaluation."""
        model_config = config.model
        attributes = model_config.targets == "attributes"
        if not any(e.attributes if attributes else e.relations for e in splits.train):
            kind, formats = ("attribute", "deepke-ae, jsonl") if attributes else (
                "relation", "deepke-re, finre, semeval, jsonl")  # fmt: skip
            raise ConfigError(
                f"the training data ({config.data.train}) holds no {kind} (is data.format "
                f"{config.data.format!r} a format with {kind}s: {formats}?)"
            )
        schema, instances, labels_list = _training_pairs(splits.train, model_config)
        if attributes:
            check_attribute_names(splits.dev, schema, "dev data")
        train, dev = as_pairs(splits.train, model_config), as_pairs(splits.dev, model_config)
        dev_labels = {r.label for e in dev for r in e.relations}
        warn_unknown_labels(
            "dev", dev_labels, {r.name for r in schema.relations}, "in the dev data"
        )
        marked = [marked_tokens(train[i.example], i.head, i.tail, model_config) for i in instances]
        inputs = prepare_inputs([m.tokens for m in marked], model_config)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.train.seed)
            model = RelationClassifier(model_config, inputs.vocabs.sizes(), labels_list)
        model.token_encoder.init_pretrained(inputs)
        if model_config.markers != "symbols":  # "$" and "#" are pieces of every vocabulary
            model.token_encoder.add_tokens(marker_tokens(marked))
        vocabs = inputs.vocabs
        rows = encode_pairs(marked, vocabs, model_config)
        targets = _targets(instances, labels_list, model_config.multi_label)
        if config.train.distill is not None:
            targets = _distilled(config, teacher, train, instances, targets, labels_list)
        items = list(zip(rows, targets, strict=True))

        def collate(batch: list[Any]) -> Any:
            return collate_pairs([r for r, _ in batch], torch.stack([t for _, t in batch]))

        def evaluate() -> tuple[float, dict[str, Any]]:
            report, extra = evaluate_pairs(model, vocabs, dev, schema, fit=True)
            return report.main_score, {**report.summary(), **extra}

        return Prepared(
            model=model,
            vocabs=vocabs,
            labels=labels_list,
            train_size=len(items),
            batches=epoch_batches(items, [len(r) for r in rows], config.train.batch_size, collate),
            evaluate=evaluate if dev else None,
            metadata={"schema": schema.to_dict(), "pairs": {"train": len(instances)}},
        )

    def report(self, loaded: LoadedModel, examples: Sequence[Example]) -> RelationReport:
        """Return the relation report of a loaded model on labelled examples (gold entities)."""
        schema = saved_schema(loaded.metadata)
        if loaded.model.config.targets == "attributes":
            check_attribute_names(examples, schema, "evaluated data")
            examples = as_pairs(examples, loaded.model.config)
        gold = {r.label for e in examples for r in e.relations}
        known = {r.name for r in schema.relations}
        warn_unknown_labels("gold", gold, known, "in the evaluated data")
        return evaluate_pairs(loaded.model, loaded.vocabs, examples, schema)[0]

    def predictor(self, loaded: LoadedModel, path: Path, precision: str, runtime: str) -> Any:
        """Return a `RelationPredictor` (torch runtime only)."""
        from nerkit.tasks.relations.predictor import RelationPredictor

        if runtime != "torch":
            raise ArtifactError(f"{path} is a relation model: only the torch runtime runs it")
        return RelationPredictor(loaded, path, precision)

    def ensemble(self, members: Sequence[LoadedModel]) -> Any:
        """Return the `CalibratedEnsemble` of relation models trained from one config."""
        from nerkit.tasks.ensemble import calibrated_ensemble

        return calibrated_ensemble(members, "relation")


TASK = RelationsTask()
