"""Shared plumbing of the format modules: decoding, line streaming, JSON, checks with file:line.

Every reader decodes UTF-8 itself (with or without a BOM) so that an invalid byte becomes a
`DataFormatError` naming ``file:line`` instead of a bare `UnicodeDecodeError`; with
``errors="replace"`` such bytes become U+FFFD instead. Line endings ``\\n`` and ``\\r\\n``
are both accepted; only ``\\n`` ends a line (a lone ``\\r``, U+2028 or ``\\f`` does not).

`parse_records` is the one place where a record of the wrong shape (a str where an object was
expected, an int where a list was) becomes a `DataFormatError` naming the record's
``file:line``: each reader parses one record per call of its ``parse`` function, and any
TypeError/ValueError/KeyError/IndexError/AttributeError raised there is reported at that line.
With ``skip_invalid=True`` such records are logged and skipped instead (doccano's own import
does the same). `to_span` and `to_label` check offsets and labels.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from nerkit.data.safe_write import atomic_open
from nerkit.data.spans import has_overlaps, sort_spans
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Relation, Span

__all__ = [
    "DecodeErrors",
    "Where",
    "drop_unsupported",
    "iter_lines",
    "json_lines",
    "load_json",
    "located",
    "make_example",
    "open_input",
    "parse_records",
    "read_text",
    "record_id",
    "text_record",
    "to_label",
    "to_span",
    "write_json_lines",
]

logger = logging.getLogger(__name__)
DecodeErrors = Literal["strict", "replace"]
Where = tuple[Path, int]
T = TypeVar("T")
_BOM = "\ufeff"
_LOGGED_SKIPS = 5
# What reading a record of the wrong shape raises: indexing a str, iterating an int, ...
_SHAPE_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError)


def _check_errors(errors: str) -> None:
    if errors not in ("strict", "replace"):
        raise ValueError(f"errors must be 'strict' or 'replace', got {errors!r}")


def _decode(raw: bytes, path: Path, first_line: int, errors: str) -> str:
    try:
        return raw.decode("utf-8", errors=errors)
    except UnicodeDecodeError as error:
        line = first_line + raw.count(b"\n", 0, error.start)
        utf16 = first_line == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff")
        raise DataFormatError(
            path,
            line,
            f"expected UTF-8, found the invalid byte {raw[error.start : error.start + 1]!r}",
            hint="the file looks like UTF-16; re-encode it as UTF-8"
            if utf16
            else "re-encode the file as UTF-8, or pass errors='replace' to replace such bytes",
        ) from None


def open_input(path: Path) -> IO[bytes]:
    """Open a data file for reading in binary; a directory or unreadable file is a NerkitError."""
    if path.is_dir():
        raise NerkitError(
            f"expected a data file, found the directory {str(path)!r} "
            "(only the brat format reads a directory: --format brat)"
        )
    try:
        return open(path, "rb")
    except OSError as error:
        raise NerkitError(f"cannot read {str(path)!r}: {error.strerror}") from None


def iter_lines(path: Path, errors: str = "strict") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` with the line ending (and a leading BOM) removed; streams."""
    _check_errors(errors)
    with open_input(Path(path)) as handle:
        for number, raw in enumerate(handle, start=1):
            line = _decode(raw, path, number, errors)
            if number == 1 and line.startswith(_BOM):
                line = line[1:]
            yield number, line.rstrip("\r\n")


def read_text(path: Path, errors: str = "strict") -> str:
    """Return the whole file decoded, a leading BOM removed, line endings kept as they are."""
    _check_errors(errors)
    with open_input(Path(path)) as handle:
        text = _decode(handle.read(), path, 1, errors)
    return text[1:] if text.startswith(_BOM) else text


