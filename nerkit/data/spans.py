"""Span utilities shared by readers, writers and taggers: sorting, overlap detection and the
overlap policy that flat (one tag per token) taggers need.

Readers keep overlapping (nested or crossing) spans exactly as annotated and only flag them
(``Example.meta["overlaps"] = True``); a flat tagger must then choose one span of each overlapping
group, and `resolve_overlaps` is the one documented place that makes that choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Literal

from nerkit.errors import NerkitError
from nerkit.types import Relation, Span

__all__ = ["OverlapPolicy", "has_overlaps", "resolve_overlaps", "sort_spans"]

OverlapPolicy = Literal["longest", "first", "error"]


def has_overlaps(spans: Iterable[Span]) -> bool:
    """Return True when two of the spans share at least one character."""
    ordered = sorted(spans)
    return any(b.start < a.end for a, b in pairwise(ordered))


def resolve_overlaps(spans: Sequence[Span], policy: OverlapPolicy = "longest") -> list[Span]:
    """Return a sorted, non-overlapping subset of `spans` chosen by `policy`.

    - ``"longest"``: keep the longest span of each overlapping group; ties go to the earlier
      start, then the smaller label; every span overlapping a kept one is dropped (greedy).
    - ``"first"``: scan by start (longer first at the same start) and keep a span unless it
      overlaps one already kept.
    - ``"error"``: raise `NerkitError` naming the first overlapping pair.
    Exact duplicates collapse to one span under every policy.
    """
    unique = sorted(set(spans))
    if policy == "error":
        for a, b in pairwise(unique):
            if b.start < a.end:
                raise NerkitError(
                    f"expected non-overlapping spans, found {a} and {b} "
                    "(choose overlaps='longest' or 'first' to keep one of them)"
                )
        return unique
    if policy == "longest":
        order = sorted(unique, key=lambda s: (-(s.end - s.start), s.start, s.label))
    elif policy == "first":
        order = sorted(unique, key=lambda s: (s.start, -(s.end - s.start), s.label))
    else:
        raise ValueError(f"overlap policy must be 'longest', 'first' or 'error', got {policy!r}")
    kept: list[Span] = []
    for span in order:
        if all(span.end <= k.start or k.end <= span.start for k in kept):
            kept.append(span)
    return sorted(kept)


def sort_spans(
    spans: Sequence[Span], relations: Sequence[Relation] = ()
) -> tuple[tuple[Span, ...], tuple[Relation, ...]]:
    """Return the spans sorted and the relations re-indexed to follow them."""
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    new_index = {old: new for new, old in enumerate(order)}
    sorted_relations = tuple(
        Relation(new_index[r.head], new_index[r.tail], r.label) for r in relations
    )
    return tuple(spans[i] for i in order), sorted_relations
