"""The tagger: token encoder -> head (projection to C tag scores, then CRF or softmax).

Shapes: B batch, T padded length, H token-state size, C tags (len(tags)); see
`nerkit.encoders.features` for the batch fields.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from nerkit.encoders.features import Batch
from nerkit.encoders.token import TokenEncoder, parameter_groups
from nerkit.schemes import parse_scheme, transition_mask
from nerkit.tasks.tagging.config import ModelConfig
from nerkit.tasks.tagging.heads import build_head

__all__ = ["TagScorer", "Tagger", "upgrade_state_dict"]


class TagScorer(nn.Module):
    """What every tagger-like module shares: tag scores `emissions(batch)` and a `head`.

    Subclasses define `emissions(batch)` (B, T, C) and a `head` (CRF or softmax); decoding
    is the head's. `Tagger` and the averaged `Ensemble` are TagScorers, and so is anything
    the tagging predictor can run.
    """

    head: nn.Module
    tags: list[str]
    precision: str

    def emissions(self, batch: Batch) -> Tensor:
        """Return the unnormalised tag scores (B, T, C)."""
        raise NotImplementedError

    @property
    def temperature(self) -> float:
        """Return the head's calibration temperature T (1.0: uncalibrated)."""
        return float(self.head.temperature)

    @property
    def output_labels(self) -> list[str]:
        """Return what the head outputs, in id order: the tags (saved as labels.json)."""
        return list(self.tags)

    @torch.no_grad()
    def decode(self, batch: Batch) -> list[list[int]]:
        """Return the best tag ids of every sequence, each as long as its mask."""
        return self.head.decode(self.emissions(batch), batch.mask)

    @torch.no_grad()
    def decode_with_probabilities(self, batch: Batch) -> tuple[list[list[int]], Tensor]:
        """Return the best tag ids and the (B, T, C) posterior tag probabilities."""
        emissions = self.emissions(batch)
        paths = self.head.decode(emissions, batch.mask)
        return paths, self.head.probabilities(emissions, batch.mask)

    @torch.no_grad()
    def probabilities(self, batch: Batch) -> Tensor:
        """Return the posterior tag probabilities (B, T, C): CRF marginals or softmax."""
        return self.head.probabilities(self.emissions(batch), batch.mask)


class Tagger(TagScorer):
    """A sequence tagger over the tag list `tags` (tag strings of `config.scheme`).

    `precision` ("fp32" or "bf16") is how the tag scores are computed: in bf16 the token
    encoder and the head's projection run under CPU autocast (about 2x faster on CPUs with
    native bfloat16), while the CRF or softmax works on float32 scores. It is a run-time
    choice, not saved with the model.
    """

    def __init__(self, config: ModelConfig, vocab_sizes: dict[str, int], tags: list[str]) -> None:
        super().__init__()
        self.config, self.tags = config, list(tags)
        self.token_encoder = TokenEncoder(config, vocab_sizes)
        allowed = torch.tensor(transition_mask(self.tags, parse_scheme(config.scheme)))
        self.head = build_head(config.head, self.token_encoder.output_dim, len(tags), allowed)
        self.precision = "fp32"

    def emissions(self, batch: Batch) -> Tensor:
        """Return the unnormalised tag scores (B, T, C), float32 whatever the precision."""
        device = batch.mask.device.type
        with torch.autocast(device, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            return self.head.project(self.token_encoder(batch)).float()

    @property
    def subwords(self) -> Any:
        """Return the pretrained encoder's `SubwordTokenizer`, or None for other encoders."""
        return self.token_encoder.subwords

    def parameter_groups(self, lr: float) -> list[dict[str, Any]]:
        """Return optimizer parameter groups: the pretrained transformer at its own `lr`."""
        return parameter_groups(self, self.token_encoder, lr)

    def loss(self, batch: Batch) -> Tensor:
        """Return the training loss of a batch, a scalar.

        Against its soft targets when it has them (distillation: `soft_tags` and
        `soft_transitions`, which already mix in the gold tags), else its gold `tags`.
        """
        if batch.soft_tags is not None and batch.soft_transitions is not None:
            emissions = self.emissions(batch)
            return self.head.soft_loss(
                emissions, batch.mask, batch.soft_tags, batch.soft_transitions
            )
        if batch.tags is None:
            raise ValueError("loss() needs a batch with gold tags (featurize with tags=...)")
        return self.head.loss(self.emissions(batch), batch.tags, batch.mask)

    def vocab_sizes(self) -> dict[str, int]:
        """Return the vocabulary sizes this tagger was built for."""
        return self.token_encoder.vocab_sizes()


# where the weights of a tagger saved before the token encoder existed now live
_RENAMED = (
    ("embedder.", "token_encoder.embedder."),
    ("encoder.top.", "token_encoder.top."),
    ("encoder.", "token_encoder.encoder."),
    ("projection.", "head.projection."),
)


def upgrade_state_dict(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Return a tagger state dict with the names of this version (older ones are renamed)."""
    if "projection.weight" not in state:
        return state
    upgraded = {}
    for name, tensor in state.items():
        for old, new in _RENAMED:
            if name.startswith(old):
                name = new + name[len(old) :]
                break
        upgraded[name] = tensor
    return upgraded
