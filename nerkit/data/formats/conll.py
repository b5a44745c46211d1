"""CoNLL column format: one token per line, columns separated by whitespace, token first and
tag last (or ``tag_column``), a blank line between sentences, ``-DOCSTART-`` lines between
documents. Character-per-line Chinese corpora (MSRA ``char\\tBIO``, Resume ``char BMES``) are
this format too.

Text reconstruction (exact rule): a sentence whose tokens are all single characters and which
has a CJK or full-width character (`nerkit.data.tokenize.is_wide`) is a character-per-line
sentence and is joined with no separator, so MSRA's ``1 9 9 7 年`` gives back ``1997年``.
Otherwise tokens are joined with no separator when the last character of the previous token
and the first character of the next one are both CJK or full-width, and with a single space
otherwise: ``中国 人民`` -> ``中国人民``, ``EU rejects`` -> ``EU rejects``, ``在 Apple`` ->
``在 Apple``. Each `Token` points into that text.

Example.meta: ``line`` (first line of the sentence), ``scheme`` (given or detected),
``scheme_detected``, ``doc`` (index of the -DOCSTART- document, 0 before any), ``docstart``
(True on the first sentence after a -DOCSTART- line), ``columns`` (the middle columns per token
when there are more than two), ``violations`` (token positions breaking the scheme).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerkit.data.alignment import spans_to_token_tags, token_tags_to_spans
from nerkit.data.formats._io import drop_unsupported as _drop
from nerkit.data.formats._io import iter_lines, located
from nerkit.data.safe_write import atomic_open
from nerkit.data.tokenize import TokenizeMode, is_wide, tokenize
from nerkit.errors import DataFormatError, NerkitError, SchemeError
from nerkit.schemes import Scheme, detect_scheme, parse_scheme, split_tag, violations
from nerkit.types import Example, Span, Token

__all__ = ["join_tokens", "read_conll", "snap_span", "write_conll"]

logger = logging.getLogger(__name__)
DOCSTART = "-DOCSTART-"
_PREFIXES = {
    Scheme.IOB1: "BI",
    Scheme.BIO: "BI",
    Scheme.BIOES: "BIESLUM",
    Scheme.BMES: "BMESI",
}

_HINTS = {
    True: "resolve overlaps first: nerkit.data.spans.resolve_overlaps, or --overlaps longest",
    False: "tokenize per character: tokenize_mode='char', or --tokenize char",
}
_Row = tuple[int, list[str]]  # (line number, columns)


def join_tokens(words: Sequence[str]) -> tuple[str, tuple[Token, ...]]:
    """Return the text the words make (see the module docstring) and their tokens in it."""
    parts: list[str] = []
    tokens: list[Token] = []
    position = 0
    per_character = all(len(word) == 1 for word in words) and any(map(is_wide, words))
    for i, word in enumerate(words):
        if i and not per_character and not (is_wide(words[i - 1][-1]) and is_wide(word[0])):
            parts.append(" ")
            position += 1
        parts.append(word)
        tokens.append(Token(word, position, position + len(word)))
        position += len(word)
    return "".join(parts), tuple(tokens)


def _sentences(path: Path, errors: str) -> Iterator[tuple[list[_Row], int, bool]]:
    """Yield (rows, document index, starts a document) per sentence; -DOCSTART- lines skipped."""
    rows: list[_Row] = []
    doc, docstart = 0, False
    for number, line in iter_lines(path, errors):
        columns = line.split()
        if columns and columns[0] != DOCSTART:
            rows.append((number, columns))
            continue
        if rows:
            yield rows, doc, docstart
            rows, docstart = [], False
        if columns:  # a -DOCSTART- line
            doc, docstart = doc + 1, True
    if rows:
        yield rows, doc, docstart


def _tag(path: Path, number: int, columns: list[str], tag_column: int) -> str:
    if len(columns) < 2:
        raise DataFormatError(
            path,
            number,
            f"expected a token and a tag, got 1 column: {columns[0]!r}",
            hint="columns are separated by whitespace; is the tag column missing?",
        )
    try:
        return columns[tag_column]
    except IndexError:
        raise DataFormatError(
            path,
            number,
            f"expected a tag in column {tag_column}, found only {len(columns)} columns",
            hint="set tag_column to the index of the tag column",
        ) from None


def _check_tag(path: Path, number: int, tag: str, scheme: Scheme | None) -> None:
    try:
        prefix, _ = split_tag(tag)
    except SchemeError as error:
        raise DataFormatError(
            path,
            number,
            str(error),
            hint="if the tag is in another column, name it: tag_column= / --tag-column",
        ) from None
    if scheme is not None and prefix != "O" and prefix not in _PREFIXES[scheme]:
        raise DataFormatError(
            path,
            number,
            f"tag {tag!r} does not belong to the {scheme.value} scheme",
            hint="pass the file's scheme (--scheme on the command line, scheme= in Python)",
        )


def _detect(path: Path, tag_column: int, errors: str) -> Scheme:
    """Return the scheme of the whole file (one streaming pass; sentences joined by O)."""

    def stream() -> Iterator[str]:
        checked: set[str] = set()
        for rows, _, _ in _sentences(path, errors):
            for number, columns in rows:
                tag = _tag(path, number, columns, tag_column)
                if tag not in checked:
                    _check_tag(path, number, tag, None)
                    checked.add(tag)
                yield tag
            yield "O"

    scheme = detect_scheme(stream())
    logger.info("%s: detected tagging scheme %s", path, scheme.value)
    return scheme


def _middle(columns: list[str], tag_column: int) -> tuple[str, ...]:
    tag_index = tag_column % len(columns)
    return tuple(c for i, c in enumerate(columns) if i not in (0, tag_index))


def _example(rows: list[_Row], path: Path, scheme: Scheme, tag_column: int) -> Example:
    tags = []
    for number, columns in rows:
        tag = _tag(path, number, columns, tag_column)
        if tag != "O":
            _check_tag(path, number, tag, scheme)
        tags.append(tag)
    text, tokens = join_tokens([columns[0] for _, columns in rows])
    spans = tuple(token_tags_to_spans(tokens, tags, scheme))
    meta: dict[str, Any] = {"line": rows[0][0], "scheme": scheme.value}
    if any(len(columns) > 2 for _, columns in rows):
        meta["columns"] = [_middle(columns, tag_column) for _, columns in rows]
    bad = violations(tags, scheme)
    if bad:
        meta["violations"] = bad
    return Example(text, spans, tokens, (), None, meta)


def read_conll(
    path: Path | str,
    *,
    scheme: Scheme | str | None = None,
    tag_column: int = -1,
    errors: str = "strict",
) -> Iterator[Example]:
    """Yield one Example per sentence of a CoNLL file (char spans from lenient chunking).

    `scheme=None` detects the scheme from the whole file first (a second streaming pass),
    logs it and records it in ``meta["scheme"]`` with ``meta["scheme_detected"] = True``.
    """
    path = Path(path)
    detected = scheme is None
    resolved = _detect(path, tag_column, errors) if scheme is None else _parse(scheme)
    for rows, doc, docstart in _sentences(path, errors):
        with located((path, rows[0][0])):
            example = _example(rows, path, resolved, tag_column)
        example.meta.update({"doc": doc, "scheme_detected": detected})
        if docstart:
            example.meta["docstart"] = True
        yield example


def _parse(scheme: Scheme | str) -> Scheme:
    return scheme if isinstance(scheme, Scheme) else parse_scheme(scheme)


def snap_span(tokens: Sequence[Token], span: Span, text: str) -> Span | None:
    """Return the span trimmed of edge whitespace and widened to whole tokens, or None.

    label-studio-converter's rule for CoNLL export: ``' Jane Smith'`` -> ``Jane Smith``,
    ``'ane'`` -> ``Jane``. None when no token lies inside the trimmed span.
    """
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    covered = [t for t in tokens if t.start < end and start < t.end]
    if start == end or not covered:
        return None
    return Span(covered[0].start, covered[-1].end, span.label)


def _rejected(example: Example, index: int, span: Span, tokens: Sequence[Token]) -> NerkitError:
    name = f"document {index}" + (f" (id {example.id!r})" if example.id else "")
    starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
    aligned = span.start in starts and span.end in ends
    why = "overlaps another span" if aligned else "does not start and end on token boundaries"
    mention = example.mention(span)
    hint = _HINTS[aligned]
    if not aligned and mention != mention.strip():
        hint = "trim it: snap_spans=True, or --snap-spans"
    elif not aligned:
        hint += "; or widen it to whole tokens: snap_spans=True, or --snap-spans"
    return NerkitError(
        f"{name}: span [{span.start}, {span.end}) {span.label} {mention!r} {why}; "
        f"CoNLL needs one tag per token ({hint})"
    )


def _sentence_lines(example: Example, index: int, options: _WriteOptions) -> tuple[list[str], bool]:
    """Return the lines of one sentence, and whether reading them back changes the text."""
    tokens = example.tokens
    if tokens is None:
        tokens = tuple(tokenize(example.text, options.tokenize_mode))
    spans: Sequence[Span] = example.spans
    if options.snap_spans:
        snapped = [snap_span(tokens, s, example.text) for s in spans]
        missing = [s for s, new in zip(spans, snapped, strict=True) if new is None]
        if missing:
            raise _rejected(example, index, missing[0], tokens)
        spans = sorted({s for s in snapped if s is not None})
    tags, rejected = spans_to_token_tags(tokens, spans, options.scheme)
    if rejected:
        raise _rejected(example, index, rejected[0], tokens)
    middle = example.meta.get("columns") if example.tokens is not None else None
    if not options.keep_columns or not middle or len(middle) != len(tokens):
        middle = [()] * len(tokens)
    lines = [
        options.delimiter.join([tok.text, *extra, tag])
        for tok, extra, tag in zip(tokens, middle, tags, strict=True)
    ]
    return lines, bool(tokens) and join_tokens([t.text for t in tokens])[0] != example.text


@dataclass(frozen=True)
class _WriteOptions:
    scheme: Scheme
    tokenize_mode: TokenizeMode
    delimiter: str
    snap_spans: bool
    keep_columns: bool


def write_conll(
    examples: Iterable[Example],
    path: Path | str,
    *,
    scheme: Scheme | str = "BIO",
    tokenize_mode: TokenizeMode = "word",
    delimiter: str = " ",
    snap_spans: bool = False,
    keep_columns: bool = True,
    drop_unsupported: bool = False,
) -> int:
    """Write one sentence per Example (tags in `scheme`); return the number of sentences written.

    Uses Example.tokens, or ``tokenize(text, tokenize_mode)`` when they are None; middle columns
    in ``meta["columns"]`` (unless `keep_columns` is False) and ``meta["docstart"]`` are written
    back. A span that does not fall on token boundaries (or overlaps another) is an error naming
    the document, unless `snap_spans` trims edge whitespace and widens it to whole tokens first.
    Documents without tokens are skipped. The format holds no relations or attributes: refused
    unless `drop_unsupported`. The file is replaced atomically.
    """
    options = _WriteOptions(_parse(scheme), tokenize_mode, delimiter, snap_spans, keep_columns)
    if not delimiter or delimiter.strip() != "" or "\n" in delimiter:
        raise ValueError(f"delimiter must be spaces or tabs, got {delimiter!r}")
    written = lossy = 0
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as handle:
        for index, example in enumerate(examples):
            example = _drop(
                example, "conll", relations=False, attributes=False, drop=drop_unsupported
            )
            lines, changed = _sentence_lines(example, index, options)
            lossy += changed
            if example.meta.get("docstart"):
                width = len(lines[0].split(delimiter)) if lines else 2
                handle.write(delimiter.join([DOCSTART, *["-X-"] * (width - 2), "O"]) + "\n\n")
            if lines:
                handle.write("\n".join(lines) + "\n\n")
                written += 1
    if lossy:
        logger.warning(
            "%s: %d documents have spacing that CoNLL cannot keep (reading the file back joins "
            "the tokens by its text rule, so their text and offsets change)",
            path,
            lossy,
        )
    return written
