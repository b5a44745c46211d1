"""Entity pairs of labelled examples, and the marked token sequences the model reads.

An `Example` with spans and relations (`nerkit.types`) becomes pair instances
`PairInstance(example, head, tail, labels)`: head and tail index `example.spans`, `labels`
are the model's class labels of the pair.

- `pair_order: annotated`: one instance per annotated (head, tail), labelled with every
  relation the data gives that ordered pair.
- `pair_order: text`: one instance per annotated pair of spans in text order (e1 = the span
  that comes first); a relation from e1 to e2 is labelled "R(e1,e2)", from e2 to e1
  "R(e2,e1)" (the SemEval-2010 convention); no-relation labels stay bare.
- `negative_pairs`: every other pair of an example with relations whose entity types the
  schema links (`Schema.relations_between`, either direction in text order) becomes a
  no-relation instance (the label `negative_label`; none in multi-label models).

Multi-label models drop no-relation labels from the targets: a pair holding only `unknown`
has no label. `marked_tokens` inserts "<e1>" "</e1>" "<e2>" "</e2>" (typed "<e1:PER>", or "$"/"#")
around the two entities and, for long texts, keeps at most `max_length` tokens around them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nerkit.data.schema import Schema
from nerkit.data.tokenize import tokenize
from nerkit.errors import NerkitError
from nerkit.tasks.relations.config import RelationModelConfig
from nerkit.types import Example, Span, Token

__all__ = [
    "Marked",
    "PairInstance",
    "candidate_pairs",
    "directed_label",
    "marked_tokens",
    "marker_tokens",
    "pair_instances",
    "split_directed",
]

_DIRECTED = re.compile(r"^(.+)\((e1,e2|e2,e1)\)$")


@dataclass(frozen=True)
class PairInstance:
    """One entity pair of `examples[example]` and its class labels."""

    example: int
    head: int  # index into the example's spans
    tail: int
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Marked:
    """A marked token sequence: tokens, and (start marker, end marker) positions of e1 / e2."""

    tokens: list[str]
    head: tuple[int, int]
    tail: tuple[int, int]


def directed_label(label: str, forward: bool, no_relation: Sequence[str]) -> str:
    """Return the text-order class label: "R(e1,e2)" / "R(e2,e1)", no-relation labels bare."""
    if label in no_relation:
        return label
    return f"{label}(e1,e2)" if forward else f"{label}(e2,e1)"


def split_directed(label: str) -> tuple[str, bool]:
    """Return (relation, e1 is the head) of a text-order label; a bare label is forward."""
    match = _DIRECTED.match(label)
    if match is None:
        return label, True
    return match.group(1), match.group(2) == "e1,e2"


def _first(example: Example, a: int, b: int) -> bool:
    """Return True when span `a` comes before span `b` in the text (ties: lower index)."""
    sa, sb = example.spans[a], example.spans[b]
    return (sa.start, sa.end, a) < (sb.start, sb.end, b)


def _allowed(schema: Schema | None, example: Example, head: int, tail: int, text: bool) -> bool:
    if schema is None:
        return True
    h, t = example.spans[head].label, example.spans[tail].label
    return bool(schema.relations_between(h, t) or (text and schema.relations_between(t, h)))


def candidate_pairs(
    example: Example, schema: Schema | None, pair_order: str
) -> list[tuple[int, int]]:
    """Return the pairs of distinct spans the schema allows (unordered, e1 first, in text order)."""
    count = len(example.spans)
    pairs = []
    for a in range(count):
        for b in range(count):
            if a == b or (pair_order == "text" and not _first(example, a, b)):
                continue
            if _allowed(schema, example, a, b, pair_order == "text"):
                pairs.append((a, b))
    return pairs


def _annotated(example: Example, config: RelationModelConfig) -> dict[tuple[int, int], list[str]]:
    """Return the class labels of each annotated pair of an example, keyed by (head, tail)."""
    grouped: dict[tuple[int, int], list[str]] = {}
    for relation in example.relations:
        head, tail, label = relation.head, relation.tail, relation.label
        key = (head, tail)
        if config.pair_order == "text":
            forward = _first(example, head, tail) or head == tail
            key = (head, tail) if forward else (tail, head)
            label = directed_label(label, forward, config.no_relation)
        labels = grouped.setdefault(key, [])
        if label not in labels:
            labels.append(label)
    return grouped


def pair_instances(
    examples: Sequence[Example],
    config: RelationModelConfig,
    schema: Schema | None = None,
    negative_label: str | None = None,
) -> list[PairInstance]:
    """Return the pair instances of `examples` (see the module docstring)."""
    instances = []
    for index, example in enumerate(examples):
        grouped = _annotated(example, config)
        if config.negative_pairs and example.relations:
            seen = set(grouped)
            if config.pair_order == "text":
                seen |= {(tail, head) for head, tail in grouped}
            for pair in candidate_pairs(example, schema, config.pair_order):
                if pair not in seen:
                    grouped[pair] = [negative_label] if negative_label is not None else []
        for (head, tail), labels in grouped.items():
            if config.multi_label:
                labels = [label for label in labels if label not in config.no_relation]
            instances.append(PairInstance(index, head, tail, tuple(labels)))
    return instances


def _token_range(tokens: Sequence[Token], span: Span, example: Example) -> tuple[int, int]:
    inside = [k for k, t in enumerate(tokens) if t.start < span.end and t.end > span.start]
    if not inside:
        raise NerkitError(
            f"the entity {example.mention(span)!r} at {span.start}:{span.end} covers no token "
            f"of {example.text[:60]!r} (a span of only whitespace?)"
        )
    return inside[0], inside[-1] + 1


_SYMBOLS = {1: "$", 2: "#"}  # markers: symbols (R-BERT's), the same symbol opens and closes


def _markers(config: RelationModelConfig, which: int, label: str) -> tuple[str, str]:
    if config.markers == "typed":
        return f"<e{which}:{label}>", f"</e{which}:{label}>"
    if config.markers == "symbols":
        return _SYMBOLS[which], _SYMBOLS[which]
    return f"<e{which}>", f"</e{which}>"


def _crop(length: int, opens: tuple[int, int], closes: tuple[int, int], limit: int) -> list[int]:
    """Return the kept positions of a marked sequence: at most `limit`, both start markers."""
    if length <= limit:
        return list(range(length))
    first, last = min(opens), max(closes) + 1
    if last - first <= limit:
        start = max(0, min(first - (limit - (last - first)) // 2, length - limit))
        return list(range(start, start + limit))
    # the entities are far apart: keep a piece from each start marker
    early, late = sorted(opens)
    half = limit // 2
    kept = set(range(early, early + half)) | set(range(late, min(length, late + limit - half)))
    return sorted(kept)


def marker_tokens(marked: Sequence[Marked]) -> list[str]:
    """Return the distinct marker tokens of marked sequences, in order of appearance."""
    found = (m.tokens[k] for m in marked for k in (*m.head, *m.tail))
    return list(dict.fromkeys(found))


def marked_tokens(example: Example, head: int, tail: int, config: RelationModelConfig) -> Marked:
    """Return the tokens of an example with markers around span `head` (e1) and `tail` (e2)."""
    tokens = list(example.tokens) if example.tokens is not None else tokenize(
        example.text, mode=config.tokenization
    )  # fmt: skip
    entities = []
    for which, index in ((1, head), (2, tail)):
        span = example.spans[index]
        start, end = _token_range(tokens, span, example)
        entities.append((which, start, end, *_markers(config, which, span.label)))
    out: list[str] = []
    opened: dict[int, int] = {}
    closed: dict[int, int] = {}
    for position in range(len(tokens) + 1):
        # inner entities close first; outer ones open first; e1 opens before an identical e2
        closing = sorted((e for e in entities if e[2] == position), key=lambda e: (-e[1], -e[0]))
        for which, _, _, _, close in closing:
            closed[which] = len(out)
            out.append(close)
        opening = sorted((e for e in entities if e[1] == position), key=lambda e: (-e[2], e[0]))
        for which, _, _, open_, _ in opening:
            opened[which] = len(out)
            out.append(open_)
        if position < len(tokens):
            out.append(tokens[position].text)
    kept = _crop(len(out), (opened[1], opened[2]), (closed[1], closed[2]), config.max_length)
    new = {old: k for k, old in enumerate(kept)}

    def moved(which: int) -> tuple[int, int]:
        close = closed[which]
        if close in new:
            return new[opened[which]], new[close]
        before = [k for k, old in enumerate(kept) if old < close]
        return new[opened[which]], before[-1] + 1

    return Marked([out[old] for old in kept], moved(1), moved(2))
