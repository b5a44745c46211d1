"""`ClassificationPredictor`: a loaded classifier -> labels of texts with calibrated scores.

`predict` returns, per text, the predicted labels, most probable first: the top label of a
single-label model (or its `top_k` best), every label at or above the stored threshold of a
multi-label model. `predict_probabilities` gives every label's probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nerkit.defaults import BATCH_SIZE
from nerkit.runtime import paused_gc
from nerkit.tasks.base import LoadedPredictor, check_texts
from nerkit.tasks.calibrated import probabilities_of
from nerkit.tasks.classification.model import text_logits

__all__ = ["ClassificationPredictor", "TextLabel"]


@dataclass(frozen=True)
class TextLabel:
    """A predicted label of a whole text and its calibrated probability."""

    label: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"label": self.label, "score": self.score}


class ClassificationPredictor(LoadedPredictor):
    """A loaded text classifier that turns texts into labels with probabilities."""

    task = "classification"

    @property
    def labels(self) -> list[str]:
        """Return the classes the model predicts, sorted."""
        return sorted(self.model.labels)

    def info(self) -> dict[str, Any]:
        """Return a JSON-ready description: name, task, labels, encoder, pooling, scores."""
        model = self.config.model
        return {
            "name": self.name,
            "task": self.task,
            "labels": self.labels,
            "multi_label": model.multi_label,
            "threshold": float(self.model.threshold) if model.multi_label else None,
            "tokenization": model.tokenization,
            "encoder": model.encoder.kind,
            "pooling": model.pooling,
            "precision": self.precision,
            "temperature": self.temperature,
            "dev": self.metadata.get("dev"),
            "test": self.metadata.get("test"),
        }

    def predict_probabilities(
        self, texts: list[str], batch_size: int = BATCH_SIZE
    ) -> list[dict[str, float]]:
        """Return every label's calibrated probability for each text."""
        texts = check_texts(texts, batch_size)
        logits = text_logits(self.model, self.vocabs, texts, batch_size)
        probabilities = probabilities_of(logits, self.temperature, self.config.model.multi_label)
        labels = self.model.labels
        return [
            {label: round(p, 6) for label, p in zip(labels, row, strict=True)}
            for row in probabilities.tolist()
        ]

    @paused_gc()
    def predict(
        self, texts: list[str], batch_size: int = BATCH_SIZE, top_k: int = 1
    ) -> list[list[TextLabel]]:
        """Return the predicted labels of each text, most probable first (see module doc)."""
        model = self.config.model
        results = []
        for scores in self.predict_probabilities(texts, batch_size):
            ranked = sorted(scores.items(), key=lambda item: -item[1])
            if model.multi_label:
                chosen = [(label, p) for label, p in ranked if p >= float(self.model.threshold)]
            else:
                chosen = ranked[:top_k]
            results.append([TextLabel(label, p) for label, p in chosen])
        return results
