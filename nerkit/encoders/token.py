"""The token encoder every task builds on: features -> encoder (-> optional top) -> (B, T, H).

`TokenEncoder` embeds a `Batch` of token features (`nerkit.encoders.features`) with the
`Embedder`, or lets a pretrained transformer embed its own sub-words, runs the configured
sequence encoder and, for pretrained encoders with `top` set, a BiLSTM or IDCNN over its
token states. Task heads (tag scores, pooled text classes, entity pairs) sit on the states
and own their projections. Lexicon features (`model.features.lexicon`) join the `Embedder`'s
token features; a pretrained encoder, which has no embedder, gets them concatenated to its
token states instead, before `top` and the head.

`prepare_inputs` is the one recipe that turns training sentences into vocabularies with the
configured pretrained vectors, and `TokenEncoder.init_pretrained` copies those vectors in:
training, benchmarks and every task call these two, so none of them can skip a step.

Shapes: B batch, T padded length, H `output_dim`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from nerkit.encoders import build_encoder, is_pretrained
from nerkit.encoders.config import TokenModelConfig
from nerkit.encoders.embedding import Embedder, lexicon_embedding, lexicon_features
from nerkit.encoders.features import Batch, Vocabs, build_vocabs
from nerkit.encoders.lexicon import SoftLexiconEmbedding, prepare_lexicon
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
    lexicon_vectors: dict[str, np.ndarray] | None = None


def prepare_inputs(sentences: Iterable[Sequence[str]], config: TokenModelConfig) -> TokenInputs:
    """Return the vocabularies over training sentences plus the configured pretrained vectors.

    Every vector's token joins its vocabulary, so a token unseen in training keeps its
    pretrained vector at prediction time. The lexicon is pruned to the training sentences
    (`nerkit.encoders.lexicon.prepare_lexicon`).
    """
    features = config.features
    sentences = list(sentences)
    lexicon = prepare_lexicon(sentences, config)
    tokens = None
    if features.pretrained is not None:
        tokens = read_vectors(features.pretrained, features.token_dim)
    bigrams = read_bigram_vectors(config)
    vocabs = build_vocabs(sentences, config, extra_tokens=tokens or ())
    if bigrams is not None:
        add_bigrams(vocabs, bigrams)
    if lexicon is None:
        return TokenInputs(vocabs, tokens, bigrams)
    vocabs.lexicon = lexicon.lexicon
    return TokenInputs(vocabs, tokens, bigrams, lexicon.vectors)


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
        # lexicon features of a pretrained encoder join its token states (no embedder)
        self.lexicon = lexicon_embedding(config, vocab_sizes) if pretrained else None
        states_dim = self.encoder.output_dim + (self.lexicon.output_dim if self.lexicon else 0)
        top = getattr(config.encoder, "top", None)
        self.top = build_encoder(top, states_dim) if top is not None else None
        self.output_dim: int = self.top.output_dim if self.top is not None else states_dim

    def forward(self, batch: Batch) -> Tensor:
        """Return the token states (B, T, H) of a batch."""
        if self.embedder is None:
            if batch.pieces is None or batch.piece_tokens is None:
                raise ValueError("a pretrained encoder needs sub-words (Vocabs.subwords unset)")
            states = self.encoder(batch.pieces, batch.piece_tokens, batch.mask)
            if self.lexicon is not None:
                words = lexicon_features(self.lexicon, batch).to(states.dtype)
                states = torch.cat([states, words], dim=2)
        else:
            states = self.encoder(self.embedder(batch), batch.mask)
        return states if self.top is None else self.top(states, batch.mask)

    @property
    def subwords(self) -> Any:
        """Return the pretrained encoder's `SubwordTokenizer`, or None for other encoders."""
        return getattr(self.encoder, "subwords", None) if self.embedder is None else None

    def add_tokens(self, tokens: Sequence[str]) -> list[str]:
        """Make `tokens` one piece each of a pretrained encoder's vocabulary; return those added.

        Other encoders learn every training token in their own vocabulary: nothing to do.
        """
        return self.encoder.add_tokens(tokens) if self.subwords is not None else []

    def init_pretrained(self, inputs: TokenInputs) -> None:
        """Copy the prepared vectors in; give the vocabularies a pretrained encoder's tokenizer."""
        inputs.vocabs.subwords = self.subwords
        if self.embedder is not None:
            init_embeddings(
                self.embedder, self.config, inputs.vocabs, inputs.token_vectors,
                inputs.bigram_vectors,
            )  # fmt: skip
        lexicon = self.lexicon_embedding
        if lexicon is not None and inputs.lexicon_vectors is not None:
            assert inputs.vocabs.lexicon is not None
            lexicon.load_vectors(inputs.vocabs.lexicon.id_words(), inputs.lexicon_vectors)

    @property
    def lexicon_embedding(self) -> SoftLexiconEmbedding | None:
        """Return the SoftLexicon pooling module (the embedder's, or a pretrained encoder's)."""
        return self.embedder.lexicon if self.embedder is not None else self.lexicon

    def pretrained_parameters(self) -> list[nn.Parameter]:
        """Return the pretrained transformer's trainable parameters (they have their own lr)."""
        if self.embedder is not None:
            return []
        return self.encoder.pretrained_parameters()

    def vocab_sizes(self) -> dict[str, int]:
        """Return the vocabulary sizes this encoder was built for."""
        lexicon = self.lexicon_embedding
        lexicon_rows = {} if lexicon is None else {"lexicon": lexicon.embedding.num_embeddings}
        if self.embedder is None:
            return lexicon_rows
        sizes = {"tokens": self.embedder.tokens.num_embeddings}
        if self.embedder.bigrams is not None:
            sizes["bigrams"] = self.embedder.bigrams.num_embeddings
        if self.embedder.chars is not None:
            sizes["chars"] = self.embedder.chars.embedding.num_embeddings
        return {**sizes, **lexicon_rows}


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
