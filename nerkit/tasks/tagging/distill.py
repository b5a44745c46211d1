"""Knowledge distillation: soft training targets from a saved teacher model.

`soft_targets` runs a teacher (any model directory: a BERT-CRF teaching a BiLSTM-CRF, say)
once over the student's training sequences and returns, per sequence, the target the
student's loss is taken against: the mixture

    weight * (teacher's distribution over tag paths) + (1 - weight) * (the gold path)

given by its tag marginals (T, C) and its expected transition counts (C, C). A CRF student
minimises the cross-entropy of that mixture against its own path distribution
(`CRF.soft_nll`), which is linear in the target: (1 - weight) * NLL(gold) + weight *
H(teacher, student). A CRF teacher's distribution is exact (forward-backward); a softmax
teacher's tokens are independent, so its expected transitions are products of neighbouring
marginals. Scores are divided by `temperature` first (> 1 flattens the teacher).

Shapes: T tokens of one sequence, C tags.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from nerkit.config import DistillConfig
from nerkit.encoders.features import Batch, collate, featurize
from nerkit.errors import ConfigError
from nerkit.tasks.base import LoadedModel
from nerkit.tasks.tagging.heads import CRFHead
from nerkit.tasks.tagging.model import TagScorer

logger = logging.getLogger(__name__)

__all__ = ["soft_targets"]


def soft_targets(
    config: DistillConfig,
    teacher_model: LoadedModel,
    sequences: Sequence[tuple[list[str], list[int]]],
    tags: list[str],
    batch_size: int = 64,
) -> list[tuple[Tensor, Tensor]]:
    """Return each sequence's target: tag marginals (T, C) and transition counts (C, C).

    `sequences` are the student's training pieces as (token strings, gold tag ids into
    `tags`); the teacher (`config.teacher`, loaded) sees exactly these tokens. Raise
    ConfigError when the teacher predicts other tags.
    """
    teacher, teacher_config, vocabs, _ = teacher_model
    order = _tag_order(teacher.tags, tags, config.teacher)
    teacher.eval()
    targets: list[tuple[Tensor, Tensor]] = [None] * len(sequences)  # type: ignore[list-item]
    by_length = sorted(range(len(sequences)), key=lambda k: len(sequences[k][0]))
    with torch.no_grad():
        for first in range(0, len(by_length), batch_size):
            chunk = by_length[first : first + batch_size]
            features = [featurize(sequences[k][0], vocabs, teacher_config.model) for k in chunk]
            batch = collate(features)
            unary, counts = _teacher_distribution(teacher, batch, config.temperature)
            unary, counts = unary[:, :, order], counts[:, order][:, :, order]
            for row, k in enumerate(chunk):
                length = len(sequences[k][0])
                gold_unary, gold_counts = _one_hot(sequences[k][1], len(tags))
                targets[k] = (
                    config.weight * unary[row, :length] + (1 - config.weight) * gold_unary,
                    config.weight * counts[row] + (1 - config.weight) * gold_counts,
                )
    logger.info("soft targets from %s for %d sequences", config.teacher, len(sequences))
    return targets


def _tag_order(teacher_tags: list[str], student_tags: list[str], teacher: Path) -> list[int]:
    """Return, for each student tag, its index among the teacher's tags."""
    if sorted(teacher_tags) != sorted(student_tags):
        missing = sorted(set(student_tags) - set(teacher_tags))
        extra = sorted(set(teacher_tags) - set(student_tags))
        raise ConfigError(
            f"the teacher {teacher} predicts other tags than the student: student only "
            f"{missing}, teacher only {extra} (train both on the same data and scheme)"
        )
    index = {tag: i for i, tag in enumerate(teacher_tags)}
    return [index[tag] for tag in student_tags]


def _teacher_distribution(
    teacher: TagScorer, batch: Batch, temperature: float
) -> tuple[Tensor, Tensor]:
    """Return the teacher's marginals (B, T, C) and expected transition counts (B, C, C)."""
    emissions = teacher.emissions(batch)
    if isinstance(teacher.head, CRFHead):
        return teacher.head.crf.expected_counts(emissions, batch.mask, temperature)
    unary = (emissions / temperature).softmax(dim=2) * batch.mask.unsqueeze(2)
    # independent tokens: P(i at t-1, j at t) = q[t-1, i] * q[t, j]
    return unary, torch.einsum("bti,btj->bij", unary[:, :-1], unary[:, 1:])


def _one_hot(tag_ids: list[int], num_tags: int) -> tuple[Tensor, Tensor]:
    """Return the marginals (T, C) and transition counts (C, C) of one gold path."""
    path = torch.tensor(tag_ids)
    unary = torch.nn.functional.one_hot(path, num_tags).float()
    counts = torch.zeros(num_tags, num_tags)
    counts.index_put_((path[:-1], path[1:]), torch.ones(len(tag_ids) - 1), accumulate=True)
    return unary, counts
