"""Examples -> what the joint model reads: token pieces with tags and entity pairs.

Training (`training_pieces`): each example's tokens (its own, or the text tokenized in the
model's mode) get the tags of its spans, as for a tagger, and its *pairs* are the ordered
pairs (head, tail) of its spans that are annotated, plus those whose entity types the
training schema links (`Schema.relations_between`), which get the no-relation class. Spans
are located in token offsets [start, end); a span that does not fall on token boundaries (or
overlaps one encoded before it) has no tags and no pairs. Texts longer than `max_length`
tokens are cut into pieces as for a tagger; a pair whose two entities fall in different
pieces is left out (counted and logged).

Prediction (`pair_rows`): given entity spans and the pairs to classify, one row per text
holding all its pairs, or, for a text longer than `max_length` tokens, one row per window
of `max_length` tokens centred on a pair (a pair wider than that is not classified).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from nerkit.data.alignment import spans_to_token_tags
from nerkit.data.schema import Schema
from nerkit.schemes import parse_scheme
from nerkit.tasks.base import located_error
from nerkit.tasks.joint.config import JointModelConfig
from nerkit.tasks.tagging.data import cut_tags, example_tokens
from nerkit.types import Example, Span, Token

logger = logging.getLogger(__name__)

__all__ = [
    "Pair",
    "Piece",
    "negative_label",
    "pair_rows",
    "token_ranges",
    "training_pieces",
    "type_id",
]


@dataclass(frozen=True)
class Pair:
    """An ordered entity pair in token offsets of its piece, with the entities' type ids."""

    head: tuple[int, int]
    tail: tuple[int, int]
    head_type: int
    tail_type: int


@dataclass(frozen=True)
class Piece:
    """Tokens of one text (or of a window of it), their tags, pairs and the pairs' classes.

    `tags` and `labels` are empty at prediction; `keys` (prediction) say which input pair
    each pair is: (text index, pair index).
    """

    tokens: list[str]
    pairs: list[Pair]
    tags: list[str]
    labels: list[str]
    keys: list[tuple[int, int]]

    def __len__(self) -> int:
        return len(self.tokens)


def token_ranges(tokens: Sequence[Token], spans: Sequence[Span]) -> list[tuple[int, int] | None]:
    """Return each char span's token range [first, last + 1), or None when its start or end
    is not a token boundary."""
    first = {token.start: i for i, token in enumerate(tokens)}
    last = {token.end: i for i, token in enumerate(tokens)}
    ranges: list[tuple[int, int] | None] = []
    for span in spans:
        a, b = first.get(span.start), last.get(span.end)
        ranges.append((a, b + 1) if a is not None and b is not None and a <= b else None)
    return ranges


def negative_label(examples: Sequence[Example], config: JointModelConfig) -> str:
    """Return the class of the unannotated pairs: the first no-relation label the data uses."""
    used = {r.label for e in examples for r in e.relations}
    return next((n for n in config.no_relation if n in used), config.no_relation[0])


def _annotated(example: Example, number: int) -> dict[tuple[int, int], str]:
    """Return the relation label of each annotated (head, tail); raise on a pair with two."""
    labels: dict[tuple[int, int], str] = {}
    for k, relation in enumerate(example.relations):
        key = (relation.head, relation.tail)
        if labels.setdefault(key, relation.label) != relation.label:
            problem = (f"the pair ({relation.head}, {relation.tail}) holds two relations, "
                       f"{labels[key]!r} and {relation.label!r}")  # fmt: skip
            hint = ("the joint model gives each ordered pair one; use task: relations with "
                    "model.multi_label for such data")  # fmt: skip
            raise located_error(example, number, k, problem, hint, "training data")
    return labels


def _example_pairs(
    example: Example,
    number: int,
    ranges: list[tuple[int, int] | None],
    schema: Schema,
    types: list[str],
    negative: str,
    size: int,
) -> tuple[dict[int, tuple[list[Pair], list[str]]], int]:
    """Return an example's training pairs and their classes by piece, and how many annotated
    pairs were left out (an entity without a token range, or the two in different pieces)."""
    annotated = _annotated(example, number)
    by_piece: dict[int, tuple[list[Pair], list[str]]] = {}
    dropped = 0
    for a, head in enumerate(example.spans):
        for b, tail in enumerate(example.spans):
            label = annotated.get((a, b))
            linked = label is not None or schema.relations_between(head.label, tail.label)
            if a == b or not linked:
                continue
            first, second = ranges[a], ranges[b]
            piece = _piece(first, size)
            if first is None or second is None or piece is None or piece != _piece(second, size):
                dropped += label is not None
                continue
            pairs, labels = by_piece.setdefault(piece, ([], []))
            pairs.append(_pair(first, second, piece * size, head.label, tail.label, types))
            labels.append(label if label is not None else negative)
    return by_piece, dropped


