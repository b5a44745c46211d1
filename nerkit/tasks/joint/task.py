"""The joint task behind the `nerkit.tasks.base` protocol.

`prepare` infers the schema from the training examples (saved in metadata.json: it names
the candidate pairs at training and prediction), builds the tags and the classes, the
training pieces with their pairs, vocabularies, the seeded `JointModel`, bucketed batches
and the dev evaluation: after every epoch the pair temperature is fitted on the dev
examples' gold-entity pairs (`model.calibrate`), then the model extracts the dev texts end
to end; the score is the strict triple micro-F1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from nerkit.config import DataConfig
from nerkit.data.schema import infer_schema
from nerkit.encoders.batching import epoch_batches
from nerkit.encoders.features import featurize
from nerkit.encoders.token import prepare_inputs
from nerkit.errors import ArtifactError, ConfigError
from nerkit.evaluation.end_to_end import EndToEndReport
from nerkit.tasks.base import (
    LoadedModel,
    Prepared,
    Splits,
    read_located,
    saved_schema,
    warn_unknown_labels,
)
from nerkit.tasks.calibrated import fit_temperature
from nerkit.tasks.joint.config import JointConfig
from nerkit.tasks.joint.data import Piece, training_pieces
from nerkit.tasks.joint.inference import piece_logits, report
from nerkit.tasks.joint.model import CLASS_PREFIX, JointModel, collate_joint
from nerkit.tasks.tagging.data import labels_of, tag_list
from nerkit.types import Example
from nerkit.vocab import LabelSet

__all__ = ["TASK", "JointTask"]


def _fit_temperature(
    model: JointModel, vocabs: Any, pieces: Sequence[Piece], classes: list[str]
) -> None:
    """Set the pair temperature that minimises the NLL of the gold-entity pairs of `pieces`."""
    index = {label: k for k, label in enumerate(classes)}
    kept = [p for p in pieces if p.pairs and all(label in index for label in p.labels)]
    if not kept:
        return
    logits = torch.cat(piece_logits(model, vocabs, kept))
    targets = torch.tensor([index[label] for p in kept for label in p.labels])
    temperature = fit_temperature(logits, targets, False)
    model.pair_temperature.fill_(temperature)


class JointTask:
    """Entities and the relations between them from one model."""

    name = "joint"

    def read_examples(
        self, path: Path, data: DataConfig, format: str | None = None
    ) -> list[Example]:
        """Return the examples of a file (jsonl, doccano, label-studio, brat, ...)."""
        return read_located(path, format or data.format)

    def build(
        self, config: JointConfig, vocab_sizes: dict[str, int], labels: list[str]
    ) -> JointModel:
        """Return an untrained joint model over `labels` (tags, then "relation:" classes)."""
        return JointModel(config.model, vocab_sizes, labels)

    def upgrade_state_dict(self, state: dict[str, Any]) -> dict[str, Any]:
        """Return saved weights unchanged (no older joint model layout exists)."""
        return state

    def prepare(
        self, config: JointConfig, splits: Splits, teacher: LoadedModel | None = None
    ) -> Prepared:
        """Return a new joint model over `splits.train`, its batches and dev evaluation."""
        if config.train.distill is not None:
            raise ConfigError("train.distill is not available for joint models; remove it")
        model_config = config.model
        if not any(e.relations for e in splits.train):
            raise ConfigError(
                f"the training data ({config.data.train}) holds no relation (is data.format "
                f"{config.data.format!r} a format with entities and relations?)"
            )
        used = {r.label for e in splits.train for r in e.relations}
        schema = infer_schema(
            splits.train, no_relation=[n for n in model_config.no_relation if n in used]
        )
        tags = tag_list(splits.train, model_config.scheme)
        warn_unknown_labels("dev", set(labels_of(splits.dev)), set(labels_of(splits.train)),
                            "in the dev data")  # fmt: skip
        types = sorted(labels_of(splits.train))
        pieces = training_pieces(splits.train, model_config, schema, types)
        classes = sorted({label for piece in pieces for label in piece.labels})
        if len(classes) < 2:
            raise ConfigError(
                f"a joint model needs at least 2 pair classes in train, found {classes} (every "
                "pair of entities the schema links is annotated: nothing teaches no-relation)"
            )
        inputs = prepare_inputs([p.tokens for p in pieces], model_config)
        labels = [*tags, *(CLASS_PREFIX + c for c in classes)]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.train.seed)
            model = JointModel(model_config, inputs.vocabs.sizes(), labels)
        model.token_encoder.init_pretrained(inputs)
        vocabs, tag_ids, class_ids = inputs.vocabs, LabelSet(tags), LabelSet(classes)
        items = [
            (featurize(p.tokens, vocabs, model_config, tag_ids.ids(p.tags)), p.pairs,
             class_ids.ids(p.labels))
            for p in pieces
        ]  # fmt: skip
        dev_pieces = training_pieces(splits.dev, model_config, schema, types)

        def collate(batch: list[Any]) -> Any:
            return collate_joint([x for x, _, _ in batch], [p for _, p, _ in batch],
                                 [t for _, _, t in batch])  # fmt: skip

        def evaluate() -> tuple[float, dict[str, Any]]:
            if model_config.calibrate:
                _fit_temperature(model, vocabs, dev_pieces, classes)
            scores = report(model, vocabs, schema, splits.dev)
            return scores.main_score, {**scores.summary(),
                                       "temperature": float(model.pair_temperature)}  # fmt: skip

        return Prepared(
            model=model,
            vocabs=vocabs,
            labels=labels,
            train_size=len(items),
            batches=epoch_batches(
                items, [len(p) for p in pieces], config.train.batch_size, collate
            ),
            evaluate=evaluate if splits.dev else None,
            metadata={
                "schema": schema.to_dict(),
                "pairs": {"train": sum(len(p.pairs) for p in pieces)},
            },
        )

    def report(self, loaded: LoadedModel, examples: Sequence[Example]) -> EndToEndReport:
        """Return the end-to-end report of a joint model on labelled examples (from texts)."""
        known = set(loaded.model.types)
        warn_unknown_labels("gold", set(labels_of(examples)), known, "in the evaluated data")
        return report(loaded.model, loaded.vocabs, saved_schema(loaded.metadata), examples)

    def predictor(self, loaded: LoadedModel, path: Path, precision: str, runtime: str) -> Any:
        """Return the `JointRelations` member (`nerkit.load` wraps it in a pipeline predictor
        whose NER member is the same model's tagging head)."""
        from nerkit.tasks.joint.predictor import JointRelations

        if runtime != "torch":
            raise ArtifactError(f"{path} is a joint model: only the torch runtime runs it")
        return JointRelations(loaded, path, precision)

    def ensemble(self, members: Sequence[LoadedModel]) -> Any:
        """Refuse: joint models do not form ensembles yet."""
        raise ArtifactError("joint models cannot form an ensemble (use single models)")


TASK = JointTask()
