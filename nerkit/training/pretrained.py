"""Pretrained token vectors from a word2vec/GloVe text file, copied into an embedding table.

The file holds one ``token v1 ... vD`` line per token, optionally after a
``count dimension`` header line (word2vec). Vectors of another dimension than the
model's `token_dim` are an error that says which.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from nerkit.errors import DataFormatError
from nerkit.vocab import Vocabulary

logger = logging.getLogger(__name__)


def read_vectors(path: Path, dim: int) -> dict[str, list[float]]:
    """Return token -> vector from a text file; raise DataFormatError on a malformed line."""
    vectors: dict[str, list[float]] = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").rstrip().split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header
            if len(parts) != dim + 1:
                raise DataFormatError(
                    path, number, f"expected a token and {dim} numbers, got {len(parts)} fields",
                    hint="set model.features.token_dim to the dimension of the vectors",
                )  # fmt: skip
            try:
                vectors.setdefault(parts[0], [float(v) for v in parts[1:]])
            except ValueError:
                raise DataFormatError(path, number, "a vector value is not a number") from None
    return vectors


def copy_vectors(
    embedding: nn.Embedding, vocab: Vocabulary, vectors: dict[str, list[float]], freeze: bool
) -> int:
    """Copy the vector of every vocabulary entry that has one; return how many were found."""
    found = 0
    with torch.no_grad():
        for index, token in enumerate(vocab.items):
            vector = vectors.get(token)
            if vector is not None and index > 1:
                embedding.weight[index] = torch.tensor(vector)
                found += 1
    embedding.weight.requires_grad_(not freeze)
    logger.info("pretrained vectors for %d of %d tokens", found, len(vocab))
    return found