def training_pieces(
    examples: Sequence[Example], config: JointModelConfig, schema: Schema, types: list[str]
) -> list[Piece]:
    """Return the training pieces of labelled examples (see the module doc)."""
    scheme, size = parse_scheme(config.scheme), config.max_length
    negative = negative_label(examples, config)
    pieces: list[Piece] = []
    unaligned = dropped = 0
    for number, example in enumerate(examples, start=1):
        tokens = example_tokens(example, config.tokenization)
        if not tokens:
            continue
        tags, rejected = spans_to_token_tags(tokens, example.spans, scheme)
        unaligned += len(rejected)
        out = set(rejected)
        ranges = [None if span in out else r
                  for span, r in zip(example.spans, token_ranges(tokens, example.spans),
                                     strict=True)]  # fmt: skip
        by_piece, lost = _example_pairs(example, number, ranges, schema, types, negative, size)
        dropped += lost
        texts = [token.text for token in tokens]
        for k, start in enumerate(range(0, len(tokens), size)):
            end = min(start + size, len(tokens))
            whole = (start, end) == (0, len(tokens))
            piece_tags = tags if whole else cut_tags(tags, start, end, scheme)
            pairs, labels = by_piece.get(k, ([], []))
            pieces.append(Piece(texts[start:end], pairs, piece_tags, labels, []))
    if unaligned:
        logger.warning("%d spans do not fall on token boundaries and were left out", unaligned)
    if dropped:
        logger.warning(
            "%d annotated relations were left out: an entity is off token boundaries, or the "
            "two entities fall in different pieces of max_length %d tokens", dropped, size,
        )  # fmt: skip
    return pieces


def _piece(tokens: tuple[int, int] | None, size: int) -> int | None:
    """Return the piece of `size` tokens that holds a token range, or None (cut, or no range)."""
    if tokens is None or (tokens[1] - 1) // size != tokens[0] // size:
        return None
    return tokens[0] // size


def type_id(types: Sequence[str], label: str) -> int:
    """Return the type embedding row of an entity label: 1 + its index in `types`, 0 unknown."""
    return types.index(label) + 1 if label in types else 0


def _pair(
    head: tuple[int, int], tail: tuple[int, int], offset: int, head_label: str,
    tail_label: str, types: Sequence[str],
) -> Pair:  # fmt: skip
    """Return the pair of two token ranges, moved to a piece starting at token `offset`."""
    return Pair(
        (head[0] - offset, head[1] - offset), (tail[0] - offset, tail[1] - offset),
        type_id(types, head_label), type_id(types, tail_label),
    )  # fmt: skip


def _window(start: int, end: int, length: int, size: int) -> int:
    """Return the first token of the `size`-token window centred on tokens [start, end)."""
    first = start - (size - (end - start)) // 2
    return max(0, min(first, length - size))


def pair_rows(
    tokens: Sequence[Sequence[Token]],
    spans: Sequence[Sequence[Span]],
    pairs: Sequence[Sequence[tuple[int, int]]],
    types: list[str],
    size: int,
) -> list[Piece]:
    """Return the pieces that classify `pairs[i]` (indices into `spans[i]`) of every text."""
    rows: list[Piece] = []
    for i, (text_tokens, text_spans, text_pairs) in enumerate(
        zip(tokens, spans, pairs, strict=True)
    ):
        ranges = token_ranges(text_tokens, text_spans)
        words = [token.text for token in text_tokens]
        whole = Piece(words[:size], [], [], [], [])
        windows: dict[int, Piece] = {}
        for k, (a, b) in enumerate(text_pairs):
            first, second = ranges[a], ranges[b]
            if first is None or second is None:
                continue
            start, end = min(first[0], second[0]), max(first[1], second[1])
            if end - start > size:
                continue  # wider than the model's window
            offset = 0 if len(words) <= size else _window(start, end, len(words), size)
            piece = whole if len(words) <= size else windows.setdefault(
                offset, Piece(words[offset : offset + size], [], [], [], []))  # fmt: skip
            head, tail = text_spans[a].label, text_spans[b].label
            piece.pairs.append(_pair(first, second, offset, head, tail, types))
            piece.keys.append((i, k))
        rows.extend(p for p in [whole, *windows.values()] if p.pairs)
    return rows
