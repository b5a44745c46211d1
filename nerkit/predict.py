"""`Predictor`: a saved model directory -> entities with character offsets and confidence.

Texts are tokenized in the model's mode, tagged in length-sorted batches, long texts
in overlapping windows of `data.max_length` tokens merged back into one span list
(`nerkit.data.alignment.merge_window_spans`). Offsets index the ORIGINAL text.

`Entity.score` is the minimum, over the entity's tokens, of the posterior probability
of the tag predicted there: the CRF marginal for a CRF head, the softmax output for
a softmax head (see `nerkit.models.inference`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nerkit.artifacts import load_model
from nerkit.data.tokenize import tokenize
from nerkit.models.inference import tag_sequences
from nerkit.schemes import parse_scheme, split_tag
from nerkit.types import Entity, Token

__all__ = ["Predictor"]


class Predictor:
    """A loaded tagger that turns texts into entities."""

    def __init__(self, model_dir: Path | str) -> None:
        self.path = Path(model_dir)
        self.model, self.config, self.vocabs, self.metadata = load_model(self.path)
        self.scheme = parse_scheme(self.config.model.scheme)

    @classmethod
    def from_dir(cls, model_dir: Path | str) -> Predictor:
        """Return the predictor of a model directory."""
        return cls(model_dir)

    @property
    def name(self) -> str:
        """Return a short name for the model: its directory name."""
        return str(self.metadata.get("name") or self.path.resolve().name)

    @property
    def labels(self) -> list[str]:
        """Return the entity labels the model predicts, sorted."""
        return sorted({label for tag in self.model.tags if (label := split_tag(tag)[1])})

    @property
    def tags(self) -> list[str]:
        """Return the model's tag list in id order."""
        return list(self.model.tags)

    def info(self) -> dict[str, Any]:
        """Return a JSON-ready description: name, labels, scheme, encoder, head, scores."""
        return {
            "name": self.name,
            "labels": self.labels,
            "scheme": self.config.model.scheme,
            "tokenization": self.config.model.tokenization,
            "encoder": self.config.model.encoder.kind,
            "head": self.config.model.head,
            "dev": self.metadata.get("dev"),
            "test": self.metadata.get("test"),
        }

    def predict(self, texts: list[str], batch_size: int = 64) -> list[list[Entity]]:
        """Return the entities of each text, sorted by position; an empty text gives []."""
        if isinstance(texts, str):
            raise TypeError("predict() takes a list of texts; wrap a single text in a list")
        tokens = [tokenize(text, mode=self.config.model.tokenization) for text in texts]
        return self.predict_tokens(texts, tokens, batch_size=batch_size)

    def predict_tokens(
        self, texts: list[str], tokens: list[list[Token]], batch_size: int = 64
    ) -> list[list[Entity]]:
        """Return the entities of texts whose tokens (with char offsets) are already known."""
        found = tag_sequences(
            self.model,
            self.vocabs,
            [[token.text for token in sentence] for sentence in tokens],
            batch_size=batch_size,
            max_length=self.config.data.max_length,
        )
        results: list[list[Entity]] = []
        for text, sentence, spans in zip(texts, tokens, found, strict=True):
            entities = []
            for scored in spans:
                start = sentence[scored.span.start].start
                end = sentence[scored.span.end - 1].end
                entities.append(
                    Entity(start, end, scored.span.label, text[start:end], round(scored.score, 6))
                )
            results.append(entities)
        return results
