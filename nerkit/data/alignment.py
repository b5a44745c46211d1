"""Character spans <-> token tags, and sliding windows over long token sequences.

Character offsets are the public currency (`nerkit.types`); tags live on tokens. This module
is the one place that converts between the two, and it never moves a span silently: a span
whose ends do not fall on token boundaries is returned to the caller, who reports it.

Windows: a text longer than a model's maximum length is tagged in overlapping windows whose
predictions `merge_window_spans` joins back (the rule is in its docstring).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

from nerkit.schemes import Scheme, parse_scheme, spans_to_tags, tags_to_spans
from nerkit.types import Span, Token

__all__ = ["merge_window_spans", "spans_to_token_tags", "token_tags_to_spans", "windows"]


def _scheme(scheme: Scheme | str) -> Scheme:
    return scheme if isinstance(scheme, Scheme) else parse_scheme(scheme)


def spans_to_token_tags(
    tokens: Sequence[Token], spans: Sequence[Span], scheme: Scheme | str
) -> tuple[list[str], list[Span]]:
    """Return the token tags encoding the char `spans`, and the spans that could not be encoded.

    A span is encoded when its start is the start of a token and its end the end of a token.
    The others are returned (in input order) and left out of the tags: spans that cut a token,
    that cover no token (only whitespace), or that overlap a span encoded before them.
    """
    first_token = {tok.start: i for i, tok in enumerate(tokens)}
    last_token = {tok.end: i for i, tok in enumerate(tokens)}
    token_spans: list[Span] = []
    rejected: list[Span] = []
    taken: set[int] = set()
    for span in sorted(spans):
        first, last = first_token.get(span.start), last_token.get(span.end)
        if first is None or last is None or last < first or taken & set(range(first, last + 1)):
            rejected.append(span)
            continue
        taken.update(range(first, last + 1))
        token_spans.append(Span(first, last + 1, span.label))
    rejected_set = set(rejected)
    in_input_order = [s for s in spans if s in rejected_set]
    return spans_to_tags(token_spans, len(tokens), _scheme(scheme)), in_input_order


def token_tags_to_spans(
    tokens: Sequence[Token], tags: Sequence[str], scheme: Scheme | str
) -> list[Span]:
    """Return the char spans that token `tags` describe (lenient, conlleval-style chunking)."""
    if len(tokens) != len(tags):
        raise ValueError(f"got {len(tags)} tags for {len(tokens)} tokens (one tag per token)")
    return [
        Span(tokens[s.start].start, tokens[s.end - 1].end, s.label)
        for s in tags_to_spans(list(tags), _scheme(scheme), strict=False)
    ]


def windows(n_tokens: int, max_len: int, stride: int) -> list[tuple[int, int]]:
    """Return overlapping ``(start, end)`` token windows that cover ``range(n_tokens)``.

    Windows are at most `max_len` tokens long and start every `stride` tokens (so consecutive
    windows share ``max_len - stride`` tokens); the last window is moved left to end exactly at
    `n_tokens` so that it is full length. Every run of up to ``max_len - stride`` tokens lies
    wholly inside some window. Zero tokens give no window.
    """
    if max_len < 1 or not 0 < stride <= max_len:
        raise ValueError(f"need max_len >= 1 and 0 < stride <= max_len, got {max_len}, {stride}")
    if n_tokens <= max_len:
        return [(0, n_tokens)] if n_tokens > 0 else []
    result: list[tuple[int, int]] = []
    start = 0
    while start + max_len < n_tokens:
        result.append((start, start + max_len))
        start += stride
    result.append((n_tokens - max_len, n_tokens))
    return result


def merge_window_spans(
    window_bounds: Sequence[tuple[int, int]], window_spans: Sequence[Sequence[Span]]
) -> list[Span]:
    """Return one sorted, non-overlapping list of spans from per-window predictions.

    `window_spans[k]` holds the spans predicted in window `window_bounds[k]`, both in absolute
    offsets (token indices, or characters: the same unit for both). The rule:

    1. every prediction gets a *margin*: its distance to the nearer edge of its window, where
       an edge that is also the edge of the whole sequence counts as infinitely far (nothing
       was cut there);
    2. predictions are taken by decreasing margin, then decreasing length, then window order;
       a prediction is kept unless it overlaps one already kept.

    So the same entity seen by two windows is kept once (from the window where it sits most
    centrally); a fragment cut by a window edge has margin 0 and loses to the whole entity seen
    by a neighbouring window; nothing that does not conflict is dropped.
    """
    if len(window_bounds) != len(window_spans):
        raise ValueError(f"got {len(window_spans)} span lists for {len(window_bounds)} windows")
    if not window_bounds:
        return []
    low = min(start for start, _ in window_bounds)
    high = max(end for _, end in window_bounds)
    candidates: list[tuple[float, int, int, Span]] = []
    for k, ((w_start, w_end), spans) in enumerate(zip(window_bounds, window_spans, strict=True)):
        for span in spans:
            left = math.inf if w_start == low else span.start - w_start
            right = math.inf if w_end == high else w_end - span.end
            candidates.append((-min(left, right), -(span.end - span.start), k, span))
    kept: list[Span] = []  # sorted by start; disjoint, so sorted by end as well
    starts: list[int] = []
    for *_, span in sorted(candidates, key=lambda c: c[:3]):
        # only the kept neighbours on either side can overlap: bisect instead of a scan
        index = bisect_right(starts, span.start)
        if index and kept[index - 1].end > span.start:
            continue
        if index < len(kept) and kept[index].start < span.end:
            continue
        kept.insert(index, span)
        starts.insert(index, span.start)
    return kept
