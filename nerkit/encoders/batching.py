"""Length-bucketed training batches: similar lengths in a batch, random order across batches.

Every task that trains on token sequences batches them this way; `LazyBatches` collates a
batch only when the training loop asks for it, so an epoch never holds all its tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

__all__ = ["LazyBatches", "bucketed_batches", "epoch_batches"]


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


class LazyBatches(Sequence):  # type: ignore[type-arg]
    """Batches of `items` by index lists, each collated by `collate` when it is read."""

    def __init__(
        self, items: Sequence[Any], indices: list[list[int]], collate: Callable[[list[Any]], Any]
    ) -> None:
        self.items, self.indices, self.collate = items, indices, collate

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k: int) -> Any:  # type: ignore[override]
        return self.collate([self.items[i] for i in self.indices[k]])


def epoch_batches(
    items: Sequence[Any],
    lengths: Sequence[int],
    batch_size: int,
    collate: Callable[[list[Any]], Any],
) -> Callable[[torch.Generator], LazyBatches]:
    """Return the `batches(generator)` a task hands the loop: one epoch of bucketed batches."""

    def batches(generator: torch.Generator) -> LazyBatches:
        return LazyBatches(items, bucketed_batches(lengths, batch_size, generator), collate)

    return batches
