"""The tagger: embed -> encode -> project to C tag scores -> head, as one module.

Shapes: B batch, T padded length, C tags (len(tags)); see `nerkit.models.features`
for the batch fields.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nerkit.encoders import build_encoder
from nerkit.models.config import ModelConfig
from nerkit.models.embedding import Embedder
from nerkit.models.features import Batch
from nerkit.models.heads import build_head
from nerkit.schemes import parse_scheme, transition_mask


class Tagger(nn.Module):
    """A sequence tagger over the tag list `tags` (tag strings of `config.scheme`)."""

    def __init__(self, config: ModelConfig, vocab_sizes: dict[str, int], tags: list[str]) -> None:
        super().__init__()
        self.config, self.tags = config, list(tags)
        self.embedder = Embedder(config, vocab_sizes)
        self.encoder = build_encoder(config.encoder, self.embedder.output_dim)
        self.projection = nn.Linear(self.encoder.output_dim, len(tags))
        allowed = torch.tensor(transition_mask(self.tags, parse_scheme(config.scheme)))
        self.head = build_head(config.head, len(tags), allowed)

    def emissions(self, batch: Batch) -> Tensor:
        """Return the unnormalised tag scores (B, T, C)."""
        states = self.encoder(self.embedder(batch), batch.mask)
        return self.projection(states)

    def loss(self, batch: Batch) -> Tensor:
        """Return the training loss of a batch with gold `tags`, a scalar."""
        if batch.tags is None:
            raise ValueError("loss() needs a batch with gold tags (featurize with tags=...)")
        return self.head.loss(self.emissions(batch), batch.tags, batch.mask)

    @torch.no_grad()
    def decode(self, batch: Batch) -> list[list[int]]:
        """Return the best tag ids of every sequence, each as long as its mask."""
        return self.head.decode(self.emissions(batch), batch.mask)

    @torch.no_grad()
    def decode_with_probabilities(self, batch: Batch) -> tuple[list[list[int]], Tensor]:
        """Return the best tag ids and the (B, T, C) posterior tag probabilities."""
        emissions = self.emissions(batch)
        paths = self.head.decode(emissions, batch.mask)
        return paths, self.head.probabilities(emissions, batch.mask)

    @torch.no_grad()
    def probabilities(self, batch: Batch) -> Tensor:
        """Return the posterior tag probabilities (B, T, C): CRF marginals or softmax."""
        return self.head.probabilities(self.emissions(batch), batch.mask)

    def vocab_sizes(self) -> dict[str, int]:
        """Return the vocabulary sizes this tagger was built for."""
        sizes = {"tokens": self.embedder.tokens.num_embeddings}
        if self.embedder.bigrams is not None:
            sizes["bigrams"] = self.embedder.bigrams.num_embeddings
        if self.embedder.chars is not None:
            sizes["chars"] = self.embedder.chars.embedding.num_embeddings
        return sizes
