"""Tagging examples for training: read them, align spans to token tags, cut long ones.

Gold tags are always re-derived from the char spans (`spans_to_token_tags`), never
copied from a file's tag column, so every training sequence is well-formed in the
model's scheme whatever scheme the file used. Sentences longer than
`model.max_length` tokens are cut into pieces; spans crossing a cut are clipped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from nerkit.config import DataConfig
from nerkit.data.alignment import spans_to_token_tags
from nerkit.data.tokenize import tokenize
from nerkit.schemes import Scheme, parse_scheme, spans_to_tags, tag_inventory, tags_to_spans
from nerkit.tasks.base import check_data_file
from nerkit.types import Example, Span, Token

logger = logging.getLogger(__name__)


def read_examples(path: Path, data: DataConfig, format: str | None = None) -> list[Example]:
    """Return every example of a data file, reading it in the configured format."""
    from nerkit.data.formats import read

    path = check_data_file(path)
    format = format or data.format
    # the scheme option belongs to tag-column files; other formats carry spans
    options = {"scheme": data.scheme} if data.scheme and format == "conll" else {}
    return list(read(path, format, **options))


def example_tokens(example: Example, tokenization: str) -> list[Token]:
    """Return the tokens of an example: the file's own tokens when it has them."""
    if example.tokens is not None:
        return list(example.tokens)
    return tokenize(example.text, mode=tokenization)  # type: ignore[arg-type]


def char_span(span: Span, tokens: Sequence[Token]) -> Span:
    """Return the character span of a span in token offsets over `tokens`."""
    return Span(tokens[span.start].start, tokens[span.end - 1].end, span.label)


def labels_of(examples: Sequence[Example]) -> list[str]:
    """Return the sorted entity labels used in `examples`."""
    return sorted({span.label for example in examples for span in example.spans})


def tag_list(examples: Sequence[Example], scheme: str) -> list[str]:
    """Return the model's tag inventory over the labels of `examples`."""
    return tag_inventory(labels_of(examples), parse_scheme(scheme))


def tagged_sequences(
    examples: Sequence[Example], tokenization: str, scheme: str, max_length: int
) -> list[tuple[list[str], list[str]]]:
    """Return (token strings, tag strings) pieces of at most `max_length` tokens per example."""
    parsed = parse_scheme(scheme)
    pieces: list[tuple[list[str], list[str]]] = []
    unaligned = 0
    for example in examples:
        tokens = example_tokens(example, tokenization)
        if not tokens:
            continue
        tags, rejected = spans_to_token_tags(tokens, example.spans, parsed)
        unaligned += len(rejected)
        texts = [token.text for token in tokens]
        for start in range(0, len(tokens), max_length):
            end = min(start + max_length, len(tokens))
            piece_tags = (
                tags if (start, end) == (0, len(tokens)) else cut_tags(tags, start, end, parsed)
            )
            pieces.append((texts[start:end], piece_tags))
    if unaligned:
        logger.warning("%d spans do not fall on token boundaries and were left out", unaligned)
    return pieces


def cut_tags(tags: list[str], start: int, end: int, scheme: Scheme) -> list[str]:
    """Return the tags of tokens [start, end), with spans crossing the cut clipped to it."""
    clipped = [
        Span(max(span.start, start) - start, min(span.end, end) - start, span.label)
        for span in tags_to_spans(tags, scheme)
        if span.start < end and span.end > start
    ]
    return spans_to_tags(clipped, end - start, scheme)
