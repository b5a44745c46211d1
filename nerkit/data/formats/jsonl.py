"""nerkit's native JSON-lines format: one document per line.

``{"text": "张三在北京", "spans": [[0, 2, "PER"], [3, 5, "LOC"]]}`` with end-exclusive
code-point offsets, plus optional ``"id"`` and ``"relations": [[head, tail, label], ...]``
(indices into ``spans`` as written). The reader also accepts
``"entities": [{"start": 0, "end": 2, "label": "PER"}, ...]`` in place of ``"spans"``, and an
optional mention text as a fourth element / ``"text"`` key, which is checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nerkit.data.formats._io import (
    iter_text_records,
    make_example,
    record_id,
    to_span,
    write_json_lines,
)
from nerkit.errors import DataFormatError
from nerkit.types import Example, Relation, Span

__all__ = ["read_jsonl", "write_jsonl"]


def _spans(record: dict[str, Any], text: str, where: tuple[Path, int]) -> list[Span]:
    path, line = where
    if "spans" in record:
        items = record["spans"]
        if not isinstance(items, list) or not all(
            isinstance(i, list) and len(i) in (3, 4) for i in items
        ):
            raise DataFormatError(
                path, line, f"expected spans as [[start, end, label], ...], found {items!r}"
            )
        return [to_span(text, *item, where) for item in items]
    items = record.get("entities", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DataFormatError(
            path, line, f"expected entities as [{{start, end, label}}, ...], found {items!r}"
        )
    try:
        return [
            to_span(text, e["start"], e["end"], e["label"], where, e.get("text")) for e in items
        ]
    except KeyError as error:
        raise DataFormatError(path, line, f"an entity lacks the key {error.args[0]!r}") from None


def _relations(record: dict[str, Any], n_spans: int, where: tuple[Path, int]) -> list[Relation]:
    relations = []
    for item in record.get("relations", []):
        ok = isinstance(item, list) and len(item) == 3
        if not ok or not all(isinstance(i, int) and 0 <= i < n_spans for i in item[:2]):
            raise DataFormatError(
                *where,
                f"expected a relation [head, tail, label] with span indices < {n_spans}, "
                f"found {item!r}",
            )
        relations.append(Relation(item[0], item[1], str(item[2])))
    return relations


def read_jsonl(path: Path | str, *, errors: str = "strict") -> Iterator[Example]:
    """Yield one Example per non-blank line."""
    for record, where in iter_text_records(Path(path), errors):
        text = record["text"]
        spans = _spans(record, text, where)
        relations = _relations(record, len(spans), where)
        yield make_example(text, spans, relations, record_id(record), {"line": where[1]})


def to_record(example: Example) -> dict[str, Any]:
    """Return the JSON object of one Example."""
    record: dict[str, Any] = {}
    if example.id is not None:
        record["id"] = example.id
    record["text"] = example.text
    record["spans"] = [[s.start, s.end, s.label] for s in example.spans]
    if example.relations:
        record["relations"] = [[r.head, r.tail, r.label] for r in example.relations]
    return record


def write_jsonl(examples: Iterable[Example], path: Path | str) -> int:
    """Write one JSON object per Example; return how many were written."""
    return write_json_lines((to_record(e) for e in examples), Path(path))
