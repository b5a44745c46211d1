"""The input side of `extract`: lines of plain or gzip files, records, shards of records.

Lines end at "\n" only; a bad byte, a bad gzip stream or bad JSON is a DataFormatError
naming file:line. A record is a dict of the output fields so far plus ``_text``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nerkit.errors import DataFormatError
from nerkit.extract.options import ExtractOptions

__all__ = ["in_shards", "read_lines", "read_records"]


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) of a UTF-8 file (gzip when it ends in .gz).

    Lines end at "\n" only (a "\r" before it is dropped), so output record k is input line
    k even when a line holds a lone "\r", a form feed or U+2028. A byte that is not UTF-8, a
    file that is not gzip, or a gzip stream that ends early is a DataFormatError naming
    file:line.
    """
    number = 0
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):  # binary lines end at b"\n" only
                try:
                    text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as error:
                    bad = raw[error.start : error.start + 1]
                    raise DataFormatError(
                        path, number, f"expected UTF-8, found the byte {bad!r}"
                    ) from None
                yield number, text[:-1].removesuffix("\r") if text.endswith("\n") else text
    except EOFError:
        raise DataFormatError(
            path, number + 1, "the gzip stream ends early", hint="is the file truncated?"
        ) from None
    except gzip.BadGzipFile:
        raise DataFormatError(
            path, 1, "not a gzip file", hint="only .gz names are read as gzip"
        ) from None


def read_records(inputs: list[Path], options: ExtractOptions) -> Iterator[dict[str, Any]]:
    """Yield one dict per document: its output fields so far plus ``_text``."""
    for path in inputs:
        for number, line in read_lines(path):
            record: dict[str, Any] = {"line": number}
            if len(inputs) > 1:
                record["file"] = path.name
            if options.input_format == "text":
                record["_text"] = line
            elif line.strip():
                record.update(_parse_jsonl(path, number, line, options))
            else:
                record["_text"] = ""
            yield record


def _parse_jsonl(path: Path, number: int, line: str, options: ExtractOptions) -> dict[str, Any]:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataFormatError(path, number, f"invalid JSON: {error.msg}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get(options.text_field), str):
        found = type(raw.get(options.text_field)).__name__ if isinstance(raw, dict) else "no object"
        raise DataFormatError(
            path, number, f"expected an object with a string field {options.text_field!r}, "
            f"found {found}", hint="choose the field with --text-field",
        )  # fmt: skip
    record: dict[str, Any] = {"_text": raw[options.text_field]}
    if options.id_field in raw:
        record["id"] = raw[options.id_field]
    return record


def in_shards(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    shard: list[dict[str, Any]] = []
    for record in records:
        shard.append(record)
        if len(shard) == size:
            yield shard
            shard = []
    if shard:
        yield shard
