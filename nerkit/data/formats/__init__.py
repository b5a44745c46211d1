"""The single dispatch point for data formats: `read`, `write`, `detect_format`.

Every format module has ``read_X(path, **options) -> Iterator[Example]`` (streaming, spans in
sorted end-exclusive character offsets, ``file:line`` in every error) and
``write_X(examples, path, **options) -> int`` (the number of documents written), which replaces
its target atomically (`nerkit.data.safe_write`) and refuses what its format cannot hold unless
``drop_unsupported=True``. The formats and their options are described in docs/formats.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nerkit.data.formats import (
    brat,
    cluener,
    conll,
    deepke,
    doccano,
    finre,
    jsonl,
    label_studio,
    semeval,
)
from nerkit.data.formats._io import open_input
from nerkit.errors import NerkitError
from nerkit.types import Example

__all__ = ["FORMATS", "detect_format", "read", "write"]

FORMATS = (
    "conll", "cluener", "jsonl", "doccano", "label-studio", "brat",
    "deepke-re", "deepke-ae", "finre", "semeval",
)  # fmt: skip
_PEEK_BYTES = 16 << 20  # enough for a first JSON line of several MB (R15)
_MAX_RECORDS = 50
_WHOLE_JSON_BYTES = 64 << 20
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
        case "deepke-re":
            return deepke.read_deepke_re(path, **options)
        case "deepke-ae":
            return deepke.read_deepke_ae(path, **options)
        case "finre":
            return finre.read_finre(path, **options)
        case "semeval":
            return semeval.read_semeval(path, **options)
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
        case "deepke-re":
            return deepke.write_deepke_re(examples, path, **options)
        case "deepke-ae":
            return deepke.write_deepke_ae(examples, path, **options)
        case "finre":
            return finre.write_finre(examples, path, **options)
        case "semeval":
            return semeval.write_semeval(examples, path, **options)
    raise AssertionError(f"unhandled format {format}")


def _json_kind(record: Any) -> str | None:
    """Return the JSON-lines format one record shows, or None when it could be several."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("token"), list) and isinstance(record.get("h"), dict):
        return "semeval"
    if isinstance(record.get("data"), dict) and (
        "annotations" in record or "predictions" in record or "completions" in record
    ):
        return "label-studio"  # a task object: a storage export has one per file
    label = record.get("label")
    if isinstance(label, dict):
        return "cluener"
    if isinstance(label, list) or "cats" in record or isinstance(record.get("data"), str):
        return "doccano"
    entities = record.get("entities")
    if isinstance(entities, list) and entities:
        first = entities[0]
        if isinstance(first, list):
            return "doccano"  # the intent/slot shape
        if isinstance(first, dict):
            return "doccano" if "start_offset" in first else "jsonl"
    if "spans" in record:
        return "jsonl"
    return None


def _head_lines(path: Path) -> tuple[list[str], bool]:
    """Return up to _MAX_RECORDS non-blank decoded lines, and whether the file has more."""
    lines: list[str] = []
    budget = _PEEK_BYTES
    with open_input(path) as handle:
        while len(lines) < _MAX_RECORDS and budget > 0:
            raw = handle.readline(budget)
            if not raw:
                return lines, False
            budget -= len(raw)
            line = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
            if line.strip():
                lines.append(line)
        return lines, True


def _sniff_json(path: Path, lines: list[str]) -> str | None:
    """Return the kind of the first record that shows one (I7a: not only the first record)."""
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue  # one broken line must not hide the format; the reader reports it
        if isinstance(record, dict):  # a line '"Date"' of a pretty-printed object is no record
            records.append(record)
    for record in records:
        kind = _json_kind(record)
        if kind is not None:
            return kind
    if any("entities" in r or "relations" in r for r in records):
        return "jsonl"  # every entity list empty: nerkit's jsonl reads that as it is
    if not records and path.stat().st_size <= _WHOLE_JSON_BYTES:
        return _sniff_whole_json(path)
    return None


def _sniff_whole_json(path: Path) -> str | None:
    """Return "label-studio" for one pretty-printed task object, else None."""
    try:
        with open_input(path) as handle:
            whole = json.loads(handle.read().decode("utf-8", errors="replace").lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return None
    if isinstance(whole, dict) and isinstance(whole.get("data"), dict):
        return "label-studio"
    return None


def _sniff_conll(lines: list[str]) -> bool:
    rows = [line.split() for line in lines if line.split()[0] != "-DOCSTART-"]
    if not rows:
        return False
    width = max(len(row) for row in rows)
    for column in [-1, *range(1, width)]:
        tags = sum(1 for row in rows if len(row) > 1 and _TAG.match(row[column % len(row)]))
        if tags >= max(1, int(0.9 * len(rows))):
            return True
    return False


def _sniff(path: Path) -> str | None:
    lines, _ = _head_lines(path)
    if not lines:
        return None
    first = lines[0].lstrip(" \t\r\n")
    if first.startswith("["):
        return "label-studio"
    if first.startswith("{"):
        return _sniff_json(path, lines)
    header = first.strip()
    if header == ",".join(deepke.RE_HEADER):
        return "deepke-re"
    if header == ",".join(deepke.AE_HEADER):
        return "deepke-ae"
    if _sniff_conll(lines):
        return "conll"
    if all(line.rstrip("\r\n").count("\t") == 3 for line in lines):
        return "finre"  # head, tail, relation, sentence: a sentence is never a tag
    return None


def detect_format(path: Path | str) -> str:
    """Return the format of a file or directory from its extension and first records.

    A directory holding .txt/.ann files, a .ann file or a file with a sibling .ann is brat;
    otherwise up to 50 lines (1 MB) are looked at: see docs/formats.md.
    """
    path = Path(path)
    if path.is_dir():
        if any(path.glob("*.ann")) or any(path.glob("*.txt")):
            return "brat"
        raise NerkitError(
            f"cannot tell the format of the directory {str(path)!r}: it holds no brat "
            ".txt/.ann files (name a data file, or a brat directory)"
        )
    if path.suffix == ".ann" or path.with_suffix(".ann").is_file():
        return "brat"
    if not path.exists():
        raise NerkitError(f"the data file {str(path)!r} does not exist")
    found = _sniff(path)
    if found is None:
        with open_input(path) as handle:
            utf16 = handle.read(2) in (b"\xff\xfe", b"\xfe\xff")
        hint = "it looks like UTF-16; re-encode it as UTF-8" if utf16 else "pass it explicitly"
        raise NerkitError(
            f"cannot tell the format of {path}; expected one of {', '.join(FORMATS)} "
            f"({hint}, e.g. --from conll)"
        )
    return found
