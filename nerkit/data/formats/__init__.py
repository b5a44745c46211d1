"""The single dispatch point for data formats: `read`, `write`, `detect_format`.

Every format module has ``read_X(path, **options) -> Iterator[Example]`` (streaming, spans in
sorted end-exclusive character offsets, ``file:line`` in every error) and
``write_X(examples, path, **options) -> int`` (the number of documents written). The formats
and their options are described in docs/formats.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nerkit.data.formats import brat, cluener, conll, doccano, jsonl, label_studio
from nerkit.errors import NerkitError
from nerkit.types import Example

__all__ = ["FORMATS", "detect_format", "read", "write"]

FORMATS = ("conll", "cluener", "jsonl", "doccano", "label-studio", "brat")
_PEEK_BYTES = 65536
_TAG = re.compile(r"^(O|[BIEMSLU]-\S+|-DOCSTART-)$")


def _check(format: str) -> None:
    if format not in FORMATS:
        raise NerkitError(f"unknown data format {format!r}; expected one of {', '.join(FORMATS)}")


def read(path: Path | str, format: str, **options: Any) -> Iterator[Example]:
    """Yield the Examples of a file (or brat directory) in the given format."""
    _check(format)
    match format:
        case "conll":
            return conll.read_conll(path, **options)
        case "cluener":
            return cluener.read_cluener(path, **options)
        case "jsonl":
            return jsonl.read_jsonl(path, **options)
        case "doccano":
            return doccano.read_doccano(path, **options)
        case "label-studio":
            return label_studio.read_label_studio(path, **options)
        case "brat":
            return brat.read_brat(path, **options)
    raise AssertionError(f"unhandled format {format}")


def write(examples: Iterable[Example], path: Path | str, format: str, **options: Any) -> int:
    """Write Examples in the given format; return the number of documents written."""
    _check(format)
    match format:
        case "conll":
            return conll.write_conll(examples, path, **options)
        case "cluener":
            return cluener.write_cluener(examples, path, **options)
        case "jsonl":
            return jsonl.write_jsonl(examples, path, **options)
        case "doccano":
            return doccano.write_doccano(examples, path, **options)
        case "label-studio":
            return label_studio.write_label_studio(examples, path, **options)
        case "brat":
            return brat.write_brat(examples, path, **options)
    raise AssertionError(f"unhandled format {format}")


def _json_kind(record: Any) -> str | None:
    """Return the JSON-lines format one record looks like, or None."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("label"), dict):
        return "cluener"
    if isinstance(record.get("label"), list):
        return "doccano"
    entities = record.get("entities")
    if isinstance(entities, list) and entities and isinstance(entities[0], dict):
        return "doccano" if "start_offset" in entities[0] else "jsonl"
    if "spans" in record or "entities" in record:
        return "jsonl"
    return None


def _sniff(head: str) -> str | None:
    stripped = head.lstrip("\ufeff \t\r\n")
    if stripped.startswith("["):
        return "label-studio"
    if stripped.startswith("{"):
        try:
            return _json_kind(json.loads(stripped.splitlines()[0]))
        except json.JSONDecodeError:
            return None
    lines = [line for line in stripped.splitlines()[:-1] if line.strip()]
    if lines and all(_TAG.match(line.split()[-1]) for line in lines[:50]):
        return "conll"
    return None


def detect_format(path: Path | str) -> str:
    """Return the format of a file or directory from its extension and first bytes."""
    path = Path(path)
    if path.is_dir() or path.suffix == ".ann" or path.with_suffix(".ann").exists():
        return "brat"
    found = None
    if path.is_file():
        with open(path, "rb") as handle:
            head = handle.read(_PEEK_BYTES).decode("utf-8", errors="replace")
        found = _sniff(head + "\n")
    if found is None:
        raise NerkitError(
            f"cannot tell the format of {path}; expected one of {', '.join(FORMATS)} "
            "(pass it explicitly, e.g. --from conll)"
        )
    return found
