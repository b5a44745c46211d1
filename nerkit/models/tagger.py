"""The tagger: embed -> encode -> project to C tag scores -> head, as one module.

Shapes: B batch, T padded length, C tags (len(tags)); see `nerkit.models.features`
for the batch fields.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from nerkit.encoders import build_encoder, is_pretrained
from nerkit.models.config import ModelConfig
from nerkit.models.embedding import Embedder
from nerkit.models.features import Batch
from nerkit.models.heads import build_head
from nerkit.schemes import parse_scheme, transition_mask

PRECISIONS = ("fp32", "bf16")


def bf16_is_native() -> bool:
    """Return True when this CPU computes bfloat16 natively (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        return False


def resolve_precision(precision: str) -> str:
    """Return "fp32" or "bf16" for a requested precision ("auto": bf16 where native)."""
    if precision == "auto":
        return "bf16" if bf16_is_native() else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of fp32, bf16, auto; got {precision!r}")
    return precision


class Decoding(nn.Module):
    """What every tagger-like module shares: decoding its `emissions` through its `head`.

    Subclasses define `emissions(batch)` (B, T, C) and a `head` (CRF or softmax).
    """

    head: nn.Module

    def emissions(self, batch: Batch) -> Tensor:
        """Return the unnormalised tag scores (B, T, C)."""
        raise NotImplementedError

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


class Tagger(Decoding):
    """A sequence tagger over the tag list `tags` (tag strings of `config.scheme`).

    `precision` ("fp32" or "bf16") is how the tag scores are computed: in bf16 the embedder,
    encoder and projection run under CPU autocast (about 2x faster on CPUs with native
    bfloat16), while the CRF or softmax head always works on float32 scores. It is a
    run-time choice, not saved with the model.
    """

    def __init__(self, config: ModelConfig, vocab_sizes: dict[str, int], tags: list[str]) -> None:
        super().__init__()
        self.config, self.tags = config, list(tags)
        # a pretrained encoder embeds its own sub-words (batch.pieces): no nerkit embedder
        self.embedder = None if is_pretrained(config.encoder) else Embedder(config, vocab_sizes)
        input_dim = self.embedder.output_dim if self.embedder is not None else 0
        self.encoder = build_encoder(config.encoder, input_dim)
        self.projection = nn.Linear(self.encoder.output_dim, len(tags))
        allowed = torch.tensor(transition_mask(self.tags, parse_scheme(config.scheme)))
        self.head = build_head(config.head, len(tags), allowed)
        self.precision = "fp32"

    def emissions(self, batch: Batch) -> Tensor:
        """Return the unnormalised tag scores (B, T, C), float32 whatever the precision."""
        if self.embedder is None and (batch.pieces is None or batch.piece_tokens is None):
            raise ValueError("a pretrained encoder needs sub-words (Vocabs.subwords unset)")
        device = batch.mask.device.type
        with torch.autocast(device, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            if self.embedder is None:
                states = self.encoder(batch.pieces, batch.piece_tokens, batch.mask)
            else:
                states = self.encoder(self.embedder(batch), batch.mask)
            return self.projection(states).float()

    @property
    def subwords(self) -> Any:
        """Return the pretrained encoder's `SubwordTokenizer`, or None for other encoders."""
        return getattr(self.encoder, "subwords", None) if self.embedder is None else None

    def parameter_groups(self, lr: float) -> list[dict[str, Any]]:
        """Return optimizer parameter groups: the pretrained transformer at its own `lr`."""
        trainable = [p for p in self.parameters() if p.requires_grad]
        if self.embedder is not None:
            return [{"params": trainable, "lr": lr}]
        special = {id(p) for p in self.encoder.pretrained_parameters()}
        rest = [p for p in trainable if id(p) not in special]
        encoder_lr = self.config.encoder.lr  # type: ignore[union-attr]
        groups = [{"params": rest, "lr": lr}]
        if special:
            groups.append({"params": self.encoder.pretrained_parameters(), "lr": encoder_lr})
        return groups

    def loss(self, batch: Batch) -> Tensor:
        """Return the training loss of a batch, a scalar.

        Against its soft targets when it has them (distillation: `soft_tags` and
        `soft_transitions`, which already mix in the gold tags), else its gold `tags`.
        """
        if batch.soft_tags is not None and batch.soft_transitions is not None:
            emissions = self.emissions(batch)
            return self.head.soft_loss(
                emissions, batch.mask, batch.soft_tags, batch.soft_transitions
            )
        if batch.tags is None:
            raise ValueError("loss() needs a batch with gold tags (featurize with tags=...)")
        return self.head.loss(self.emissions(batch), batch.tags, batch.mask)

    def vocab_sizes(self) -> dict[str, int]:
        """Return the vocabulary sizes this tagger was built for."""
        if self.embedder is None:
            return {}
        sizes = {"tokens": self.embedder.tokens.num_embeddings}
        if self.embedder.bigrams is not None:
            sizes["bigrams"] = self.embedder.bigrams.num_embeddings
        if self.embedder.chars is not None:
            sizes["chars"] = self.embedder.chars.embedding.num_embeddings
        return sizes
