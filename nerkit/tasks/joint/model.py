"""`JointModel`: a tagger whose token states also feed a classifier of entity pairs.

One token encoder pass gives the states (B, T, H); the tagging head reads them as a
`Tagger`'s does, and the pair head pools, for each pair, the mean state of the head
entity, of the tail entity, the maximum over the states strictly between the two (zeros
when they touch or overlap) and the two entity type embeddings, then one hidden layer
into the classes (relations and no-relation; softmax, a dev-fitted temperature). The
training loss is the tagging loss plus `relation_weight` times the pairs' mean
cross-entropy; the pairs are those of the gold entities (`nerkit.tasks.joint.data`).

`output_labels` (labels.json) lists the tags, then each class as "relation:<class>".

Shapes: B rows, T padded length, H token-state size, P pairs of the batch, C classes.
    rows (P,) long       the batch row of each pair
    spans (P, 4) long    head start, head end, tail start, tail end (token offsets, end
                         exclusive)
    types (P, 2) long    head and tail type ids (`data.type_id`: 0 is unknown)
    targets (P,) long    class ids (training)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nerkit.encoders.features import Batch, Instance, collate
from nerkit.schemes import split_tag
from nerkit.tasks.joint.config import JointModelConfig
from nerkit.tasks.joint.data import Pair
from nerkit.tasks.tagging.model import Tagger

__all__ = ["CLASS_PREFIX", "JointBatch", "JointModel", "collate_joint", "split_labels"]

CLASS_PREFIX = "relation:"


def split_labels(labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """Return (tags, classes) of a joint model's labels.json."""
    tags = [label for label in labels if not label.startswith(CLASS_PREFIX)]
    classes = [label[len(CLASS_PREFIX) :] for label in labels if label.startswith(CLASS_PREFIX)]
    return tags, classes


@dataclass
class JointBatch:
    """Token features of B rows and the P entity pairs to classify in them."""

    inputs: Batch
    rows: Tensor  # (P,)
    spans: Tensor  # (P, 4)
    types: Tensor  # (P, 2)
    targets: Tensor | None = None  # (P,)

    def __len__(self) -> int:
        return len(self.inputs)


def collate_joint(
    instances: Sequence[Instance],
    pairs: Sequence[Sequence[Pair]],
    targets: Sequence[Sequence[int]] | None = None,
) -> JointBatch:
    """Pad rows into a `JointBatch`; `pairs[b]` are row b's pairs, `targets[b]` their classes."""
    rows = [b for b, row in enumerate(pairs) for _ in row]
    flat = [pair for row in pairs for pair in row]
    spans = torch.tensor([[*p.head, *p.tail] for p in flat], dtype=torch.long).view(-1, 4)
    types = torch.tensor([[p.head_type, p.tail_type] for p in flat], dtype=torch.long).view(-1, 2)
    target = None
    if targets is not None:
        target = torch.tensor([t for row in targets for t in row], dtype=torch.long)
    return JointBatch(collate(instances), torch.tensor(rows, dtype=torch.long), spans, types,
                      target)  # fmt: skip


def _range_mask(length: int, start: Tensor, end: Tensor) -> Tensor:
    """Return (P, T) True where start <= t < end."""
    positions = torch.arange(length, device=start.device)
    return (positions >= start.unsqueeze(1)) & (positions < end.unsqueeze(1))


class JointModel(Tagger):
    """Entities (the `Tagger` it is) and the relations of entity pairs over one encoder."""

    def __init__(self, config: JointModelConfig, vocab_sizes: dict[str, int], labels: list[str]):
        tags, classes = split_labels(labels)
        super().__init__(config, vocab_sizes, tags)
        self.classes = classes
        self.types = sorted({label for tag in tags if (label := split_tag(tag)[1])})
        dim = self.token_encoder.output_dim
        self.type_embedding = nn.Embedding(len(self.types) + 1, config.type_dim)
        self.pair_layer = nn.Sequential(
            nn.Dropout(config.pair_dropout),
            nn.Linear(3 * dim + 2 * config.type_dim, config.pair_hidden),
            nn.ReLU(),
            nn.Dropout(config.pair_dropout),
            nn.Linear(config.pair_hidden, len(classes)),
        )
        self.register_buffer("pair_temperature", torch.tensor(1.0))

    @property
    def output_labels(self) -> list[str]:
        """Return the tags, then the classes prefixed with "relation:" (labels.json)."""
        return [*self.tags, *(CLASS_PREFIX + c for c in self.classes)]

    def pair_logits(self, states: Tensor, batch: JointBatch) -> Tensor:
        """Return the class scores (P, C) of the batch's pairs from token states (B, T, H)."""
        rows, spans = batch.rows, batch.spans
        chosen = states[rows]  # (P, T, H)
        length = states.size(1)
        parts = []
        for start, end in ((spans[:, 0], spans[:, 1]), (spans[:, 2], spans[:, 3])):
            inside = _range_mask(length, start, end).unsqueeze(2).to(chosen.dtype)
            parts.append((chosen * inside).sum(dim=1) / inside.sum(dim=1).clamp(min=1.0))
        left = torch.minimum(spans[:, 1], spans[:, 3])
        right = torch.maximum(spans[:, 0], spans[:, 2])
        between = _range_mask(length, left, right).unsqueeze(2)  # empty when they touch
        lowest = torch.finfo(chosen.dtype).min
        context = chosen.masked_fill(~between, lowest).max(dim=1).values
        parts.append(torch.where(between.any(dim=1), context, torch.zeros_like(context)))
        types = self.type_embedding(batch.types).flatten(1).to(chosen.dtype)  # (P, 2 * D)
        return self.pair_layer(torch.cat([*parts, types], dim=1)).float()

    def forward_pairs(self, batch: JointBatch) -> Tensor:
        """Return the class scores (P, C) of a batch's pairs (one encoder pass)."""
        device = batch.inputs.mask.device.type
        with torch.autocast(device, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            return self.pair_logits(self.token_encoder(batch.inputs), batch)

    def loss(self, batch: JointBatch) -> Tensor:  # type: ignore[override]
        """Return the tagging loss plus `relation_weight` x the mean pair cross-entropy."""
        inputs = batch.inputs
        if inputs.tags is None or batch.targets is None:
            raise ValueError("loss() needs a batch with gold tags and pair targets")
        device = inputs.mask.device.type
        with torch.autocast(device, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            states = self.token_encoder(inputs)
            emissions = self.head.project(states).float()
            loss = self.head.loss(emissions, inputs.tags, inputs.mask)
            if batch.targets.numel():
                logits = self.pair_logits(states, batch)
                pair_loss = nn.functional.cross_entropy(logits, batch.targets)
                loss = loss + self.config.relation_weight * pair_loss
        return loss
