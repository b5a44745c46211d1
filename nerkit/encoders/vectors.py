"""Pretrained token and bigram vectors from word2vec/GloVe text files, copied into embeddings.

A file holds one ``token v1 ... vD`` line per token, optionally after a
``count dimension`` header line (word2vec). `model.features.pretrained` initialises the
token table (its dimension must be `token_dim`), `model.features.bigram_pretrained` the
character-bigram table (two-character strings, dimension `bigram_dim`, char mode only).
Every vector's token joins its vocabulary, so a character or bigram unseen in training
still has its pretrained vector at prediction time. Tokens are matched exactly (after
`lowercase` when that is set): the file must spell them as the data does.
`benchmarks/lac_vectors.py` writes both files from Baidu's LAC.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from nerkit.encoders.config import TokenModelConfig
from nerkit.encoders.embedding import Embedder
from nerkit.encoders.features import Vocabs
from nerkit.errors import ConfigError, DataFormatError
from nerkit.vocab import Vocabulary

logger = logging.getLogger(__name__)


def read_vectors(
    path: Path, dim: int, setting: str = "model.features.token_dim"
) -> dict[str, list[float]]:
    """Return token -> vector from a text file; raise DataFormatError on a malformed line."""
    vectors: dict[str, list[float]] = {}
    if not Path(path).is_file():
        raise ConfigError(
            f"pretrained vectors: expected a word2vec text file, found no file {path}"
        )
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").rstrip().split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header
            if len(parts) != dim + 1:
                raise DataFormatError(
                    path, number, f"expected a token and {dim} numbers, got {len(parts)} fields",
                    hint=f"set {setting} to the dimension of the vectors",
                )  # fmt: skip
            try:
                vectors.setdefault(parts[0], [float(v) for v in parts[1:]])
            except ValueError:
                raise DataFormatError(path, number, "a vector value is not a number") from None
    return vectors


def copy_vectors(
    embedding: nn.Embedding, vocab: Vocabulary, vectors: dict[str, list[float]], freeze: bool
) -> int:
    """Copy the vector of every vocabulary entry that has one; return how many were found.

    The rows left without a vector keep their random initialisation, rescaled to the
    standard deviation of the pretrained vectors: word2vec-style tables (std ~0.3) and
    nn.Embedding's N(0, 1) differ threefold, and the rarer random rows would otherwise
    dominate the input of the encoder.
    """
    found = torch.zeros(len(vocab), dtype=torch.bool)
    with torch.no_grad():
        for index, token in enumerate(vocab.items):
            vector = vectors.get(token)
            if vector is not None and index > 1:
                embedding.weight[index] = torch.tensor(vector)
                found[index] = True
        rest = ~found
        rest[0] = False  # padding stays zero
        if found.any() and rest.sum() > 1:
            scale = embedding.weight[found].std() / embedding.weight[rest].std()
            embedding.weight[rest] *= scale
    embedding.weight.requires_grad_(not freeze)
    count = int(found.sum())
    logger.info("pretrained vectors for %d of %d tokens", count, len(vocab))
    return count


def read_bigram_vectors(config: TokenModelConfig) -> dict[str, list[float]] | None:
    """Return the bigram vectors of `features.bigram_pretrained`, or None when unset."""
    features = config.features
    if features.bigram_pretrained is None:
        return None
    if config.tokenization != "char" or not features.bigram_dim:
        raise ConfigError(
            "model.features.bigram_pretrained needs character bigrams: expected "
            f"tokenization 'char' and bigram_dim > 0, found {config.tokenization!r} and "
            f"{features.bigram_dim} (set model.features.bigram_dim to the vectors' dimension)"
        )
    path = features.bigram_pretrained
    vectors = read_vectors(path, features.bigram_dim, "model.features.bigram_dim")
    return {token: vector for token, vector in vectors.items() if len(token) == 2}


def add_bigrams(vocabs: Vocabs, vectors: dict[str, list[float]]) -> None:
    """Add every pretrained bigram to the bigram vocabulary (before the model is built)."""
    if vocabs.bigrams is None:
        raise ValueError("add_bigrams needs a bigram vocabulary (bigram_dim > 0, char mode)")
    for token in vectors:
        vocabs.bigrams.add(token)


def init_embeddings(
    embedder: Embedder,
    config: TokenModelConfig,
    vocabs: Vocabs,
    tokens: dict[str, list[float]] | None,
    bigrams: dict[str, list[float]] | None,
) -> None:
    """Copy pretrained token and bigram vectors into a freshly built embedder."""
    features = config.features
    if tokens is not None:
        copy_vectors(embedder.tokens, vocabs.tokens, tokens, features.freeze_pretrained)
    if bigrams is not None and embedder.bigrams is not None and vocabs.bigrams is not None:
        freeze = features.freeze_bigram_pretrained
        copy_vectors(embedder.bigrams, vocabs.bigrams, bigrams, freeze)
