"""Per-label scores of classification decisions (texts, entity pairs), shared by the tasks.

Torch-free. `f1` is the harmonic mean of precision and recall (0 when both are 0);
`LabelScores` holds one label's precision, recall, F1 and gold count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["LabelScores", "f1"]


def f1(precision: float, recall: float) -> float:
    """Return the harmonic mean of precision and recall, 0.0 when both are 0."""
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


@dataclass(frozen=True)
class LabelScores:
    """Precision, recall and F1 of one label, with its gold count (support)."""

    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "support": self.support}  # fmt: skip
