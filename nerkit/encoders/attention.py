"""Multi-head self-attention with learned relative positions (Shaw et al. 2018).

Shapes: B batch, T padded length, H model size, N heads, K = H / N per head,
R = 2 * max_relative_position + 1 relative distances.
    inputs (B, T, H) float, mask (B, T) bool -> (B, T, H) float
Padded keys are masked out, so real positions never see padding.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class RelativeSelfAttention(nn.Module):
    """Multi-head self-attention whose scores add a learned term per clipped distance j - i."""

    def __init__(self, size: int, num_heads: int, max_relative_position: int, dropout: float):
        super().__init__()
        if size % num_heads:
            raise ValueError(
                f"the model size {size} must be a multiple of the number of heads {num_heads} "
                "(change hidden_size/d_model or num_heads)"
            )
        self.num_heads, self.head_size = num_heads, size // num_heads
        self.max_relative_position = max_relative_position
        self.qkv = nn.Linear(size, 3 * size)
        self.out = nn.Linear(size, size)
        self.relative_keys = nn.Embedding(2 * max_relative_position + 1, self.head_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, inputs: Tensor, mask: Tensor) -> Tensor:
        """Return the attended values (B, T, H)."""
        batch, length, size = inputs.shape
        qkv = self.qkv(inputs).view(batch, length, 3, self.num_heads, self.head_size)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)  # each (B, N, T, K)
        scores = query @ key.transpose(-1, -2)  # (B, N, T, T)
        positions = torch.arange(length, device=inputs.device)
        distance = (positions[None, :] - positions[:, None]).clamp(
            -self.max_relative_position, self.max_relative_position
        )
        relative = self.relative_keys(distance + self.max_relative_position)  # (T, T, K)
        scores = scores + torch.einsum("bntk,tsk->bnts", query, relative)
        scores = scores / math.sqrt(self.head_size)
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
        weights = self.dropout(scores.softmax(dim=-1))
        attended = (weights @ value).transpose(1, 2).reshape(batch, length, size)
        return self.out(attended)
