"""A small Transformer encoder trained from scratch (no pretrained weights, no `transformers`).

Pre-norm layers of relative-position self-attention and a feed-forward block, after a
linear projection of the input features to `d_model`. Relative positions make the
encoder translation-invariant, which suits NER better than absolute positions.

Shapes: B batch, T padded length, D input size, H = d_model.
    inputs (B, T, D) float, mask (B, T) bool -> (B, T, H) float
"""

from __future__ import annotations

from torch import Tensor, nn

from nerkit.encoders.attention import RelativeSelfAttention
from nerkit.encoders.config import TransformerConfig


class _Layer(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.attention = RelativeSelfAttention(
            config.d_model, config.num_heads, config.max_relative_position, config.dropout
        )
        self.feedforward = nn.Sequential(
            nn.Linear(config.d_model, config.feedforward),
            nn.GELU(),
            nn.Linear(config.feedforward, config.d_model),
        )
        self.norm1 = nn.LayerNorm(config.d_model)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, states: Tensor, mask: Tensor) -> Tensor:
        states = states + self.dropout(self.attention(self.norm1(states), mask))
        return states + self.dropout(self.feedforward(self.norm2(states)))


class TransformerEncoder(nn.Module):
    """Input projection, `num_layers` pre-norm layers, a final LayerNorm."""

    def __init__(self, config: TransformerConfig, input_dim: int) -> None:
        super().__init__()
        self.projection = nn.Linear(input_dim, config.d_model)
        self.layers = nn.ModuleList(_Layer(config) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.output_dim = config.d_model

    def forward(self, inputs: Tensor, mask: Tensor) -> Tensor:
        """Return the contextual states (B, T, H); padded rows are zero."""
        states = self.projection(inputs)
        for layer in self.layers:
            states = layer(states, mask)
        return self.norm(states) * mask.unsqueeze(2).to(states.dtype)
