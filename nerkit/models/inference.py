"""Tag token sequences with a trained tagger: windows, length-sorted batches, scored spans.

Used by the training loop (dev evaluation) and by the predictor, so both see exactly
the same decoding. Spans here are in token offsets; the caller maps them to characters.

Confidence: the score of an entity is the MINIMUM over its tokens of the posterior
probability of the tag the decoder chose there (CRF marginals, or softmax outputs for
the softmax head). The minimum makes an entity only as confident as its weakest token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from nerkit.data.alignment import merge_window_spans, windows
from nerkit.models.features import Vocabs, collate, featurize
from nerkit.models.tagger import Tagger
from nerkit.schemes import parse_scheme, tags_to_spans
from nerkit.types import Span


@dataclass(frozen=True)
class ScoredSpan:
    """A predicted span in token offsets with its confidence in [0, 1]."""

    span: Span
    score: float


def _windows_of(lengths: Sequence[int], max_length: int) -> list[tuple[int, int, int]]:
    """Return (sequence index, start, end) of every window; overlap is a quarter of a window."""
    stride = max(1, max_length - max_length // 4)
    return [
        (i, start, end)
        for i, length in enumerate(lengths)
        for start, end in windows(length, max_length, stride)
    ]


@torch.no_grad()
def tag_sequences(
    model: Tagger,
    vocabs: Vocabs,
    sequences: Sequence[Sequence[str]],
    *,
    batch_size: int = 64,
    max_length: int = 256,
    confidence: bool = True,
) -> list[list[ScoredSpan]]:
    """Return the scored token spans of every token sequence (empty sequences give []).

    `confidence=False` skips computing the posteriors (faster, for scoring runs) and sets
    every score to NaN.
    """
    items = _windows_of([len(tokens) for tokens in sequences], max_length)
    order = sorted(range(len(items)), key=lambda k: items[k][2] - items[k][1])
    found: list[list[ScoredSpan]] = [[] for _ in items]
    scheme = parse_scheme(model.config.scheme)
    was_training = model.training
    model.eval()
    try:
        for first in range(0, len(order), batch_size):
            chunk = order[first : first + batch_size]
            instances = [
                featurize(sequences[items[k][0]][items[k][1] : items[k][2]], vocabs, model.config)
                for k in chunk
            ]
            batch = collate(instances)
            if confidence:
                paths, probabilities = model.decode_with_probabilities(batch)
            else:
                paths, probabilities = model.decode(batch), None
            for b, (k, path) in enumerate(zip(chunk, paths, strict=True)):
                offset = items[k][1]
                for span in tags_to_spans([model.tags[i] for i in path], scheme):
                    score = math.nan
                    if probabilities is not None:
                        steps = range(span.start, span.end)
                        score = min(float(probabilities[b, t, path[t]]) for t in steps)
                    shifted = Span(span.start + offset, span.end + offset, span.label)
                    found[k].append(ScoredSpan(shifted, score))
    finally:
        model.train(was_training)
    return _merge(items, found, len(sequences))


def _merge(
    items: list[tuple[int, int, int]], found: list[list[ScoredSpan]], count: int
) -> list[list[ScoredSpan]]:
    """Join the windows of each sequence with `merge_window_spans`, keeping the best score."""
    grouped: list[list[int]] = [[] for _ in range(count)]
    for k, (i, _, _) in enumerate(items):
        grouped[i].append(k)
    results: list[list[ScoredSpan]] = []
    for keys in grouped:
        if len(keys) == 1:
            results.append(found[keys[0]])
            continue
        scores: dict[Span, float] = {}
        for k in keys:
            for scored in found[k]:
                if scored.span not in scores or scored.score > scores[scored.span]:
                    scores[scored.span] = scored.score
        bounds = [(items[k][1], items[k][2]) for k in keys]
        merged = merge_window_spans(bounds, [[s.span for s in found[k]] for k in keys])
        results.append([ScoredSpan(span, scores[span]) for span in merged])
    return results
