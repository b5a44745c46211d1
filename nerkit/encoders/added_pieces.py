"""New pieces for a pretrained encoder: tokens its vocabulary lacks (relation markers) as ONE piece.

A BERT tokenizer splits a marker such as "<e1>" into "<" "e" "##1" ">", so "<e1>" and "<e2>"
start with the same piece and the state pooled at a start marker cannot tell head from tail.
`add_pieces` adds such tokens to the tokenizer (as special tokens: never split, never
lower-cased) and gives each a row of its own in an `AddedPieces` embedding, initialised to
the mean of the rows of the pieces the token split into before, so a new piece first means
what its characters meant. The rows of the pretrained vocabulary stay in their own table
(frozen with `freeze_embeddings`); the new rows train unless the embeddings run in a frozen,
cached prefix (`freeze_layers` with `freeze_embeddings`), where nothing there could learn.

The tokenizer saved with a model holds the new tokens, so loading a model directory builds the
same `AddedPieces` (`extend_to_tokenizer`) before the saved weights are copied in.

Shapes: ids (...) long -> (..., H).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["AddedPieces", "add_pieces", "extend_to_tokenizer"]


class AddedPieces(nn.Module):
    """A piece embedding: the pretrained table plus trainable rows for ids past its end."""

    def __init__(self, base: nn.Embedding, added: int) -> None:
        super().__init__()
        self.base = base
        self.added = nn.Parameter(torch.zeros(added, base.embedding_dim))

    @property
    def weight(self) -> Tensor:
        """The pretrained table (what transformers reads for the dtype and device)."""
        return self.base.weight

    @property
    def num_embeddings(self) -> int:
        return self.base.num_embeddings + self.added.size(0)

    @property
    def embedding_dim(self) -> int:
        return self.base.embedding_dim

    def forward(self, ids: Tensor) -> Tensor:
        rows = self.base.num_embeddings
        new = ids >= rows
        states = self.base(ids.masked_fill(new, 0))
        if not bool(new.any()):
            return states
        extra = nn.functional.embedding((ids - rows).clamp(min=0), self.added)
        return torch.where(new[..., None], extra.to(states.dtype), states)


def _table(transformer: nn.Module) -> tuple[nn.Embedding, AddedPieces | None]:
    current = transformer.get_input_embeddings()
    if isinstance(current, AddedPieces):
        return current.base, current
    return current, None


def _grow(transformer: nn.Module, needed: int, trainable: bool) -> AddedPieces | None:
    """Make the input embedding hold `needed` ids; return its AddedPieces (None if not needed)."""
    base, pieces = _table(transformer)
    extra = needed - base.num_embeddings
    if extra <= 0:
        return pieces
    if pieces is None:
        pieces = AddedPieces(base, extra)
        transformer.set_input_embeddings(pieces)
    elif extra > pieces.added.size(0):
        grown = torch.zeros(extra, base.embedding_dim)
        grown[: pieces.added.size(0)] = pieces.added.detach()
        pieces.added = nn.Parameter(grown)
    pieces.added.requires_grad_(trainable)
    return pieces


def extend_to_tokenizer(transformer: nn.Module, vocab: dict[str, int], trainable: bool) -> None:
    """Give every id of a tokenizer's `vocab` a row (a saved model's new pieces: zeros until
    its weights are loaded)."""
    _grow(transformer, max(vocab.values()) + 1, trainable)


def add_pieces(
    transformer: nn.Module, subwords: Any, tokens: Sequence[str], trainable: bool
) -> list[str]:
    """Add `tokens` the vocabulary lacks as new pieces (see the module docstring); return them.

    `subwords` is the encoder's `SubwordTokenizer`; its cache and vocabulary are refreshed.
    """
    new = [token for token in dict.fromkeys(tokens) if token not in subwords.vocab]
    if not new:
        return []
    before = [subwords.pieces(token) for token in new]
    subwords.add_tokens(new)
    pieces = _grow(transformer, max(subwords.vocab.values()) + 1, trainable)
    base, _ = _table(transformer)
    rows = base.num_embeddings
    with torch.no_grad():
        for token, old in zip(new, before, strict=True):
            value = base.weight[torch.tensor(old)].float().mean(dim=0)
            index = subwords.vocab[token]
            if index < rows:  # the model's table has unused rows past the tokenizer's end
                base.weight[index] = value.to(base.weight.dtype)
            else:
                assert pieces is not None
                pieces.added[index - rows] = value
    return new
