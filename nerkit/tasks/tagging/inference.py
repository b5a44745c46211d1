"""Tag token sequences with a trained tagger: windows, length-sorted batches, scored spans.

Used by the training loop (dev evaluation) and by the predictor, so both see exactly
the same decoding. Spans here are in token offsets; the caller maps them to characters.

Confidence: the score of an entity is the MINIMUM over its tokens of the posterior
probability of the tag the decoder chose there (CRF marginals, or softmax outputs for
the softmax head). The minimum makes an entity only as confident as its weakest token.

`nbest_sequences` gives the k best analyses of whole sequences (CRF models only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch
from torch import Tensor

from nerkit.data.alignment import merge_window_spans, windows
from nerkit.encoders.features import Batch, Vocabs, collate, featurize, padded_rows
from nerkit.runtime import eval_mode, num_threads
from nerkit.schemes import Scheme, parse_scheme, tags_to_spans
from nerkit.tasks.tagging.heads import CRFHead
from nerkit.tasks.tagging.model import TagScorer
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


def tag_sequences(
    model: TagScorer,
    vocabs: Vocabs,
    sequences: Sequence[Sequence[str]],
    *,
    batch_size: int = 64,
    max_length: int = 256,
    confidence: bool = True,
    threads: int | None = None,
) -> list[list[ScoredSpan]]:
    """Return the scored token spans of every token sequence (empty sequences give []).

    `confidence=False` skips computing the posteriors (faster, for scoring runs) and sets
    every score to NaN. `threads` (default: torch's thread count) batches run at once, each
    with one intra-op thread: a BiLSTM batch of 64 sentences keeps one core busy but not two,
    so two batches side by side use two cores where one batch on two threads does not
    (torch releases the GIL inside its kernels). The results do not depend on `threads`.
    """
    items = _windows_of([len(tokens) for tokens in sequences], max_length)
    order = sorted(range(len(items)), key=lambda k: items[k][2] - items[k][1])
    found: list[list[ScoredSpan]] = [[] for _ in items]
    scheme = parse_scheme(model.config.scheme)
    tags = list(model.tags)

    @torch.no_grad()  # grad mode is per thread
    def tag_chunk(chunk: list[int]) -> None:
        instances = [
            featurize(sequences[items[k][0]][items[k][1] : items[k][2]], vocabs, model.config)
            for k in chunk
        ]
        paths, chosen = _decode(model, collate(instances), confidence)
        for b, (k, path) in enumerate(zip(chunk, paths, strict=True)):
            offset = items[k][1]
            for span in tags_to_spans([tags[i] for i in path], scheme):
                score = math.nan if chosen is None else min(chosen[b][span.start : span.end])
                if offset:
                    span = Span(span.start + offset, span.end + offset, span.label)
                found[k].append(ScoredSpan(span, score))

    chunks = [order[first : first + batch_size] for first in range(0, len(order), batch_size)]
    workers = min(len(chunks), torch.get_num_threads() if threads is None else threads)
    with eval_mode(model):
        if workers <= 1:
            for chunk in chunks:
                tag_chunk(chunk)
        else:
            with num_threads(1), ThreadPoolExecutor(workers) as pool:
                list(pool.map(tag_chunk, chunks))  # each chunk fills its own entries of found
    return _merge(items, found, len(sequences))


def _decode(
    model: TagScorer, batch: Batch, confidence: bool
) -> tuple[list[list[int]], list[list[float]] | None]:
    """Return the best paths and, with `confidence`, each step's probability of its tag.

    One gather and one `tolist` per batch: reading the (B, T, C) probabilities one
    element at a time from Python costs more than the whole CRF.
    """
    if not confidence:
        return model.decode(batch), None
    paths, probabilities = model.decode_with_probabilities(batch)
    length = probabilities.size(1)
    padded = padded_rows(paths, length).view(len(paths), length, 1)
    chosen = probabilities.gather(2, padded)  # (B, T, 1)
    return paths, chosen.view(len(paths), length).tolist()


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


@torch.no_grad()
def nbest_sequences(
    model: TagScorer,
    vocabs: Vocabs,
    sequences: Sequence[Sequence[str]],
    k: int,
    *,
    batch_size: int = 64,
) -> list[list[tuple[list[ScoredSpan], float]]]:
    """Return up to k analyses of each sequence, most probable first: (scored spans, probability).

    A path's probability is exp(score - log Z); a span's score is, as in `tag_sequences`,
    the lowest CRF marginal of the tags this path chose on its tokens. An empty sequence
    has one analysis: no spans, probability 1. CRF models only, and no windows: each
    sequence is decoded whole (the k best paths of overlapping windows do not combine
    into the k best paths of the whole sequence), so the caller bounds the length.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")
    if not isinstance(model.head, CRFHead):
        raise ValueError(f"n-best decoding needs a CRF head, got {type(model.head).__name__}")
    crf, scheme = model.head.crf, parse_scheme(model.config.scheme)
    results: list[list[tuple[list[ScoredSpan], float]]] = [
        [([], 1.0)] if not tokens else [] for tokens in sequences
    ]
    present = sorted((i for i, s in enumerate(sequences) if s), key=lambda i: len(sequences[i]))
    with eval_mode(model):
        for first in range(0, len(present), batch_size):
            chunk = present[first : first + batch_size]
            batch = collate([featurize(sequences[i], vocabs, model.config) for i in chunk])
            emissions = model.emissions(batch)  # (B, T, C)
            log_z = crf.log_partition(emissions, batch.mask).tolist()
            marginals = crf.marginals(emissions, batch.mask)  # (B, T, C)
            decoded = crf.decode_nbest(emissions, batch.mask, k)
            for b, (i, paths) in enumerate(zip(chunk, decoded, strict=True)):
                results[i] = [
                    (
                        _path_spans(path, marginals[b], model.tags, scheme),
                        _probability(score, log_z[b]),
                    )
                    for path, score in paths
                ]
    return results


def _path_spans(
    path: list[int], marginals: Tensor, tags: Sequence[str], scheme: Scheme
) -> list[ScoredSpan]:
    """Return the spans of one tag path, scored by the marginals (T, C) of its tags."""
    chosen = marginals[torch.arange(len(path)), torch.tensor(path, dtype=torch.long)].tolist()
    return [
        ScoredSpan(span, min(chosen[span.start : span.end]))
        for span in tags_to_spans([tags[i] for i in path], scheme)
    ]


def _probability(score: float, log_z: float) -> float:
    # a path's score can exceed log Z by rounding (float32) when it holds all the mass
    return min(1.0, math.exp(score - log_z))
