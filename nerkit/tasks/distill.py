"""Knowledge distillation for the tasks that classify items (texts, entity pairs).

`train.distill` names a teacher model directory of the same task with the same classes (a
fine-tuned BERT-style relation model teaching a BiLSTM one, say). The teacher runs once over
the student's training items and each item's target becomes

    weight * (teacher's class probabilities at `temperature`) + (1 - weight) * (gold target)

a distribution over the classes for single-label models (the gold target one-hot), the
per-class sigmoids for multi-label ones. The student's loss is unchanged: cross-entropy
against a distribution is linear in it, so it is (1 - weight) * CE(gold) + weight *
H(teacher, student), as for taggers (`nerkit.tasks.tagging.distill`). The teacher's own
calibration temperature is not used; `temperature` > 1 flattens it.

Shapes: N items, C classes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import Tensor, nn

from nerkit.errors import ConfigError
from nerkit.runtime import num_threads
from nerkit.tasks.base import LoadedModel
from nerkit.tasks.calibrated import probabilities_of

__all__ = ["distilled_targets"]


def _check_teacher(
    config: Any, teacher: LoadedModel | None, labels: Sequence[str], multi_label: bool
) -> LoadedModel:
    """Return the teacher when it can teach this run; raise ConfigError naming why not."""
    where = str(config.train.distill.teacher)
    if teacher is None:
        raise ConfigError("train.distill is set but no teacher model was loaded")
    if teacher.config.task != config.task:
        raise ConfigError(
            f"the teacher {where} is a {teacher.config.task} model; a {config.task} model "
            f"learns from a {config.task} teacher"
        )
    if bool(teacher.model.config.multi_label) != multi_label:
        kinds = {True: "multi-label", False: "single-label"}
        raise ConfigError(
            f"the teacher {where} is {kinds[not multi_label]}, this model {kinds[multi_label]}"
        )
    if set(teacher.model.labels) != set(labels):
        raise ConfigError(
            f"the teacher {where} has the classes {sorted(teacher.model.labels)[:10]}, the "
            f"training data {sorted(labels)[:10]} (they must be the same)"
        )
    return teacher


def distilled_targets(
    config: Any,
    teacher: LoadedModel | None,
    targets: Tensor,
    labels: Sequence[str],
    multi_label: bool,
    teacher_logits: Callable[[LoadedModel], Tensor],
) -> Tensor:
    """Return the training targets (N, C) mixed with the teacher's (see the module doc).

    `config` is the student's run config (its `train.distill` set), `targets` the gold ones:
    class ids (N,) or, multi-label, 0/1 rows (N, C) over `labels`. `teacher_logits(teacher)`
    returns the teacher's logits (N, C) of the same items in its own class order; it runs at
    the run's `train.num_threads`.
    """
    distill = config.train.distill
    teacher = _check_teacher(config, teacher, labels, multi_label)
    with num_threads(config.train.num_threads):
        logits = teacher_logits(teacher)
    order = [list(teacher.model.labels).index(label) for label in labels]
    taught = probabilities_of(logits[:, order], distill.temperature, multi_label)
    gold = targets.float() if multi_label else nn.functional.one_hot(targets, len(labels)).float()
    return distill.weight * taught + (1.0 - distill.weight) * gold
