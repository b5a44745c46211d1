"""Token features -> one vector per token: token embedding, char bigrams, word-internal chars,
SoftLexicon word sets.

Shapes: B batch, T padded length, W longest word, E output size (`output_dim`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nerkit.encoders.config import TokenModelConfig
from nerkit.encoders.features import Batch
from nerkit.encoders.lexicon import SoftLexiconEmbedding
from nerkit.encoders.recurrent import BiRNN

LEXICON_SCALE = 4.0  # Ma et al.: a token's set weights sum to 1 over the four sets


class CharCNN(nn.Module):
    """Character CNN with max-pooling over each word (Ma & Hovy 2016)."""

    def __init__(self, num_chars: int, char_dim: int, filters: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.conv = nn.Conv1d(char_dim, filters, kernel_size=3, padding=1)
        self.output_dim = filters

    def forward(self, chars: Tensor) -> Tensor:
        """Return (B, T, F) word vectors from (B, T, W) char ids."""
        batch, length, width = chars.shape
        flat = self.embedding(chars.view(-1, width)).transpose(1, 2)  # (B*T, D, W)
        states = self.conv(flat).masked_fill((chars.view(-1, width) == 0)[:, None, :], -1e4)
        return states.max(dim=2).values.clamp(min=-1e3).view(batch, length, -1)


class CharLSTM(nn.Module):
    """Character BiLSTM; a word is the concatenation of both final states (Lample et al. 2016)."""

    def __init__(self, num_chars: int, char_dim: int, hidden: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.rnn = BiRNN("lstm", char_dim, hidden)
        self.output_dim = 2 * hidden

    def forward(self, chars: Tensor) -> Tensor:
        """Return (B, T, 2 * hidden) word vectors from (B, T, W) char ids."""
        batch, length, width = chars.shape
        flat = chars.view(-1, width)
        mask = flat != 0
        mask[:, 0] = True  # a padded word is one PAD char, so every word has a last char
        states = self.rnn(self.embedding(flat), mask)  # (B*T, W, 2h)
        last = mask.sum(dim=1) - 1
        half = states.size(2) // 2
        forward = states[torch.arange(flat.size(0)), last, :half]
        backward = states[:, 0, half:]
        return torch.cat([forward, backward], dim=1).view(batch, length, -1)


class Embedder(nn.Module):
    """Concatenate every configured feature of each token, then apply dropout."""

    def __init__(self, config: TokenModelConfig, vocab_sizes: dict[str, int]) -> None:
        super().__init__()
        features = config.features
        self.tokens = nn.Embedding(vocab_sizes["tokens"], features.token_dim, padding_idx=0)
        self.output_dim = features.token_dim
        self.bigrams: nn.Embedding | None = None
        if "bigrams" in vocab_sizes:
            self.bigrams = nn.Embedding(vocab_sizes["bigrams"], features.bigram_dim, padding_idx=0)
            self.output_dim += 2 * features.bigram_dim
        self.chars: nn.Module | None = None
        if "chars" in vocab_sizes:
            if features.char_encoder == "cnn":
                self.chars = CharCNN(vocab_sizes["chars"], features.char_dim, features.char_hidden)
            else:
                self.chars = CharLSTM(vocab_sizes["chars"], features.char_dim, features.char_hidden)
            self.output_dim += self.chars.output_dim
        self.lexicon = lexicon_embedding(config, vocab_sizes)
        if self.lexicon is not None:
            self.output_dim += self.lexicon.output_dim
        self.dropout = nn.Dropout(features.dropout)

    def forward(self, batch: Batch) -> Tensor:
        """Return the token vectors (B, T, E)."""
        parts = [self.tokens(batch.tokens)]
        if self.bigrams is not None and batch.bigrams is not None:
            parts.append(self.bigrams(batch.bigrams).flatten(2))  # (B, T, 2 * bigram_dim)
        if self.chars is not None and batch.chars is not None:
            parts.append(self.chars(batch.chars))
        if self.lexicon is not None:
            parts.append(lexicon_features(self.lexicon, batch))
        return self.dropout(torch.cat(parts, dim=2))


def lexicon_embedding(
    config: TokenModelConfig, vocab_sizes: dict[str, int]
) -> SoftLexiconEmbedding | None:
    """Return the SoftLexicon pooling for a lexicon of `vocab_sizes["lexicon"]` rows, or None."""
    if "lexicon" not in vocab_sizes:
        return None
    features = config.features
    return SoftLexiconEmbedding(
        vocab_sizes["lexicon"], features.lexicon_dim, features.lexicon_dropout,
        scale=LEXICON_SCALE, freeze=features.freeze_lexicon_vectors,
    )  # fmt: skip


def lexicon_features(module: SoftLexiconEmbedding, batch: Batch) -> Tensor:
    """Return the pooled B/M/E/S word vectors (B, T, 4 * D) of a batch's lexicon sets."""
    if batch.lexicon_ids is None or batch.lexicon_weights is None:
        raise ValueError(
            "a model with a lexicon needs batches with lexicon sets (featurize with "
            "Vocabs.lexicon set)"
        )
    return module(batch.lexicon_ids, batch.lexicon_weights)
