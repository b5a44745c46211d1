"""BiLSTM followed by multi-head self-attention ("LSTM + attention").

The attention output is added to the BiLSTM states (residual) and layer-normalised,
so the encoder is at least as expressive as the plain BiLSTM.

Shapes: B batch, T padded length, D input size, H = 2 * hidden_size.
    inputs (B, T, D) float, mask (B, T) bool -> (B, T, H) float
"""

from __future__ import annotations

from torch import Tensor, nn

from nerkit.encoders.attention import RelativeSelfAttention
from nerkit.encoders.config import BiLSTMAttentionConfig
from nerkit.encoders.recurrent import BiRNN


class BiLSTMAttentionEncoder(nn.Module):
    """BiLSTM -> self-attention with a residual connection -> LayerNorm."""

    def __init__(self, config: BiLSTMAttentionConfig, input_dim: int) -> None:
        super().__init__()
        self.rnn = BiRNN("lstm", input_dim, config.hidden_size, config.num_layers, config.dropout)
        self.output_dim = self.rnn.output_dim
        self.attention = RelativeSelfAttention(
            self.output_dim, config.num_heads, max_relative_position=64, dropout=config.dropout
        )
        self.norm = nn.LayerNorm(self.output_dim)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, inputs: Tensor, mask: Tensor) -> Tensor:
        """Return the contextual states (B, T, H); padded rows are zero."""
        states = self.dropout(self.rnn(inputs, mask))
        states = self.norm(states + self.dropout(self.attention(states, mask)))
        return states * mask.unsqueeze(2).to(states.dtype)
