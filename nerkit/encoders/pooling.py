"""Pooling token states into one vector per sequence: max, mean, attention or first token.

The text classifier pools the whole text with it; the relation classifier pools the marked
sentence beside its two entity-start states (`entity_start_max`, `entity_start_attention`).
Padding (mask False) never takes part. Shapes: B batch, T padded length, H state size.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["Pooling"]


class Pooling(nn.Module):
    """One vector per text from token states: max, mean, attention or first token."""

    def __init__(self, kind: str, dim: int) -> None:
        super().__init__()
        self.kind = kind
        self.query = nn.Linear(dim, 1) if kind == "attention" else None

    def forward(self, states: Tensor, mask: Tensor) -> Tensor:
        """Return (B, H) from states (B, T, H) and mask (B, T)."""
        match self.kind:
            case "max":
                return states.masked_fill(~mask.unsqueeze(2), float("-inf")).max(dim=1).values
            case "mean":
                weights = mask.unsqueeze(2).to(states.dtype)
                return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
            case "attention":
                assert self.query is not None
                scores = self.query(states).squeeze(2).masked_fill(~mask, float("-inf"))
                weights = scores.softmax(dim=1).unsqueeze(2)  # (B, T, 1)
                return (states * weights).sum(dim=1)
            case "first":
                return states[:, 0]
        raise AssertionError(f"unhandled pooling {self.kind!r}")
