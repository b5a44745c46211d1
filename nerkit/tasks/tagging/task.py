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
from nerkit.encoders.features import Instance, collate, featurize
from nerkit.encoders.token import prepare_inputs
from nerkit.errors import ArtifactError, ConfigError
from nerkit.runtime import num_threads
from nerkit.tasks.base import LoadedModel, Prepared, Splits
from nerkit.tasks.tagging.config import TaggingConfig
from nerkit.tasks.tagging.data import read_examples, tag_list, tagged_sequences
from nerkit.tasks.tagging.model import Tagger, upgrade_state_dict
from nerkit.types import Example
from nerkit.vocab import LabelSet

__all__ = ["TASK", "TaggingTask", "bucketed_batches"]


def bucketed_batches(
    lengths: Sequence[int], batch_size: int, generator: torch.Generator, chunk_batches: int = 50
) -> list[list[int]]:
    """Return shuffled batches of indices; each batch holds sequences of similar length.

    Indices are shuffled, cut into chunks of `chunk_batches` batches, sorted by length within
    a chunk and split into batches; the batch order is then shuffled again.
    """
    order = torch.randperm(len(lengths), generator=generator).tolist()
    chunk = batch_size * chunk_batches
    batches: list[list[int]] = []
    for first in range(0, len(order), chunk):
        part = sorted(order[first : first + chunk], key=lambda k: lengths[k])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[k] for k in shuffled]


def length_batches(instances: Sequence[Any], batch_size: int) -> Any:
    """Return the `batches(generator)` of `Prepared`: collated length buckets of `instances`."""
    lengths = [len(instance) for instance in instances]

    def batches(generator: torch.Generator) -> list[Any]:
        # collated lazily, one batch at a time, as the loop asks for them
        return _Lazy(instances, bucketed_batches(lengths, batch_size, generator))

    return batches


class _Lazy(Sequence):  # type: ignore[type-arg]
    """A sequence of batches collated when indexed, so an epoch never holds them all."""

    def __init__(self, instances: Sequence[Any], indices: list[list[int]]) -> None:
        self.instances, self.indices = instances, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k: int) -> Any:  # type: ignore[override]
        return collate([self.instances[i] for i in self.indices[k]])


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
            batches=length_batches(instances, config.train.batch_size),
            evaluate=evaluate if splits.dev else None,
        )

    def report(self, loaded: LoadedModel, examples: Sequence[Example]) -> Any:
        """Return the span-level `Report` (nerkit.evaluation) of a tagger on `examples`."""
        from nerkit.tasks.tagging.scoring import score_examples

        model, config, vocabs, _ = loaded
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
        from nerkit.tasks.tagging.ensemble import Ensemble

        first = members[0]
        for number, other in enumerate(members[1:], start=2):
            if other.vocabs.to_dict() != first.vocabs.to_dict():
                raise ArtifactError(
                    f"ensemble member {number} has other vocabularies than the first member "
                    "(train every member from the same config and data, changing only train.seed)"
                )
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