def load_json(text: str, path: Path, first_line: int = 1) -> Any:
    """Parse JSON, turning a syntax error into a `DataFormatError` at its line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFormatError(
            path, first_line + error.lineno - 1, f"invalid JSON: {error.msg} (column {error.colno})"
        ) from None
    except (ValueError, RecursionError) as error:  # a 5,000-digit integer, 100,000 nested [
        raise DataFormatError(path, first_line, f"unreadable JSON value: {error}") from None


def _describe(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"expected the key {error.args[0]!r}, found a record without it"
    return f"a value of the wrong type or shape ({error})"


@contextlib.contextmanager
def located(where: Where) -> Iterator[None]:
    """Turn a shape error raised inside the block into a `DataFormatError` at `where`."""
    try:
        yield
    except DataFormatError:
        raise
    except _SHAPE_ERRORS as error:
        raise DataFormatError(
            *where, _describe(error), hint="docs/formats.md shows the shape this format expects"
        ) from error


def parse_records(
    items: Iterable[tuple[T, Where]],
    parse: Callable[[T, Where], Example],
    *,
    skip_invalid: bool = False,
) -> Iterator[Example]:
    """Yield ``parse(item, where)`` for each item; a malformed item is an error at its line.

    With `skip_invalid`, an item whose parsing raises `DataFormatError` is logged (WARNING)
    and skipped; errors of the file itself (encoding, a truncated array) still stop reading.
    """
    skipped = 0
    where: Where | None = None
    for item, where in items:
        try:
            with located(where):
                example = parse(item, where)
        except DataFormatError as error:
            if not skip_invalid:
                raise
            skipped += 1
            # The first few in full; a file with thousands of bad lines gets the count below.
            level = logging.WARNING if skipped <= _LOGGED_SKIPS else logging.DEBUG
            logger.log(level, "skipped an invalid record: %s", error)
            continue
        yield example
    if skipped and where is not None:
        logger.warning("%s: skipped %d invalid records (skip_invalid=True)", where[0], skipped)


def json_lines(path: Path, errors: str = "strict") -> Iterator[tuple[str, Where]]:
    """Yield ``(line, (path, number))`` for every non-blank line of a JSON-lines file."""
    for number, line in iter_lines(path, errors):
        if line.strip():
            yield line, (path, number)


def text_record(line: str, where: Where, text_keys: Sequence[str] = ("text",)) -> dict[str, Any]:
    """Return the JSON object on one line, with its text under "text".

    The text is taken from the first of `text_keys` holding a string (doccano <= 1.6 wrote
    ``"data"``); a line that is not an object with such a string is a `DataFormatError`.
    """
    record = load_json(line, *where)
    if isinstance(record, dict):
        for key in text_keys:
            if isinstance(record.get(key), str):
                return record if key == "text" else {**record, "text": record[key]}
    found = type(record).__name__ if not isinstance(record, dict) else "an object without it"
    keys = " or ".join(f'"{k}"' for k in text_keys)
    raise DataFormatError(*where, f"expected an object with a {keys} string, found {found}")


def record_id(record: dict[str, Any]) -> str | None:
    """Return the record's "id" as a string, or None when it has none."""
    value = record.get("id")
    return None if value is None else str(value)


def to_label(value: Any, where: Where, what: str = "label") -> str:
    """Return `value` if it is a non-empty string, else raise a `DataFormatError` at `where`."""
    if not isinstance(value, str) or not value:
        raise DataFormatError(*where, f"expected a non-empty string {what}, found {value!r}")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def to_span(text: str, start: Any, end: Any, label: Any, where: Where, mention: Any = None) -> Span:
    """Return a checked `Span`: integer offsets in range, a string label, the mention matching."""
    path, line = where
    if not (_is_int(start) and _is_int(end)):
        raise DataFormatError(path, line, f"expected integer offsets, found {start!r}, {end!r}")
    if not 0 <= start < end <= len(text):
        raise DataFormatError(
            path,
            line,
            f"span offsets [{start}, {end}) out of range for a text of {len(text)} characters",
            hint="offsets are end-exclusive code-point indices into the text",
        )
    to_label(label, where)
    if mention is not None and text[start:end] != mention:
        astral = any(ord(c) > 0xFFFF for c in text[:end])
        raise DataFormatError(
            path,
            line,
            f"span [{start}, {end}) {label} covers {text[start:end]!r} but the file says "
            f"{mention!r}",
            hint="offsets must be code-point indices into the text; UTF-16 offsets from a "
            "JavaScript tool drift after an emoji"
            if astral
            else "offsets must be end-exclusive code-point indices into the text",
        )
    return Span(start, end, label)


def make_example(
    text: str,
    spans: Sequence[Span],
    relations: Sequence[Relation] = (),
    example_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Example:
    """Return an Example with sorted spans, re-indexed relations and the overlap flag in meta."""
    sorted_spans, sorted_relations = sort_spans(spans, relations)
    meta = dict(meta or {})
    if has_overlaps(sorted_spans):
        meta["overlaps"] = True
    return Example(text, sorted_spans, None, sorted_relations, example_id, meta)


def drop_unsupported(
    example: Example,
    format: str,
    *,
    relations: bool,
    attributes: bool,
    drop: bool,
) -> Example:
    """Return `example` without the relations/attributes `format` cannot hold, or refuse.

    `relations` / `attributes` say whether the format can hold them. Without `drop`, an example
    that has some the format cannot hold is a `NerkitError` (nothing is lost silently).
    """
    lost = []
    if example.relations and not relations:
        lost.append(f"{len(example.relations)} relations")
    if example.attributes and not attributes:
        lost.append(f"{len(example.attributes)} attributes")
    if not lost:
        return example
    if not drop:
        name = repr(example.id) if example.id is not None else repr(example.text[:30])
        raise NerkitError(
            f"document {name} has {' and '.join(lost)}, which the {format} format cannot hold "
            "(write jsonl, doccano, label-studio or brat, or pass drop_unsupported=True / "
            "--drop-unsupported to drop them)"
        )
    return Example(
        example.text,
        example.spans,
        example.tokens,
        example.relations if relations else (),
        example.id,
        example.meta,
        example.attributes if attributes else (),
    )


def write_json_lines(records: Iterable[dict[str, Any]], path: Path) -> int:
    """Write one JSON object per line (UTF-8, no BOM, ``\\n``); return how many were written.

    The file is replaced atomically (`nerkit.data.safe_write.atomic_open`): an error or a kill
    part-way leaves the old file, never half of the new one.
    """
    count = 0
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
