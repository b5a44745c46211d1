"""Calibrated class scores, shared by the tasks that classify items (texts, entity pairs).

`sorted_logits` runs a model over items in length-sorted batches and returns the logits in
the items' order; `probabilities_of` turns logits into softmax (single-label) or sigmoid
(multi-label) probabilities at a temperature; `fit_temperature` fits that temperature on
held-out logits (minimum negative log-likelihood) and `expected_calibration_error` measures
how well the probabilities are calibrated.

Shapes: N items, C classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from nerkit.runtime import eval_mode

__all__ = [
    "BINS",
    "expected_calibration_error",
    "fit_temperature",
    "probabilities_of",
    "sorted_logits",
]

BINS = 10


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
