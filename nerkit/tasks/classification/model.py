"""The text classifier: token encoder -> pooling -> dropout -> linear, with a temperature.

Single-label models score classes with one softmax (cross-entropy loss, optionally class
weighted); multi-label models with independent sigmoids (binary cross-entropy). The
calibration temperature T (a buffer, fitted on dev by `nerkit.tasks.classification.task`)
divides the logits before the softmax or sigmoid; single-label predictions never change
with T.

Shapes: B batch, T padded length, H token-state size, C classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nerkit.data.tokenize import tokenize
from nerkit.encoders.features import Batch, Instance, Vocabs, collate, featurize
from nerkit.encoders.pooling import Pooling
from nerkit.encoders.token import TokenEncoder
from nerkit.tasks.calibrated import CalibratedClassifier, sorted_logits
from nerkit.tasks.classification.config import ClassifierConfig

__all__ = [
    "ClassBatch",
    "TextClassifier",
    "collate_texts",
    "encode_texts",
    "text_logits",
    "text_tokens",
]


@dataclass
class ClassBatch:
    """Token features of B texts and, in training, their targets."""

    inputs: Batch
    targets: Tensor | None = None  # (B,) long class ids, or (B, C) float 0/1 (multi-label)

    def __len__(self) -> int:
        return len(self.inputs)


class TextClassifier(CalibratedClassifier):
    """Classifies texts into `labels` (single-label softmax, or multi-label sigmoids)."""

    def __init__(
        self,
        config: ClassifierConfig,
        vocab_sizes: dict[str, int],
        labels: list[str],
        class_weights: list[float] | None = None,
    ) -> None:
        super().__init__()
        self.config, self.labels = config, list(labels)
        self.token_encoder = TokenEncoder(config, vocab_sizes)
        dim = self.token_encoder.output_dim
        self.pooling = Pooling(config.pooling, dim)
        self.dropout = nn.Dropout(config.dropout)
        self.projection = nn.Linear(dim, len(labels))
        weights = torch.tensor(class_weights or [1.0] * len(labels), dtype=torch.float32)
        self.register_buffer("class_weights", weights)
        self.init_calibration()
        self.precision = "fp32"

    def logits(self, batch: ClassBatch) -> Tensor:
        """Return the unnormalised class scores (B, C), float32 whatever the precision."""
        inputs = batch.inputs
        device = inputs.mask.device.type
        with torch.autocast(device, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            states = self.token_encoder(inputs)  # (B, T, H)
            pooled = self.pooling(states, inputs.mask)
            return self.projection(self.dropout(pooled)).float()

    def class_weight(self) -> Tensor:
        """Return the per-class loss weights (C,) of `model.class_weights`."""
        return self.class_weights


def text_tokens(text: str, config: ClassifierConfig) -> list[str]:
    """Return the token strings a classifier reads: the first `max_length` (one "" if none)."""
    tokens = [token.text for token in tokenize(text, mode=config.tokenization)]
    return tokens[: config.max_length] or [""]  # an empty text is one unknown token


def encode_texts(texts: Sequence[str], vocabs: Vocabs, config: ClassifierConfig) -> list[Instance]:
    """Return the id features of each text's `text_tokens`."""
    return [featurize(text_tokens(text, config), vocabs, config) for text in texts]


def collate_texts(instances: Sequence[Instance], targets: Tensor | None = None) -> ClassBatch:
    """Pad instances into a `ClassBatch` with optional targets (rows in the same order)."""
    return ClassBatch(collate(instances), targets)


def text_logits(
    model: TextClassifier, vocabs: Vocabs, texts: Sequence[str], batch_size: int = 64
) -> Tensor:
    """Return the logits (N, C) of texts in their order; batches are sorted by length."""
    instances = encode_texts(texts, vocabs, model.config)
    return sorted_logits(model, instances, collate_texts, batch_size)
