"""Output heads: per-token softmax or a scheme-constrained CRF over the emissions.

Both heads answer the same three questions with the same return types:
`loss` (scalar, summed over tokens/sequences and divided by B), `decode` (best tag ids
per sequence, as long as its mask) and `probabilities` ((B, T, C) posterior tag
probabilities: CRF marginals or softmax outputs).

Shapes: B batch, T padded length, C tags. emissions (B, T, C), tags (B, T), mask (B, T).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nerkit.crf import CRF


class SoftmaxHead(nn.Module):
    """Independent per-token classification with cross-entropy."""

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.num_tags = num_tags

    def loss(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Return the summed token cross-entropy divided by the batch size."""
        losses = nn.functional.cross_entropy(emissions.transpose(1, 2), tags, reduction="none")
        return (losses * mask).sum() / emissions.size(0)

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """Return the argmax tag of every real token."""
        best = emissions.argmax(dim=2)
        return [best[b, :length].tolist() for b, length in enumerate(mask.sum(dim=1).tolist())]

    @torch.no_grad()
    def probabilities(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """Return the softmax of the emissions, (B, T, C)."""
        return emissions.softmax(dim=2) * mask.unsqueeze(2)


class CRFHead(nn.Module):
    """A linear-chain CRF whose forbidden transitions come from the tagging scheme."""

    def __init__(self, num_tags: int, allowed: Tensor | None) -> None:
        super().__init__()
        self.crf = CRF(num_tags, allowed=allowed)

    def loss(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Return the summed sequence negative log-likelihood divided by the batch size."""
        return self.crf.nll(emissions, tags, mask).sum() / emissions.size(0)

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """Return the Viterbi path of every sequence."""
        return self.crf.decode(emissions, mask)

    @torch.no_grad()
    def probabilities(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """Return the CRF marginal tag probabilities, (B, T, C)."""
        return self.crf.marginals(emissions, mask)


def build_head(kind: str, num_tags: int, allowed: Tensor | None) -> SoftmaxHead | CRFHead:
    """Return the head a model config names; the one place that dispatches on `head`."""
    match kind:
        case "crf":
            return CRFHead(num_tags, allowed)
        case "softmax":
            return SoftmaxHead(num_tags)
    raise AssertionError(f"unhandled head {kind!r}")
