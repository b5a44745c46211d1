"""An ensemble of taggers trained from one config (different seeds), used like one `Tagger`.

The tag scores of the ensemble are the MEAN of its members' emissions, and its head is
the members' head with every float tensor averaged (CRF transitions, start and end
scores, temperature): the ensemble then decodes once, with the same Viterbi, marginals
and n-best code as a single tagger. Members must share tags, scheme, head, tokenization
and vocabularies (the caller checks vocabularies, see `nerkit.ensemble`), so one batch
of features serves them all.

Only prediction is supported: the ensemble has no `loss` and is not trained further.

Shapes: B batch, T padded length, C tags.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from nerkit.encoders.features import Batch
from nerkit.schemes import parse_scheme, transition_mask
from nerkit.tasks.tagging.heads import build_head
from nerkit.tasks.tagging.model import Tagger, TagScorer


def check_compatible(members: Sequence[Tagger]) -> None:
    """Raise ValueError unless every member predicts the same tags the same way."""
    if not members:
        raise ValueError("an ensemble needs at least one model, got none")
    first = members[0]
    for number, member in enumerate(members[1:], start=2):
        for what, mine, theirs in [
            ("tags", first.tags, member.tags),
            ("scheme", first.config.scheme, member.config.scheme),
            ("head", first.config.head, member.config.head),
            ("tokenization", first.config.tokenization, member.config.tokenization),
        ]:
            if mine != theirs:
                raise ValueError(
                    f"ensemble members must share their {what}: model 1 has {mine!r}, "
                    f"model {number} has {theirs!r} (train every member from the same config "
                    "and data, changing only train.seed)"
                )


def average_head(members: Sequence[Tagger]) -> nn.Module:
    """Return a new head whose float tensors are the mean of the members' heads.

    The averaged projection is never used (the ensemble averages emissions); it is kept so
    the head is a complete module of its kind.
    """
    first = members[0]
    allowed = torch.tensor(transition_mask(first.tags, parse_scheme(first.config.scheme)))
    input_dim = first.head.projection.in_features
    head = build_head(first.config.head, input_dim, len(first.tags), allowed)
    states = [member.head.state_dict() for member in members]
    averaged = {
        name: torch.stack([state[name] for state in states]).mean(dim=0)
        if value.is_floating_point()
        else value
        for name, value in states[0].items()
    }
    head.load_state_dict(averaged)
    return head


class Ensemble(TagScorer):
    """Several taggers of one config as one: mean emissions, averaged head, one decode."""

    def __init__(self, members: Sequence[Tagger]) -> None:
        super().__init__()
        check_compatible(members)
        self.members = nn.ModuleList(members)
        self.config, self.tags = members[0].config, list(members[0].tags)
        self.head = average_head(members)
        self.eval()

    @property
    def precision(self) -> str:
        """Return the precision the members compute their tag scores in."""
        return str(getattr(self.members[0], "precision", "fp32"))

    @precision.setter
    def precision(self, value: str) -> None:
        for member in self.members:
            member.precision = value

    @property
    def token_encoder(self) -> Any:
        """Return the first member's token encoder (the members' features are the same)."""
        return self.members[0].token_encoder

    @property
    def subwords(self) -> Any:
        """Return the first member's sub-word tokenizer, or None."""
        return self.members[0].subwords

    def vocab_sizes(self) -> dict[str, int]:
        """Return the vocabulary sizes of the members (they are all the same)."""
        return self.members[0].vocab_sizes()

    def emissions(self, batch: Batch) -> Tensor:
        """Return the mean of the members' tag scores (B, T, C)."""
        total = self.members[0].emissions(batch)
        for member in self.members[1:]:
            total = total + member.emissions(batch)
        return total / len(self.members)
