"""Shared plumbing of the format modules: decoding, line streaming, JSON, checks with file:line.

Every reader decodes UTF-8 itself (with or without a BOM) so that an invalid byte becomes a
`DataFormatError` naming ``file:line`` instead of a bare `UnicodeDecodeError`; with
``errors="replace"`` such bytes become U+FFFD instead. Line endings ``\\n`` and ``\\r\\n``
are both accepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from nerkit.data.spans import has_overlaps, sort_spans
from nerkit.errors import DataFormatError
from nerkit.types import Example, Relation, Span

__all__ = [
    "DecodeErrors",
    "iter_lines",
    "load_json",
    "make_example",
    "read_text",
    "to_span",
    "write_json_lines",
]

DecodeErrors = Literal["strict", "replace"]
_BOM = "\ufeff"


def _check_errors(errors: str) -> None:
    if errors not in ("strict", "replace"):
        raise ValueError(f"errors must be 'strict' or 'replace', got {errors!r}")


def _decode(raw: bytes, path: Path, first_line: int, errors: str) -> str:
    try:
        return raw.decode("utf-8", errors=errors)
    except UnicodeDecodeError as error:
        line = first_line + raw.count(b"\n", 0, error.start)
        raise DataFormatError(
            path,
            line,
            f"expected UTF-8, found the invalid byte {raw[error.start : error.start + 1]!r}",
            hint="re-encode the file as UTF-8, or pass errors='replace' to replace such bytes",
        ) from None


def iter_lines(path: Path, errors: str = "strict") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` with the line ending (and a leading BOM) removed; streams."""
    _check_errors(errors)
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = _decode(raw, path, number, errors)
            if number == 1 and line.startswith(_BOM):
                line = line[1:]
            yield number, line.rstrip("\r\n")


def read_text(path: Path, errors: str = "strict") -> str:
    """Return the whole file decoded, a leading BOM removed, line endings kept as they are."""
    _check_errors(errors)
    text = _decode(Path(path).read_bytes(), path, 1, errors)
    return text[1:] if text.startswith(_BOM) else text


def load_json(text: str, path: Path, first_line: int = 1) -> Any:
    """Parse JSON, turning a syntax error into a `DataFormatError` at its line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFormatError(
            path, first_line + error.lineno - 1, f"invalid JSON: {error.msg} (column {error.colno})"
        ) from None


def iter_text_records(
    path: Path, errors: str = "strict"
) -> Iterator[tuple[dict[str, Any], tuple[Path, int]]]:
    """Yield (record, (path, line)) for every non-blank line of a JSON-lines file.

    Each record is checked to be an object with a "text" string, the one thing every
    JSON-lines format shares; DataFormatError names the file and line otherwise.
    """
    for number, line in iter_lines(path, errors):
        if not line.strip():
            continue
        record = load_json(line, path, number)
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise DataFormatError(path, number, 'expected an object with a "text" string')
        yield record, (path, number)


def record_id(record: dict[str, Any]) -> str | None:
    """Return the record's "id" as a string, or None when it has none."""
    value = record.get("id")
    return None if value is None else str(value)


def to_span(
    text: str, start: Any, end: Any, label: Any, where: tuple[Path, int], mention: Any = None
) -> Span:
    """Return a checked `Span`: integer offsets in range, a string label, the mention matching."""
    path, line = where
    if not (isinstance(start, int) and isinstance(end, int) and not isinstance(start, bool)):
        raise DataFormatError(path, line, f"expected integer offsets, found {start!r}, {end!r}")
    if not 0 <= start < end <= len(text):
        raise DataFormatError(
            path,
            line,
            f"span offsets [{start}, {end}) out of range for a text of {len(text)} characters",
            hint="offsets are end-exclusive code-point indices into the text",
        )
    if not isinstance(label, str) or not label:
        raise DataFormatError(path, line, f"expected a non-empty string label, found {label!r}")
    if mention is not None and text[start:end] != mention:
        raise DataFormatError(
            path,
            line,
            f"span [{start}, {end}) {label} covers {text[start:end]!r} but the file says "
            f"{mention!r}",
            hint="offsets must be code-point indices into the text; UTF-16 offsets from a "
            "JavaScript tool drift after an emoji",
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


def write_json_lines(records: Iterator[dict[str, Any]], path: Path) -> int:
    """Write one JSON object per line (UTF-8, no BOM, ``\\n``); return how many were written."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
