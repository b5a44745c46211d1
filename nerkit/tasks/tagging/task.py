"""The tagging task: entity spans from per-token tags, behind the `nerkit.tasks.base` protocol.

`prepare` is the whole recipe from examples to a trainable tagger: tag inventory, training
pieces of at most `model.max_length` tokens, vocabularies with pretrained vectors, the
seeded model, id features, distillation targets, batches and the dev evaluation. `nerkit
train`, the benchmarks and any other caller use it, so none of them can drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from nerkit.config import DataConfig
from nerkit.encoders.batching import epoch_batches
from nerkit.encoders.features import Instance, collate, featurize
from nerkit.encoders.token import prepare_inputs
from nerkit.errors import ArtifactError, ConfigError
from nerkit.runtime import num_threads
from nerkit.schemes import split_tag
from nerkit.tasks.base import LoadedModel, Prepared, Splits, warn_unknown_labels
from nerkit.tasks.tagging.config import TaggingConfig
from nerkit.tasks.tagging.data import labels_of, read_examples, tag_list, tagged_sequences
from nerkit.tasks.tagging.model import Tagger, upgrade_state_dict
from nerkit.types import Example
from nerkit.vocab import LabelSet

__all__ = ["TASK", "TaggingTask"]


class TaggingTask:
    """Named entity recognition (any span labelling) as sequence tagging."""

    name = "tagging"

    def read_examples(
        self, path: Path, data: DataConfig, format: str | None = None
    ) -> list[Example]:
        """Return the annotated examples of a file in the configured format."""
        return read_examples(path, data, format)

    def build(
        self, config: TaggingConfig, vocab_sizes: dict[str, int], labels: list[str]
    ) -> Tagger:
        """Return an untrained tagger over the tag list `labels`."""
        return Tagger(config.model, vocab_sizes, labels)

    def upgrade_state_dict(self, state: dict[str, Any]) -> dict[str, Any]:
        """Return saved tagger weights with this version's parameter names."""
        return upgrade_state_dict(state)

    def prepare(
        self, config: TaggingConfig, splits: Splits, teacher: LoadedModel | None = None
    ) -> Prepared:
        """Return a new tagger over `splits.train`, its batches and its dev evaluation."""
        from nerkit.tasks.tagging.scoring import score_examples, summary

        model_config = config.model
        tags = tag_list(splits.train, model_config.scheme)
        dev_labels, train_labels = set(labels_of(splits.dev)), set(labels_of(splits.train))
        warn_unknown_labels("dev", dev_labels, train_labels, "in the dev data")
        pieces = tagged_sequences(
            splits.train, model_config.tokenization, model_config.scheme, model_config.max_length
        )
        inputs = prepare_inputs([tokens for tokens, _ in pieces], model_config)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.train.seed)
            model = Tagger(model_config, inputs.vocabs.sizes(), tags)
        model.token_encoder.init_pretrained(inputs)
        vocabs, labels = inputs.vocabs, LabelSet(tags)
        instances = [featurize(tokens, vocabs, model_config, labels.ids(t)) for tokens, t in pieces]
        if config.train.distill is not None:
            if teacher is None:
                raise ConfigError("train.distill is set but no teacher model was loaded")
            instances = _with_soft_targets(config, teacher, instances, pieces, tags)

        def evaluate() -> tuple[float, dict[str, Any]]:
            scores = summary(score_examples(model, vocabs, model_config, splits.dev))
            return scores["f1"], scores

        return Prepared(
            model=model,
            vocabs=vocabs,
            labels=tags,
            train_size=len(instances),
            batches=epoch_batches(
                instances, [len(x) for x in instances], config.train.batch_size, collate
            ),
            evaluate=evaluate if splits.dev else None,
        )

    def report(self, loaded: LoadedModel, examples: Sequence[Example]) -> Any:
        """Return the span-level `Report` (nerkit.evaluation) of a tagger on `examples`."""
        from nerkit.tasks.tagging.scoring import score_examples

        model, config, vocabs, _ = loaded
        known = {label for tag in model.tags if (label := split_tag(tag)[1])}
        warn_unknown_labels("gold", set(labels_of(examples)), known, "in the evaluated data")
        return score_examples(model, vocabs, config.model, examples)

    def predictor(self, loaded: LoadedModel, path: Path, precision: str, runtime: str) -> Any:
        """Return a `TaggingPredictor`; `runtime="onnx"` runs PATH/model.onnx instead of torch."""
        from nerkit.tasks.tagging.predictor import TaggingPredictor

        if runtime == "onnx":
            from nerkit.tasks.tagging.onnx import OnnxTagScorer

            scorer = OnnxTagScorer.from_model_dir(loaded.model, path)
            return TaggingPredictor(loaded._replace(model=scorer), path, "fp32")
        return TaggingPredictor(loaded, path, precision)

    def ensemble(self, members: Sequence[LoadedModel]) -> Any:
        """Return the averaged `Ensemble` of taggers trained from one config."""
        from nerkit.tasks.ensemble import check_members
        from nerkit.tasks.tagging.ensemble import Ensemble

        check_members(members, "", lambda m: {"vocabularies": m.vocabs.to_dict()})
        first = members[0]
        for number, other in enumerate(members[1:], start=2):
            if other.config.model.max_length != first.config.model.max_length:
                raise ArtifactError(
                    f"ensemble member {number} has model.max_length "
                    f"{other.config.model.max_length}, the first member "
                    f"{first.config.model.max_length} (they must be equal)"
                )
        try:
            return Ensemble([member.model for member in members])
        except ValueError as error:
            raise ArtifactError(str(error)) from None


def _with_soft_targets(
    config: TaggingConfig,
    teacher: LoadedModel,
    instances: list[Instance],
    pieces: list[tuple[list[str], list[str]]],
    tags: list[str],
) -> list[Instance]:
    """Return the instances with the distillation targets of `config.train.distill`."""
    from nerkit.tasks.tagging.distill import soft_targets

    assert config.train.distill is not None
    sequences = [(tokens, x.tags or []) for (tokens, _), x in zip(pieces, instances, strict=True)]
    with num_threads(config.train.num_threads):
        targets = soft_targets(config.train.distill, teacher, sequences, tags)
    return [
        replace(instance, soft_tags=unary, soft_transitions=counts)
        for instance, (unary, counts) in zip(instances, targets, strict=True)
    ]


TASK = TaggingTask()
