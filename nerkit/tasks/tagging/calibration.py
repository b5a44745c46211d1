"""Temperature scaling of entity confidences: fit one T on held-out data, measure calibration.

An entity's confidence is the lowest posterior probability of the tags the decoder chose on
its tokens (`nerkit.tasks.tagging.inference`). With a temperature T the posteriors are those of the
scores divided by T (`CRF.temperature`, `SoftmaxHead.temperature`): T > 1 softens them, T < 1
sharpens them, and the decoded tags, hence the entities, stay the same. So the fit is one
dimensional over a fixed set of predicted entities, each with a correctness label (its
(start, end, label) is in the gold): `fit_temperature` minimises the binary negative
log-likelihood (or the expected calibration error) of correctness given confidence.

Emissions are computed once (`collect_entities`); each candidate T costs one
forward-backward pass over them. Texts longer than `max_length` tokens are cut into
consecutive pieces of that length (the predictor's overlapping windows are not needed for
a calibration estimate; an entity across a cut counts as predicted per piece).

Shapes: B batch, T padded length, C tags, N predicted entities.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from nerkit.encoders.features import Vocabs, collate, featurize
from nerkit.runtime import eval_mode
from nerkit.schemes import parse_scheme, tags_to_spans
from nerkit.tasks.tagging.data import char_span, example_tokens
from nerkit.tasks.tagging.heads import CRFHead, SoftmaxHead
from nerkit.tasks.tagging.model import TagScorer
from nerkit.types import Example, Span, Token

__all__ = [
    "Calibration",
    "EntityBatch",
    "EntityConfidences",
    "binary_nll",
    "calibrate",
    "collect_entities",
    "fit_temperature",
    "reliability",
]

Objective = Literal["nll", "ece"]
BINS = 10
# search range of T; below ~0.1 the exp-space CRF recursions underflow on sharp models
_LOW, _HIGH = 0.1, 10.0


@dataclass(frozen=True)
class EntityBatch:
    """One batch of decoded sequences and the predicted entities in it (token offsets)."""

    emissions: Tensor  # (B, T, C)
    mask: Tensor  # (B, T) bool
    paths: Tensor  # (B, T) long, the decoded tags, 0 on padding
    entities: list[tuple[int, int, int]]  # (row b, start, end) end-exclusive


class EntityConfidences:
    """Predicted entities with their correctness; `at(T)` gives their confidences at T."""

    def __init__(
        self, head: CRFHead | SoftmaxHead, batches: list[EntityBatch], correct: Sequence[bool]
    ) -> None:
        count = sum(len(batch.entities) for batch in batches)
        if count != len(correct):
            raise ValueError(f"{count} entities but {len(correct)} correctness labels")
        self.head, self.batches = head, batches
        self.correct = torch.tensor(list(correct), dtype=torch.bool)  # (N,)

    def __len__(self) -> int:
        return len(self.correct)

    @torch.no_grad()
    def at(self, temperature: float) -> Tensor:
        """Return the confidences (N,) float64 at `temperature`; the head's own T is kept."""
        saved = float(self.head.temperature)
        self.head.set_temperature(temperature)
        try:
            scores: list[float] = []
            for batch in self.batches:
                probabilities = self.head.probabilities(batch.emissions, batch.mask)
                chosen = probabilities.gather(2, batch.paths.unsqueeze(2)).squeeze(2).tolist()
                scores.extend(min(chosen[b][start:end]) for b, start, end in batch.entities)
        finally:
            self.head.set_temperature(saved)
        return torch.tensor(scores, dtype=torch.float64)


@dataclass(frozen=True)
class Calibration:
    """A fitted temperature and the held-out scores before (T = 1) and after."""

    temperature: float
    entities: int
    accuracy: float
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float

    def to_dict(self) -> dict[str, float | int]:
        """Return the fields as a JSON-ready dict."""
        return dict(self.__dict__)


def binary_nll(confidences: Tensor, correct: Tensor) -> float:
    """Return the mean negative log-likelihood of `correct` (N,) bool under `confidences` (N,)."""
    p = confidences.double().clamp(1e-7, 1 - 1e-7)
    y = correct.double()
    return float(-(y * p.log() + (1 - y) * (1 - p).log()).mean())


