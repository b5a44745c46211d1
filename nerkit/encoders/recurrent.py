"""Bidirectional LSTM / GRU encoders over packed sequences, so padding never leaks in.

Shapes: B batch, T padded length, D input size, H output size (2 * hidden_size).
    inputs (B, T, D) float, mask (B, T) bool left-aligned -> (B, T, H) float
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from nerkit.encoders.config import BiGRUConfig, BiLSTMConfig


class RecurrentEncoder(nn.Module):
    """A bidirectional LSTM or GRU; padded positions of the output are zero."""

    def __init__(self, config: BiLSTMConfig | BiGRUConfig, input_dim: int) -> None:
        super().__init__()
        rnn_class = nn.LSTM if isinstance(config, BiLSTMConfig) else nn.GRU
        self.rnn = rnn_class(
            input_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=True,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.output_dim = 2 * config.hidden_size

    def forward(self, inputs: Tensor, mask: Tensor) -> Tensor:
        """Return the contextual states (B, T, H)."""
        return self.dropout(run_packed(self.rnn, inputs, mask))


def run_packed(rnn: nn.Module, inputs: Tensor, mask: Tensor) -> Tensor:
    """Run `rnn` over the unpadded part of each sequence; return (B, T, H) with zero padding."""
    lengths = mask.sum(dim=1).cpu()
    packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    outputs, _ = rnn(packed)
    unpacked, _ = pad_packed_sequence(outputs, batch_first=True, total_length=inputs.size(1))
    return unpacked * mask.unsqueeze(2).to(unpacked.dtype)
