"""The classification task behind the `nerkit.tasks.base` protocol.

`prepare` builds the label list and class weights from the training texts, vocabularies
with pretrained vectors (`nerkit.encoders.token.prepare_inputs`), the seeded classifier,
length-bucketed batches and the dev evaluation. After every epoch the evaluation fits the
calibration temperature on the dev texts (when `model.calibrate`), so the model saved at
the best epoch carries the temperature fitted for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from nerkit.config import DataConfig
from nerkit.encoders.batching import epoch_batches
from nerkit.encoders.token import prepare_inputs
from nerkit.errors import ArtifactError, ConfigError
from nerkit.tasks.base import (
    LoadedModel,
    Prepared,
    Splits,
    check_data_file,
    warn_unknown_labels,
)
from nerkit.tasks.calibrated import (
    expected_calibration_error,
    fit_temperature,
    fit_threshold,
    predicted_labels,
    probabilities_of,
)
from nerkit.tasks.classification.config import ClassificationConfig, ClassifierConfig
from nerkit.tasks.classification.data import TextExample, read_texts
from nerkit.tasks.classification.metrics import ClassificationReport, score_labels
from nerkit.tasks.classification.model import (
    TextClassifier,
    collate_texts,
    encode_texts,
    text_logits,
    text_tokens,
)
from nerkit.tasks.distill import distilled_targets

__all__ = ["TASK", "ClassificationTask"]


def _targets(examples: Sequence[TextExample], labels: list[str], multi_label: bool) -> Tensor:
    index = {label: i for i, label in enumerate(labels)}
    if not multi_label:
        return torch.tensor([index[example.labels[0]] for example in examples], dtype=torch.long)
    targets = torch.zeros(len(examples), len(labels))
    for row, example in enumerate(examples):
        for label in example.labels:
            targets[row, index[label]] = 1.0
    return targets


def _check_labels(examples: Sequence[TextExample], multi_label: bool) -> None:
    if multi_label:
        return
    several = next((e for e in examples if len(e.labels) != 1), None)
    if several is not None:
        raise ConfigError(
            f"a single-label model needs one label per text, found {list(several.labels)!r} "
            f"for {several.text[:40]!r} (set model.multi_label: true for multi-label data)"
        )


def class_weights(
    examples: Sequence[TextExample], labels: list[str], config: ClassifierConfig
) -> list[float] | None:
    """Return the per-class loss weights `model.class_weights` asks for (None: all 1)."""
    setting = config.class_weights
    if setting == "none":
        return None
    if isinstance(setting, dict):
        unknown = sorted(set(setting) - set(labels))
        if unknown:
            raise ConfigError(f"model.class_weights names labels not in the data: {unknown}")
        return [float(setting.get(label, 1.0)) for label in labels]
    counts = Counter(label for example in examples for label in example.labels)
    total = sum(counts.values())
    return [total / (len(labels) * max(counts[label], 1)) for label in labels]


def evaluate_texts(
    model: TextClassifier, vocabs: Any, examples: Sequence[TextExample], fit: bool = False
) -> tuple[ClassificationReport, dict[str, float]]:
    """Return the report of a classifier on labelled texts, and its calibration figures.

    With `fit`, the temperature (`model.calibrate`) and then the multi-label threshold
    (`model.fit_threshold`, the best main score) are first fitted on these texts and set on
    the model.
    """
    config = model.config
    known = [e for e in examples if set(e.labels) <= set(model.labels)]
    logits = text_logits(model, vocabs, [e.text for e in examples])
    extra: dict[str, float] = {}
    if known:
        rows = [i for i, e in enumerate(examples) if set(e.labels) <= set(model.labels)]
        targets = _targets(known, model.labels, config.multi_label)
        before = probabilities_of(logits[rows], 1.0, config.multi_label)
        extra["ece_uncalibrated"] = expected_calibration_error(before, targets, config.multi_label)
        if fit and config.calibrate:
            model.set_temperature(fit_temperature(logits[rows], targets, config.multi_label))
        after = probabilities_of(logits[rows], float(model.temperature), config.multi_label)
        extra["ece"] = expected_calibration_error(after, targets, config.multi_label)
        extra["temperature"] = float(model.temperature)
    probabilities = probabilities_of(logits, float(model.temperature), config.multi_label)
    gold = [list(e.labels) for e in examples]
    if fit and config.fit_threshold and examples:

        def main_score(threshold: float) -> float:
            guess = predicted_labels(probabilities, model.labels, True, threshold)
            return score_labels(gold, guess, True).main_score

        model.set_threshold(fit_threshold(main_score))
        extra["threshold"] = float(model.threshold)
    report = score_labels(gold, model.predicted(probabilities), config.multi_label)
    return report, extra


class ClassificationTask:
    """Labels of whole texts from pooled token states."""

    name = "classification"

    def read_examples(
        self, path: Path, data: DataConfig, format: str | None = None
    ) -> list[TextExample]:
        """Return the labelled texts of a file (jsonl, csv or tsv)."""
        return read_texts(
            check_data_file(path), format or data.format, data.text_field, data.label_field
        )

    def build(
        self, config: ClassificationConfig, vocab_sizes: dict[str, int], labels: list[str]
    ) -> TextClassifier:
        """Return an untrained classifier over the classes `labels`."""
        return TextClassifier(config.model, vocab_sizes, labels)

    def upgrade_state_dict(self, state: dict[str, Any]) -> dict[str, Any]:
        """Return saved weights unchanged (no older classifier layout exists)."""
        return state

    def prepare(
        self, config: ClassificationConfig, splits: Splits, teacher: LoadedModel | None = None
    ) -> Prepared:
        """Return a new classifier over `splits.train`, its batches and its dev evaluation."""
        model_config = config.model
        _check_labels(splits.train, model_config.multi_label)
        labels = sorted({label for example in splits.train for label in example.labels})
        dev_labels = {label for example in splits.dev for label in example.labels}
        warn_unknown_labels("dev", dev_labels, set(labels), "in the dev data")
        if len(labels) < 2 and not model_config.multi_label:
            raise ConfigError(f"classification needs at least 2 labels in train, found {labels}")
        inputs = prepare_inputs(
            [text_tokens(e.text, model_config) for e in splits.train], model_config
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.train.seed)
            weights = class_weights(splits.train, labels, model_config)
            model = TextClassifier(model_config, inputs.vocabs.sizes(), labels, weights)
        model.token_encoder.init_pretrained(inputs)
        vocabs = inputs.vocabs
        features = encode_texts([e.text for e in splits.train], vocabs, model_config)
        targets = _targets(splits.train, labels, model_config.multi_label)
        if config.train.distill is not None:
            texts = [e.text for e in splits.train]
            targets = distilled_targets(
                config, teacher, targets, labels, model_config.multi_label,
                lambda t: text_logits(t.model, t.vocabs, texts),
            )  # fmt: skip
        rows = list(zip(features, targets, strict=True))

        def collate(items: list[Any]) -> Any:
            return collate_texts([x for x, _ in items], torch.stack([t for _, t in items]))

        def evaluate() -> tuple[float, dict[str, Any]]:
            report, extra = evaluate_texts(model, vocabs, splits.dev, fit=True)
            return report.main_score, {**report.summary(), **extra}

        return Prepared(
            model=model,
            vocabs=vocabs,
            labels=labels,
            train_size=len(rows),
            batches=epoch_batches(
                rows, [len(x) for x in features], config.train.batch_size, collate
            ),
            evaluate=evaluate if splits.dev else None,
        )

    def report(self, loaded: LoadedModel, examples: Sequence[TextExample]) -> ClassificationReport:
        """Return the classification report of a loaded classifier on labelled texts."""
        gold = {label for example in examples for label in example.labels}
        warn_unknown_labels("gold", gold, set(loaded.model.labels), "in the evaluated data")
        return evaluate_texts(loaded.model, loaded.vocabs, examples)[0]

    def predictor(self, loaded: LoadedModel, path: Path, precision: str, runtime: str) -> Any:
        """Return a `ClassificationPredictor` (torch runtime only)."""
        from nerkit.tasks.classification.predictor import ClassificationPredictor

        if runtime != "torch":
            raise ArtifactError(f"{path} is a classification model: only the torch runtime runs it")
        return ClassificationPredictor(loaded, path, precision)

    def ensemble(self, members: Sequence[LoadedModel]) -> Any:
        """Return the `CalibratedEnsemble` of text classifiers trained from one config."""
        from nerkit.tasks.ensemble import calibrated_ensemble

        return calibrated_ensemble(members, "classification")


TASK = ClassificationTask()
