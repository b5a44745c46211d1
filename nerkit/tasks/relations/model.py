"""The relation classifier: token encoder over marked tokens -> pooling at the markers -> linear.

Single-label models score the classes with one softmax (cross-entropy); multi-label models
with independent sigmoids (binary cross-entropy). The calibration temperature (a buffer,
fitted on dev by `nerkit.tasks.relations.task`) divides the logits; single-label predictions
never change with it.

Shapes: B batch (pairs), T padded length, H token-state size, C classes.
    heads, tails (B, 2) long  positions of the (start marker, end marker) of e1 / e2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nerkit.encoders.features import Batch, Instance, Vocabs, collate, featurize
from nerkit.encoders.pooling import Pooling
from nerkit.encoders.token import TokenEncoder
from nerkit.tasks.calibrated import CalibratedClassifier, sorted_logits
from nerkit.tasks.relations.config import RelationModelConfig
from nerkit.tasks.relations.data import Marked

__all__ = [
    "PairBatch",
    "PairRow",
    "RelationClassifier",
    "collate_pairs",
    "encode_pairs",
    "pair_logits",
]


@dataclass(frozen=True)
class PairRow:
    """The id features of one marked pair and its marker positions."""

    instance: Instance
    head: tuple[int, int]
    tail: tuple[int, int]

    def __len__(self) -> int:
        return len(self.instance)


@dataclass
class PairBatch:
    """Token features of B marked pairs, their marker positions and, in training, targets."""

    inputs: Batch
    heads: Tensor  # (B, 2)
    tails: Tensor  # (B, 2)
    targets: Tensor | None = None  # (B,) long class ids, or (B, C) float 0/1 (multi-label)

    def __len__(self) -> int:
        return len(self.inputs)


def _entity_mean(states: Tensor, marks: Tensor) -> Tensor:
    """Return (B, H): the mean state strictly between each row's two markers."""
    positions = torch.arange(states.size(1), device=states.device)  # (T,)
    inside = (positions > marks[:, :1]) & (positions < marks[:, 1:])  # (B, T)
    # an entity whose tokens were all cropped away falls back to its start marker
    empty = ~inside.any(dim=1, keepdim=True)
    inside = inside | (empty & (positions == marks[:, :1]))
    weights = inside.unsqueeze(2).to(states.dtype)
    return (states * weights).sum(dim=1) / weights.sum(dim=1)


class RelationClassifier(CalibratedClassifier):
    """Classifies entity pairs into `labels` (single-label softmax, or multi-label sigmoids)."""

    def __init__(
        self, config: RelationModelConfig, vocab_sizes: dict[str, int], labels: list[str]
    ) -> None:
        super().__init__()
        self.config, self.labels = config, list(labels)
        self.token_encoder = TokenEncoder(config, vocab_sizes)
        dim = self.token_encoder.output_dim
        self.dropout = nn.Dropout(config.dropout)
        # the whole marked sentence pooled beside the two start states
        sentence = {"entity_start_max": "max", "entity_start_attention": "attention"}
        kind = sentence.get(config.pooling)
        self.sentence = Pooling(kind, dim) if kind is not None else None
        parts = 3 if self.sentence is not None else 2
        self.projection = nn.Linear(parts * dim, len(labels))
        self.init_calibration()
        self.precision = "fp32"

    def pooled(self, states: Tensor, heads: Tensor, tails: Tensor, mask: Tensor) -> Tensor:
        """Return the pair vectors (B, 2H), or (B, 3H), of token states (B, T, H)."""
        if self.config.pooling == "entity_mean":
            return torch.cat([_entity_mean(states, heads), _entity_mean(states, tails)], dim=1)
        rows = torch.arange(states.size(0), device=states.device)
        starts = [states[rows, heads[:, 0]], states[rows, tails[:, 0]]]
        if self.sentence is not None:
            starts.append(self.sentence(states, mask))
        return torch.cat(starts, dim=1)

    def logits(self, batch: PairBatch) -> Tensor:
        """Return the unnormalised class scores (B, C), float32 whatever the precision."""
        inputs = batch.inputs
        device = inputs.mask.device.type
        with torch.autocast(device, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            states = self.token_encoder(inputs)  # (B, T, H)
            pooled = self.pooled(states, batch.heads, batch.tails, inputs.mask)
            return self.projection(self.dropout(pooled)).float()


def encode_pairs(
    marked: Sequence[Marked], vocabs: Vocabs, config: RelationModelConfig
) -> list[PairRow]:
    """Return the id features of marked pairs."""
    return [PairRow(featurize(m.tokens, vocabs, config), m.head, m.tail) for m in marked]


def collate_pairs(rows: Sequence[PairRow], targets: Tensor | None = None) -> PairBatch:
    """Pad rows into a `PairBatch` with optional targets (rows in the same order)."""
    heads = torch.tensor([row.head for row in rows], dtype=torch.long)
    tails = torch.tensor([row.tail for row in rows], dtype=torch.long)
    return PairBatch(collate([row.instance for row in rows]), heads, tails, targets)


def pair_logits(model: RelationClassifier, rows: Sequence[PairRow], batch_size: int = 64) -> Tensor:
    """Return the logits (N, C) of rows in their order; batches are sorted by length."""
    return sorted_logits(model, rows, collate_pairs, batch_size)
