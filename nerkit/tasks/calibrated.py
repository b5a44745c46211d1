"""Calibrated class scores, shared by the tasks that classify items (texts, entity pairs).

`CalibratedClassifier` is what such a model shares (logits -> loss, calibrated
probabilities, the temperature, parameter groups). `sorted_logits` runs a model over items
in length-sorted batches and returns the logits in the items' order; `probabilities_of`
turns logits into softmax (single-label) or sigmoid (multi-label) probabilities at a
temperature; `fit_temperature` fits that temperature on held-out logits (minimum negative
log-likelihood) and `expected_calibration_error` measures how well they are calibrated.
`predicted_labels` reads the labels off probabilities (the argmax, or every label at or
above a multi-label model's threshold) and `fit_threshold` picks that threshold on
held-out data (the grid value with the best score).

Shapes: N items, C classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from nerkit.encoders.token import parameter_groups
from nerkit.runtime import eval_mode

__all__ = [
    "BINS",
    "THRESHOLDS",
    "CalibratedClassifier",
    "expected_calibration_error",
    "fit_temperature",
    "fit_threshold",
    "predicted_labels",
    "probabilities_of",
    "sorted_logits",
]

BINS = 10
THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(1, 20))  # 0.05, 0.10, ..., 0.95


class CalibratedClassifier(nn.Module):
    """A classifier over `labels` on a `token_encoder`: softmax, or sigmoids (multi-label).

    Subclasses build `config` (with `multi_label` and `threshold`), `labels` and
    `token_encoder`, call `init_calibration()`, and define `logits(batch)` (B, C);
    `class_weight()` may give the per-class loss weights. The buffers `temperature` and
    `threshold` (a multi-label model's, fitted on dev with `fit_threshold`) are saved with the
    weights; weights saved before `threshold` was one load with `config.threshold`.
    """

    config: Any
    labels: list[str]
    temperature: Tensor
    threshold: Tensor

    def init_calibration(self) -> None:
        """Register the buffers: temperature 1 and the configured multi-label threshold."""
        self.register_buffer("temperature", torch.tensor(1.0))
        self.register_buffer("threshold", torch.tensor(float(self.config.threshold)))

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any) -> None:
        state_dict.setdefault(prefix + "threshold", self.threshold.clone())  # older weights
        super()._load_from_state_dict(state_dict, prefix, *args)

    @property
    def output_labels(self) -> list[str]:
        """Return the classes in id order (saved as labels.json)."""
        return list(self.labels)

    def logits(self, batch: Any) -> Tensor:
        """Return the unnormalised class scores (B, C)."""
        raise NotImplementedError

    def class_weight(self) -> Tensor | None:
        """Return the per-class loss weights (C,), or None for equal weights."""
        return None

    def loss(self, batch: Any) -> Tensor:
        """Return the mean (class-weighted) cross-entropy, or the per-text summed BCE."""
        if batch.targets is None:
            raise ValueError("loss() needs a batch with targets")
        logits, weight = self.logits(batch), self.class_weight()
        if self.config.multi_label:
            losses = nn.functional.binary_cross_entropy_with_logits(
                logits, batch.targets, weight=weight, reduction="none"
            )
            return losses.sum(dim=1).mean()
        return nn.functional.cross_entropy(logits, batch.targets, weight=weight)

    @torch.no_grad()
    def probabilities(self, batch: Any) -> Tensor:
        """Return calibrated class probabilities (B, C)."""
        return probabilities_of(
            self.logits(batch), float(self.temperature), self.config.multi_label
        )

    def set_temperature(self, temperature: float) -> None:
        """Set the calibration temperature T > 0 of `probabilities`."""
        if not 0 < temperature < float("inf"):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
        self.temperature.fill_(float(temperature))

    def set_threshold(self, threshold: float) -> None:
        """Set the probability a multi-label model's label needs, 0 < threshold < 1."""
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
        self.threshold.fill_(float(threshold))

    def predicted(self, probabilities: Tensor) -> list[list[str]]:
        """Return the labels of probabilities (N, C) at this model's threshold."""
        return predicted_labels(
            probabilities, self.labels, self.config.multi_label, float(self.threshold)
        )

    def parameter_groups(self, lr: float) -> list[dict[str, Any]]:
        """Return optimizer parameter groups: the pretrained transformer at its own `lr`."""
        return parameter_groups(self, self.token_encoder, lr)


@torch.no_grad()
def sorted_logits(
    model: Any, items: Sequence[Any], collate: Callable[[list[Any]], Any], batch_size: int = 64
) -> Tensor:
    """Return `model.logits` (N, C) of items in their order; batches are sorted by length."""
    order = sorted(range(len(items)), key=lambda k: len(items[k]))
    logits = torch.zeros(len(items), len(model.labels))
    with eval_mode(model):
        for first in range(0, len(order), batch_size):
            chunk = order[first : first + batch_size]
            logits[chunk] = model.logits(collate([items[k] for k in chunk]))
    return logits


def probabilities_of(logits: Tensor, temperature: float, multi_label: bool) -> Tensor:
    """Return class probabilities (N, C) of logits at a temperature."""
    scaled = logits / temperature
    return scaled.sigmoid() if multi_label else scaled.softmax(dim=1)


def predicted_labels(
    probabilities: Tensor, labels: Sequence[str], multi_label: bool, threshold: float
) -> list[list[str]]:
    """Return each row's labels: every one at or above `threshold` (multi-label), or the argmax."""
    if multi_label:
        return [
            [labels[c] for c, p in enumerate(row) if p >= threshold]
            for row in probabilities.tolist()
        ]
    return [[labels[c]] for c in probabilities.argmax(dim=1).tolist()]


def fit_threshold(score: Callable[[float], float]) -> float:
    """Return the value of `THRESHOLDS` with the highest score (the lowest one of a tie)."""
    return max(THRESHOLDS, key=score)


def fit_temperature(logits: Tensor, targets: Tensor, multi_label: bool) -> float:
    """Return the temperature T in [0.05, 20] minimising the dev negative log-likelihood."""

    def nll(temperature: float) -> float:
        scaled = logits / temperature
        if multi_label:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(scaled, targets)
        else:
            loss = torch.nn.functional.cross_entropy(scaled, targets)
        return float(loss)

    grid = [
        math.exp(math.log(0.05) + k * (math.log(20) - math.log(0.05)) / 120) for k in range(121)
    ]
    best = min(grid, key=nll)
    # refine around the best grid point
    fine = [best * math.exp(d / 200) for d in range(-10, 11)]
    return min(fine, key=nll)


def expected_calibration_error(probabilities: Tensor, targets: Tensor, multi_label: bool) -> float:
    """Return the ECE over 10 equal-width confidence bins.

    Single-label: the confidence of each text's predicted class against its correctness;
    multi-label: every (text, label) probability against whether the label is gold.
    """
    if multi_label:
        confidence, hits = probabilities.flatten(), targets.flatten().double()
    else:
        confidence, predicted = probabilities.max(dim=1)
        hits = (predicted == targets).double()
    bins = torch.clamp((confidence * BINS).long(), max=BINS - 1)
    error = 0.0
    for b in range(BINS):
        chosen = bins == b
        if chosen.any():
            error += float(chosen.double().mean()) * abs(
                float(confidence[chosen].double().mean()) - float(hits[chosen].mean())
            )
    return error
