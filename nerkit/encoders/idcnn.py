"""Iterated dilated CNN encoder (Strubell et al. 2017).

One block of dilated 1-D convolutions (dilations 1, 1, 2 by default) is applied
`num_blocks` times with the SAME weights, widening the receptive field without
adding parameters. Each convolution adds its output to its input (a residual
connection, not in the paper), which makes the deep stack train far faster.
Padded positions are zeroed before every convolution so a sentence gets the same
states alone or in a padded batch.

Shapes: B batch, T padded length, D input size, F filters.
    inputs (B, T, D) float, mask (B, T) bool -> (B, T, F) float
"""

from __future__ import annotations

from torch import Tensor, nn

from nerkit.encoders.config import IDCNNConfig


class IDCNNEncoder(nn.Module):
    """Project to F filters, then iterate one shared dilated block."""

    def __init__(self, config: IDCNNConfig, input_dim: int) -> None:
        super().__init__()
        if config.kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be odd to keep the length, got {config.kernel_size}"
            )
        self.initial = nn.Conv1d(input_dim, config.filters, config.kernel_size, padding="same")
        self.block = nn.ModuleList(
            nn.Conv1d(
                config.filters,
                config.filters,
                config.kernel_size,
                dilation=dilation,
                padding=dilation * (config.kernel_size // 2),
            )
            for dilation in config.dilations
        )
        self.num_blocks = config.num_blocks
        self.activation = nn.ReLU()
        self.dropout = nn.Dropout(config.dropout)
        self.output_dim = config.filters

    def forward(self, inputs: Tensor, mask: Tensor) -> Tensor:
        """Return the states after the last iteration of the block, (B, T, F)."""
        keep = mask.unsqueeze(1).to(inputs.dtype)  # (B, 1, T)
        states = self.activation(self.initial(inputs.transpose(1, 2) * keep)) * keep
        for _ in range(self.num_blocks):
            for conv in self.block:
                # residual: deep stacks of plain ReLU convolutions train slowly and unstably
                states = states + self.activation(conv(states)) * keep
            states = self.dropout(states)
        return states.transpose(1, 2)