def reliability(
    confidences: Sequence[float] | Tensor, correct: Sequence[bool] | Tensor, bins: int = BINS
) -> tuple[list[dict[str, float | int | str]], float]:
    """Return the reliability rows of equal-width confidence bins and the ECE.

    Bin k holds confidences in (k/bins, (k+1)/bins] (0 goes to the first bin, and a
    confidence a rounding above 1 to the last). Each row has
    the bin, its count, mean confidence and accuracy; the expected calibration error is the
    count-weighted mean |accuracy - confidence|. Empty bins have no row.
    """
    pairs = list(zip([float(c) for c in confidences], [bool(ok) for ok in correct], strict=True))
    # float32 marginals can exceed 1 by rounding: such a confidence belongs to the top bin
    rows: list[dict[str, float | int | str]] = []
    for k in range(bins):
        low, high = k / bins, (k + 1) / bins
        members = [(c, ok) for c, ok in pairs if low < min(c, 1.0) <= high or (k == 0 and c <= 0)]
        if members:
            rows.append({
                "bin": f"({low:.1f}, {high:.1f}]", "count": len(members),
                "confidence": sum(c for c, _ in members) / len(members),
                "accuracy": sum(ok for _, ok in members) / len(members),
            })  # fmt: skip
    total = sum(int(row["count"]) for row in rows)
    ece = sum(
        int(row["count"]) * abs(float(row["accuracy"]) - float(row["confidence"])) for row in rows
    )
    return rows, (ece / total if total else 0.0)


def _loss(entities: EntityConfidences, objective: Objective) -> Callable[[float], float]:
    """Return the objective as a function of T; a T whose confidences are not finite scores inf."""
    if objective not in ("nll", "ece"):
        raise ValueError(f"objective must be 'nll' or 'ece', got {objective!r}")

    def loss(temperature: float) -> float:
        with warnings.catch_warnings():  # an underflowing T gives NaN, scored inf below
            warnings.simplefilter("ignore", RuntimeWarning)
            confidences = entities.at(temperature)
        if not bool(torch.isfinite(confidences).all()):
            return math.inf
        if objective == "nll":
            return binary_nll(confidences, entities.correct)
        return reliability(confidences, entities.correct)[1]

    return loss


def fit_temperature(
    entities: EntityConfidences,
    objective: Objective = "nll",
    low: float = _LOW,
    high: float = _HIGH,
) -> float:
    """Return the T in [low, high] that minimises the objective of the entity confidences.

    A coarse grid in log T (the ECE is piecewise constant, so a derivative search could
    stop on a plateau) and then golden-section search in the best grid cell.
    """
    if len(entities) == 0:
        raise ValueError("no predicted entity to calibrate on")
    loss = _loss(entities, objective)
    grid = [math.log(low) + (math.log(high) - math.log(low)) * i / 24 for i in range(25)]
    values = [loss(math.exp(x)) for x in grid]
    best = min(range(len(grid)), key=lambda i: (values[i], abs(grid[i])))
    a, b = grid[max(0, best - 1)], grid[min(len(grid) - 1, best + 1)]
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = loss(math.exp(c)), loss(math.exp(d))
    for _ in range(16):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = loss(math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = loss(math.exp(d))
    candidates = [(values[best], grid[best]), (fc, c), (fd, d)]
    return math.exp(min(candidates)[1])


@torch.no_grad()
def collect_entities(
    model: TagScorer,
    vocabs: Vocabs,
    examples: Sequence[Example],
    *,
    max_length: int = 256,
    batch_size: int = 64,
) -> EntityConfidences:
    """Decode `examples` once; return their predicted entities, marked correct or not."""
    scheme, tags = parse_scheme(model.config.scheme), list(model.tags)
    pieces: list[tuple[list[str], list[Token], set[Span]]] = []
    for example in examples:
        tokens = example_tokens(example, model.config.tokenization)
        gold = set(example.spans)
        for first in range(0, len(tokens), max_length):
            piece = tokens[first : first + max_length]
            pieces.append(([t.text for t in piece], piece, gold))
    batches: list[EntityBatch] = []
    correct: list[bool] = []
    with eval_mode(model):
        for first in range(0, len(pieces), batch_size):
            chunk = pieces[first : first + batch_size]
            batch = collate([featurize(texts, vocabs, model.config) for texts, _, _ in chunk])
            emissions = model.emissions(batch)
            paths = model.head.decode(emissions, batch.mask)
            entities = []
            for b, (path, (_, piece, gold)) in enumerate(zip(paths, chunk, strict=True)):
                for span in tags_to_spans([tags[i] for i in path], scheme):
                    entities.append((b, span.start, span.end))
                    correct.append(char_span(span, piece) in gold)
            padded = [path + [0] * (batch.mask.size(1) - len(path)) for path in paths]
            batches.append(
                EntityBatch(emissions, batch.mask, torch.tensor(padded, dtype=torch.long), entities)
            )
    return EntityConfidences(model.head, batches, correct)


def calibrate(entities: EntityConfidences, objective: Objective = "nll") -> Calibration:
    """Fit T on held-out entities; return it with the NLL and ECE at T = 1 and at T."""
    temperature = fit_temperature(entities, objective)
    before, after = entities.at(1.0), entities.at(temperature)
    return Calibration(
        temperature=temperature,
        entities=len(entities),
        accuracy=float(entities.correct.double().mean()),
        nll_before=binary_nll(before, entities.correct),
        nll_after=binary_nll(after, entities.correct),
        ece_before=reliability(before, entities.correct)[1],
        ece_after=reliability(after, entities.correct)[1],
    )
