"""Output heads: per-token softmax or a scheme-constrained CRF over the emissions.

Each head owns its projection from token states to tag scores (`project`: (B, T, H) ->
(B, T, C) emissions), so other heads (prototypes, spans) can sit on the same states.
Both heads answer the same questions with the same return types:
`loss` (scalar, summed over tokens/sequences and divided by B), `soft_loss` (the same
against a target distribution instead of gold tags: distillation), `decode` (best tag ids
per sequence, as long as its mask) and `probabilities` ((B, T, C) posterior tag
probabilities: CRF marginals or softmax outputs).

Both also hold a calibration temperature T (`temperature`, `set_temperature`; a buffer in
the state dict, T = 1 when a saved state dict predates it): `probabilities` are those of
the scores divided by T, the decoded tags never change with T. See docs/calibration.md.

Shapes: B batch, T padded length, H token-state size, C tags.
    states (B, T, H), emissions (B, T, C), tags (B, T), mask (B, T).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nerkit.crf import CRF


def _check_temperature(temperature: float) -> float:
    if not 0 < temperature < float("inf"):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return float(temperature)


def _default_temperature(
    module: nn.Module, state_dict: dict[str, Tensor], prefix: str, *args: object
) -> None:
    """Give a state dict saved before temperatures existed the neutral T = 1."""
    state_dict.setdefault(prefix + "temperature", torch.tensor(1.0))


class _ProjectingHead(nn.Module):
    """A head with a linear projection from token states to tag scores."""

    def __init__(self, input_dim: int, num_tags: int) -> None:
        super().__init__()
        self.projection = nn.Linear(input_dim, num_tags)

    def project(self, states: Tensor) -> Tensor:
        """Return the unnormalised tag scores (B, T, C) of token states (B, T, H)."""
        return self.projection(states)


class SoftmaxHead(_ProjectingHead):
    """Independent per-token classification with cross-entropy."""

    def __init__(self, input_dim: int, num_tags: int) -> None:
        super().__init__(input_dim, num_tags)
        self.num_tags = num_tags
        self.register_buffer("temperature", torch.tensor(1.0))
        self.register_load_state_dict_pre_hook(_default_temperature)

    def set_temperature(self, temperature: float) -> None:
        """Set the calibration temperature T > 0 of `probabilities`."""
        self.temperature.fill_(_check_temperature(temperature))

    def loss(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Return the summed token cross-entropy divided by the batch size."""
        losses = nn.functional.cross_entropy(emissions.transpose(1, 2), tags, reduction="none")
        return (losses * mask).sum() / emissions.size(0)

    def soft_loss(
        self, emissions: Tensor, mask: Tensor, soft_tags: Tensor, soft_transitions: Tensor
    ) -> Tensor:
        """Return the token cross-entropy against target tag marginals, divided by B.

        `soft_transitions` is not used: tokens are independent under a softmax.
        """
        log_probs = emissions.log_softmax(dim=2)
        return -(soft_tags * log_probs * mask.unsqueeze(2)).sum() / emissions.size(0)

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """Return the argmax tag of every real token."""
        best = emissions.argmax(dim=2)
        return [best[b, :length].tolist() for b, length in enumerate(mask.sum(dim=1).tolist())]

    @torch.no_grad()
    def probabilities(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """Return the softmax of the emissions divided by the temperature, (B, T, C)."""
        return (emissions / self.temperature).softmax(dim=2) * mask.unsqueeze(2)


class CRFHead(_ProjectingHead):
    """A linear-chain CRF whose forbidden transitions come from the tagging scheme."""

    def __init__(self, input_dim: int, num_tags: int, allowed: Tensor | None) -> None:
        super().__init__(input_dim, num_tags)
        self.crf = CRF(num_tags, allowed=allowed)

    @property
    def temperature(self) -> Tensor:
        """Return the CRF's calibration temperature T, a scalar tensor."""
        return self.crf.temperature

    def set_temperature(self, temperature: float) -> None:
        """Set the calibration temperature T > 0 of the marginals and n-best probabilities."""
        self.crf.set_temperature(_check_temperature(temperature))

    def loss(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Return the summed sequence negative log-likelihood divided by the batch size."""
        return self.crf.nll(emissions, tags, mask).sum() / emissions.size(0)

    def soft_loss(
        self, emissions: Tensor, mask: Tensor, soft_tags: Tensor, soft_transitions: Tensor
    ) -> Tensor:
        """Return the summed cross-entropy of a target path distribution, divided by B."""
        loss = self.crf.soft_nll(emissions, mask, soft_tags, soft_transitions)
        return loss.sum() / emissions.size(0)

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """Return the Viterbi path of every sequence."""
        return self.crf.decode(emissions, mask)

    @torch.no_grad()
    def probabilities(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """Return the CRF marginal tag probabilities at the temperature T, (B, T, C)."""
        return self.crf.marginals(emissions, mask)


def build_head(
    kind: str, input_dim: int, num_tags: int, allowed: Tensor | None
) -> SoftmaxHead | CRFHead:
    """Return the head a model config names; the one place that dispatches on `head`."""
    match kind:
        case "crf":
            return CRFHead(input_dim, num_tags, allowed)
        case "softmax":
            return SoftmaxHead(input_dim, num_tags)
    raise AssertionError(f"unhandled head {kind!r}")
