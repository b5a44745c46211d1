"""The token encoder every task builds on: features -> encoder (-> optional top) -> (B, T, H).

`TokenEncoder` embeds a `Batch` of token features (`nerkit.encoders.features`) with the
`Embedder`, or lets a pretrained transformer embed its own sub-words, runs the configured
sequence encoder and, for pretrained encoders with `top` set, a BiLSTM or IDCNN over its
token states. Task heads (tag scores, pooled text classes, entity pairs) sit on the states
and own their projections.

`prepare_inputs` is the one recipe that turns training sentences into vocabularies with the
configured pretrained vectors, and `TokenEncoder.init_pretrained` copies those vectors in:
training, benchmarks and every task call these two, so none of them can skip a step.

Shapes: B batch, T padded length, H `output_dim`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from nerkit.encoders import build_encoder, is_pretrained
from nerkit.encoders.config import TokenModelConfig
from nerkit.encoders.embedding import Embedder
from nerkit.encoders.features import Batch, Vocabs, build_vocabs
from nerkit.encoders.vectors import (
    add_bigrams,
    init_embeddings,
    read_bigram_vectors,
    read_vectors,
)

__all__ = ["TokenEncoder", "TokenInputs", "parameter_groups", "prepare_inputs"]


@dataclass
class TokenInputs:
    """The vocabularies of a new model and the pretrained vectors to copy into it."""

    vocabs: Vocabs
    token_vectors: dict[str, list[float]] | None = None
    bigram_vectors: dict[str, list[float]] | None = None


def prepare_inputs(sentences: Iterable[Sequence[str]], config: TokenModelConfig) -> TokenInputs:
    """Return the vocabularies over training sentences plus the configured pretrained vectors.

    Every vector's token joins its vocabulary, so a token unseen in training keeps its
    pretrained vector at prediction time.
    """
    features = config.features
    tokens = None
    if features.pretrained is not None:
        tokens = read_vectors(features.pretrained, features.token_dim)
    bigrams = read_bigram_vectors(config)
    vocabs = build_vocabs(sentences, config, extra_tokens=tokens or ())
    if bigrams is not None:
        add_bigrams(vocabs, bigrams)
    return TokenInputs(vocabs, tokens, bigrams)


class TokenEncoder(nn.Module):
    """Features + sequence encoder (+ top layer): a `Batch` -> token states (B, T, H)."""

    def __init__(self, config: TokenModelConfig, vocab_sizes: dict[str, int]) -> None:
        super().__init__()
        self.config = config
        # a pretrained encoder embeds its own sub-words (batch.pieces): no nerkit embedder
        pretrained = is_pretrained(config.encoder)
        self.embedder = None if pretrained else Embedder(config, vocab_sizes)
        input_dim = self.embedder.output_dim if self.embedder is not None else 0
        self.encoder = build_encoder(config.encoder, input_dim)
        top = getattr(config.encoder, "top", None)
        self.top = build_encoder(top, self.encoder.output_dim) if top is not None else None
        self.output_dim: int = (self.top or self.encoder).output_dim

    def forward(self, batch: Batch) -> Tensor:
        """Return the token states (B, T, H) of a batch."""
        if self.embedder is None:
            if batch.pieces is None or batch.piece_tokens is None:
                raise ValueError("a pretrained encoder needs sub-words (Vocabs.subwords unset)")
            states = self.encoder(batch.pieces, batch.piece_tokens, batch.mask)
        else:
            states = self.encoder(self.embedder(batch), batch.mask)
        return states if self.top is None else self.top(states, batch.mask)

    @property
    def subwords(self) -> Any:
        """Return the pretrained encoder's `SubwordTokenizer`, or None for other encoders."""
        return getattr(self.encoder, "subwords", None) if self.embedder is None else None

    def init_pretrained(self, inputs: TokenInputs) -> None:
        """Copy the prepared vectors in; give the vocabularies a pretrained encoder's tokenizer."""
        inputs.vocabs.subwords = self.subwords
        if self.embedder is not None:
            init_embeddings(
                self.embedder, self.config, inputs.vocabs, inputs.token_vectors,
                inputs.bigram_vectors,
            )  # fmt: skip

    def pretrained_parameters(self) -> list[nn.Parameter]:
        """Return the pretrained transformer's trainable parameters (they have their own lr)."""
        if self.embedder is not None:
            return []
        return self.encoder.pretrained_parameters()

    def vocab_sizes(self) -> dict[str, int]:
        """Return the vocabulary sizes this encoder was built for."""
        if self.embedder is None:
            return {}
        sizes = {"tokens": self.embedder.tokens.num_embeddings}
        if self.embedder.bigrams is not None:
            sizes["bigrams"] = self.embedder.bigrams.num_embeddings
        if self.embedder.chars is not None:
            sizes["chars"] = self.embedder.chars.embedding.num_embeddings
        return sizes


def parameter_groups(model: nn.Module, encoder: TokenEncoder, lr: float) -> list[dict[str, Any]]:
    """Return optimizer parameter groups of `model`: its pretrained transformer at its own lr."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    special = {id(p) for p in encoder.pretrained_parameters()}
    if not special:
        return [{"params": trainable, "lr": lr}]
    rest = [p for p in trainable if id(p) not in special]
    encoder_lr = encoder.config.encoder.lr  # type: ignore[union-attr]
    return [
        {"params": rest, "lr": lr},
        {"params": encoder.pretrained_parameters(), "lr": encoder_lr},
    ]
