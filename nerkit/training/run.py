"""A whole training run from a config: data -> vocabularies -> model -> `fit` -> model directory.

Everything a run decides is in the config; the output directory ends up holding a
loadable model (`nerkit.artifacts`) plus `train_log.jsonl`, and, while the run is in
progress, `checkpoint.pt` for `resume=True`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from nerkit.artifacts import file_sha256, save_model
from nerkit.models.config import Config
from nerkit.models.features import Instance, Vocabs, build_vocabs, featurize
from nerkit.models.tagger import Tagger
from nerkit.training.data import load_splits, tag_list, tagged_sequences
from nerkit.training.distill import soft_targets
from nerkit.training.loop import TrainResult, fit, num_threads
from nerkit.training.pretrained import (
    add_bigrams,
    init_embeddings,
    read_bigram_vectors,
    read_vectors,
)
from nerkit.training.scoring import score_examples, summary
from nerkit.vocab import LabelSet

logger = logging.getLogger(__name__)


def build_model(config: Config, vocabs: Vocabs, tags: list[str]) -> Tagger:
    """Return a freshly initialised tagger; initialisation is seeded by `train.seed`."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        return Tagger(config.model, vocabs.sizes(), tags)


def _data_metadata(config: Config, sizes: dict[str, int]) -> dict[str, Any]:
    files = {"train": config.data.train, "dev": config.data.dev, "test": config.data.test}
    return {
        "data": {
            name: {"path": str(path), "sha256": file_sha256(path), "examples": sizes.get(name, 0)}
            for name, path in files.items()
            if path is not None and Path(path).is_file()
        }
    }


def train(
    config: Config,
    output_dir: Path,
    *,
    resume: bool = False,
    progress: bool = True,
    on_epoch_end: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train the model a config describes, save the best epoch to `output_dir`, score test."""
    output_dir = Path(output_dir)
    splits = load_splits(config)
    model_config = config.model
    tags = tag_list(splits.train, model_config.scheme)
    pieces = tagged_sequences(
        splits.train, model_config.tokenization, model_config.scheme, config.data.max_length
    )
    vectors = None
    if model_config.features.pretrained is not None:
        vectors = read_vectors(model_config.features.pretrained, model_config.features.token_dim)
    bigram_vectors = read_bigram_vectors(model_config)
    vocabs = build_vocabs(
        [tokens for tokens, _ in pieces], model_config, extra_tokens=vectors or ()
    )
    if bigram_vectors is not None:
        add_bigrams(vocabs, bigram_vectors)
    model = build_model(config, vocabs, tags)
    vocabs.subwords = model.subwords  # a pretrained encoder's tokenizer, else None
    init_embeddings(model, vocabs, vectors, bigram_vectors)
    labels = LabelSet(tags)
    instances = [featurize(tokens, vocabs, model_config, labels.ids(t)) for tokens, t in pieces]
    if config.train.distill is not None:
        instances = _with_soft_targets(config, instances, pieces, tags)
    sizes = {"train": len(splits.train), "dev": len(splits.dev), "test": len(splits.test)}
    metadata = _data_metadata(config, sizes)

    def evaluate() -> dict[str, Any]:
        return summary(score_examples(model, vocabs, config, splits.dev))

    def save_best(scores: dict[str, Any]) -> None:
        save_model(output_dir, model, config, vocabs, {**metadata, "dev": scores or None})

    result = fit(
        model, instances, config.train, output_dir,
        evaluate=evaluate if splits.dev else None, save_best=save_best,
        resume=resume, progress=progress, on_epoch_end=on_epoch_end,
    )  # fmt: skip
    if splits.test:
        with num_threads(config.train.num_threads):
            result.test = _score_test(output_dir, config, splits.test)
    return result


def _with_soft_targets(
    config: Config,
    instances: list[Instance],
    pieces: list[tuple[list[str], list[str]]],
    tags: list[str],
) -> list[Instance]:
    """Return the instances with the distillation targets of `config.train.distill`."""
    assert config.train.distill is not None
    sequences = [(tokens, x.tags or []) for (tokens, _), x in zip(pieces, instances, strict=True)]
    with num_threads(config.train.num_threads):
        targets = soft_targets(config.train.distill, sequences, tags)
    return [
        replace(instance, soft_tags=unary, soft_transitions=counts)
        for instance, (unary, counts) in zip(instances, targets, strict=True)
    ]


def _score_test(output_dir: Path, config: Config, examples: list) -> dict[str, Any]:
    """Score the saved best model on the test examples and record it in metadata.json."""
    from nerkit.artifacts import load_model

    model, _, vocabs, _ = load_model(output_dir)
    started = time.perf_counter()
    report = score_examples(model, vocabs, config, examples)
    seconds = time.perf_counter() - started
    scores = {**summary(report), "decode_sents_per_s": round(len(examples) / seconds, 1)}
    path = output_dir / "metadata.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["test"] = scores
    path.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return scores
