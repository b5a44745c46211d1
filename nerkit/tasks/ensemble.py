"""Ensembles of calibrated classifiers (text classifiers, relation models) from one config.

`CalibratedEnsemble` averages its members' calibrated probabilities (each member at its own
temperature): `logits` returns the log of that mean (softmax models) or its logit (sigmoid
models), so that at the ensemble's temperature of 1 `probabilities_of` gives the mean, and
every predictor and evaluation that takes one `CalibratedClassifier` takes the ensemble. A
multi-label ensemble's threshold is the mean of its members'. Members must have been
trained from one config and data, changing only `train.seed`: same classes, same model
section, same vocabularies, so one batch of features serves them all
(`calibrated_ensemble` checks). Prediction only: the ensemble has no loss.

Shapes: B batch, C classes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from nerkit.errors import ArtifactError
from nerkit.tasks.base import LoadedModel
from nerkit.tasks.calibrated import CalibratedClassifier, probabilities_of

__all__ = ["CalibratedEnsemble", "calibrated_ensemble", "check_members"]


class CalibratedEnsemble(CalibratedClassifier):
    """Members used like one calibrated classifier (see the module docstring)."""

    def __init__(self, members: Sequence[CalibratedClassifier]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        first = members[0]
        self.config, self.labels = first.config, list(first.labels)
        self.register_buffer("temperature", torch.tensor(1.0))
        self.register_buffer("threshold", torch.stack([m.threshold for m in members]).mean())

    @property
    def precision(self) -> str:
        """The precision every member computes its scores in."""
        return str(self.members[0].precision)

    @precision.setter
    def precision(self, value: str) -> None:
        for member in self.members:
            member.precision = value

    def logits(self, batch: Any) -> Tensor:
        """Return the log (softmax) or logit (sigmoids) of the mean calibrated probabilities."""
        multi_label = bool(self.config.multi_label)
        mean = torch.stack([
            probabilities_of(m.logits(batch), float(m.temperature), multi_label)
            for m in self.members
        ]).mean(dim=0)  # fmt: skip
        if multi_label:
            return torch.logit(mean, eps=1e-7)
        return mean.clamp(min=1e-12).log()

    def loss(self, batch: Any) -> Tensor:
        """Raise: an ensemble is only used for prediction."""
        raise NotImplementedError("an ensemble is not trained: train its members")


def _section(loaded: LoadedModel) -> dict[str, Any]:
    """Return the model section of a member's config, less where its encoder was loaded from."""
    section = loaded.config.model.model_dump()
    if isinstance(section.get("encoder"), dict):
        section["encoder"].pop("name_or_path", None)  # each member's own encoder/ directory
    return section


def check_members(
    members: Sequence[LoadedModel], kind: str, parts: Callable[[LoadedModel], dict[str, Any]]
) -> None:
    """Raise ArtifactError naming the first member whose `parts` differ from the first's.

    `parts(member)` maps what must be equal ("vocabularies", ...) to its value; `kind` names
    the models in the message ("relation ", "" for taggers).
    """
    first = parts(members[0])
    for number, member in enumerate(members[1:], start=2):
        for what, value in parts(member).items():
            if value != first[what]:
                raise ArtifactError(
                    f"{kind}ensemble member {number} has other {what} than the first member "
                    "(train every member from the same config and data, changing only "
                    "train.seed)"
                )


def calibrated_ensemble(members: Sequence[LoadedModel], kind: str) -> CalibratedEnsemble:
    """Return the ensemble of loaded members; ArtifactError naming the first misfit."""
    check_members(members, f"{kind} ", lambda m: {
        "classes": m.model.labels, "model section": _section(m),
        "vocabularies": m.vocabs.to_dict(),
    })  # fmt: skip
    return CalibratedEnsemble([member.model for member in members])
