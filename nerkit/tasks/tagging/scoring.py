"""Predict char spans for examples with a tagger, and score them against the gold spans.

The same path serves dev evaluation inside the training loop and `nerkit evaluate`:
an example's own tokens are used when its file defines them (CoNLL), otherwise the
text is tokenized in the model's mode, exactly as the predictor does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nerkit.encoders.features import Vocabs
from nerkit.tasks.tagging.config import ModelConfig
from nerkit.tasks.tagging.data import char_span, example_tokens
from nerkit.tasks.tagging.inference import tag_sequences
from nerkit.tasks.tagging.model import TagScorer
from nerkit.types import Example, Span


def predict_examples(
    model: TagScorer,
    vocabs: Vocabs,
    config: ModelConfig,
    examples: Sequence[Example],
    batch_size: int = 64,
) -> list[list[Span]]:
    """Return the predicted char spans of every example."""
    tokens = [example_tokens(example, config.tokenization) for example in examples]
    found = tag_sequences(
        model,
        vocabs,
        [[token.text for token in sentence] for sentence in tokens],
        batch_size=batch_size,
        max_length=config.max_length,
        confidence=False,
    )
    return [
        [char_span(s.span, sentence) for s in spans]
        for sentence, spans in zip(tokens, found, strict=True)
    ]


def score_examples(
    model: TagScorer,
    vocabs: Vocabs,
    config: ModelConfig,
    examples: Sequence[Example],
    batch_size: int = 64,
) -> Any:
    """Return the span-level `Report` (nerkit.evaluation) of the model on `examples`."""
    from nerkit.evaluation.metrics import score_spans

    predicted = predict_examples(model, vocabs, config, examples, batch_size)
    return score_spans([list(example.spans) for example in examples], predicted)


def summary(report: Any) -> dict[str, float]:
    """Return the micro precision, recall and F1 of a report as plain floats."""
    scores = report.to_dict()
    return {key: float(scores[key]) for key in ("precision", "recall", "f1")}
