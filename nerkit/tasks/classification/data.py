"""Labelled texts for classification, and their readers: JSON lines, CSV and TSV.

    jsonl  {"text": "...", "label": "pos"}  or  {"text": "...", "label": ["a", "b"]}
    csv    a header row naming the columns, then one text per row (RFC 4180 quoting)
    tsv    the same with tabs

The text and label fields are `data.text_field` / `data.label_field` ("text", "label").
In CSV/TSV a multi-label cell separates its labels with `|`. A record without a text or
a label, or with a label that is not a string (or a list of strings), is a
`DataFormatError` naming file:line; an empty label list is a text with no label
(multi-label data).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerkit.errors import DataFormatError

__all__ = ["FORMATS", "TextExample", "detect_text_format", "read_texts"]

FORMATS = ("jsonl", "csv", "tsv")
LABEL_SEPARATOR = "|"


@dataclass(frozen=True)
class TextExample:
    """A text and its labels (one for single-label data)."""

    text: str
    labels: tuple[str, ...] = ()


def detect_text_format(path: Path) -> str:
    """Return jsonl, csv or tsv from a file's suffix (.gz ignored)."""
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    suffix = suffixes[-1] if suffixes else ""
    for name, endings in (("jsonl", (".jsonl", ".json")), ("csv", (".csv",)), ("tsv", (".tsv",))):
        if suffix in endings:
            return name
    raise DataFormatError(
        path, 1, f"cannot tell the text format from the suffix {suffix!r}",
        hint="name the file .jsonl, .csv or .tsv, or set data.format",
    )  # fmt: skip


def _labels(path: Path, line: int, value: Any, split: bool) -> tuple[str, ...]:
    if isinstance(value, str) and value:
        return tuple(value.split(LABEL_SEPARATOR)) if split else (value,)
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise DataFormatError(
        path, line, f"expected a label string or a list of label strings, found {value!r}"
    )


def _read_jsonl(path: Path, text_field: str, label_field: str) -> Iterator[TextExample]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataFormatError(path, number, f"invalid JSON: {error.msg}") from None
            if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
                raise DataFormatError(
                    path, number, f"expected an object with a string field {text_field!r}",
                    hint="set data.text_field to the key that holds the text",
                )  # fmt: skip
            if label_field not in record:
                raise DataFormatError(
                    path, number, f"the record has no {label_field!r} field",
                    hint="set data.label_field to the key that holds the label",
                )  # fmt: skip
            labels = _labels(path, number, record[label_field], split=False)
            yield TextExample(record[text_field], labels)


def _read_table(
    path: Path, delimiter: str, text_field: str, label_field: str
) -> Iterator[TextExample]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        header = reader.fieldnames or []
        missing = [name for name in (text_field, label_field) if name not in header]
        if missing:
            raise DataFormatError(
                path, 1, f"the header {header!r} has no column {missing[0]!r}",
                hint="set data.text_field / data.label_field to the column names",
            )  # fmt: skip
        for row in reader:
            number = reader.line_num
            text, label = row.get(text_field), row.get(label_field)
            if text is None or label is None:
                raise DataFormatError(path, number, "the row has fewer columns than the header")
            yield TextExample(text, _labels(path, number, label, split=True))


def _check_utf8(path: Path) -> None:
    """Raise DataFormatError naming the line of the first byte that is not UTF-8."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.start + 1]
        raise DataFormatError(
            path, line, f"expected UTF-8, found the invalid byte {bad!r}"
        ) from None


def read_texts(
    path: Path, format: str = "auto", text_field: str = "text", label_field: str = "label"
) -> list[TextExample]:
    """Return the labelled texts of a file; `format` jsonl, csv, tsv or auto (by suffix)."""
    path = Path(path)
    if format == "auto":
        format = detect_text_format(path)
    _check_utf8(path)
    match format:
        case "jsonl":
            return list(_read_jsonl(path, text_field, label_field))
        case "csv" | "tsv":
            delimiter = "," if format == "csv" else "\t"
            return list(_read_table(path, delimiter, text_field, label_field))
    raise DataFormatError(
        path, 1, f"unknown text format {format!r}", hint=f"use one of {', '.join(FORMATS)}"
    )
