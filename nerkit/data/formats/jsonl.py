"""nerkit's native JSON-lines format: one document per line.

``{"text": "张三在北京", "spans": [[0, 2, "PER"], [3, 5, "LOC"]]}`` with end-exclusive
code-point offsets, plus optional ``"id"``, ``"relations": [[head, tail, label], ...]``
(indices into ``spans`` as written) and ``"attributes": [[entity, name, start, end], ...]``
(an entity index, the attribute's name and the end-exclusive range of its value). The reader
also accepts ``"entities": [{"start": 0, "end": 2, "label": "PER"}, ...]`` in place of
``"spans"``, and an optional mention text as a fourth element / ``"text"`` key, which is
checked. This is the one format that holds everything an `Example` holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nerkit.data.formats._io import (
    Where,
    json_lines,
    make_example,
    parse_records,
    record_id,
    text_record,
    to_label,
    to_span,
    write_json_lines,
)
from nerkit.errors import DataFormatError
from nerkit.types import Attribute, Example, Relation, Span

__all__ = ["read_jsonl", "write_jsonl"]


def _spans(record: dict[str, Any], text: str, where: Where) -> list[Span]:
    if "spans" in record:
        items = record["spans"]
        if not isinstance(items, list) or not all(
            isinstance(i, list) and len(i) in (3, 4) for i in items
        ):
            raise DataFormatError(
                *where, f"expected spans as [[start, end, label], ...], found {items!r}"
            )
        return [
            to_span(text, i[0], i[1], i[2], where, i[3] if len(i) == 4 else None) for i in items
        ]
    items = record.get("entities", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DataFormatError(
            *where, f"expected entities as [{{start, end, label}}, ...], found {items!r}"
        )
    return [to_span(text, e["start"], e["end"], e["label"], where, e.get("text")) for e in items]


def _index(value: Any, n_spans: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n_spans


def _relations(record: dict[str, Any], n_spans: int, where: Where) -> list[Relation]:
    items = record.get("relations", [])
    if not isinstance(items, list):
        raise DataFormatError(*where, f"expected relations as a list, found {items!r}")
    relations = []
    for item in items:
        ok = isinstance(item, list) and len(item) == 3
        if not ok or not all(_index(i, n_spans) for i in item[:2]):
            raise DataFormatError(
                *where,
                f"expected a relation [head, tail, label] with span indices < {n_spans}, "
                f"found {item!r}",
            )
        relations.append(Relation(item[0], item[1], to_label(item[2], where, "relation label")))
    return relations


def _attributes(record: dict[str, Any], text: str, n_spans: int, where: Where) -> list[Attribute]:
    items = record.get("attributes", [])
    if not isinstance(items, list):
        raise DataFormatError(*where, f"expected attributes as a list, found {items!r}")
    attributes = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 4 and _index(item[0], n_spans)):
            raise DataFormatError(
                *where,
                f"expected an attribute [entity, name, start, end] with an entity index "
                f"< {n_spans}, found {item!r}",
            )
        value = to_span(text, item[2], item[3], item[1], where)  # checks the value's range
        attributes.append(Attribute(item[0], value.label, value.start, value.end))
    return attributes


def _parse(line: str, where: Where) -> Example:
    record = text_record(line, where)
    text = record["text"]
    spans = _spans(record, text, where)
    relations = _relations(record, len(spans), where)
    attributes = _attributes(record, text, len(spans), where)
    example = make_example(text, spans, relations, record_id(record), {"line": where[1]})
    if not attributes:
        return example
    # make_example sorted the spans: follow them, as it did for the relations.
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    new = {old: position for position, old in enumerate(order)}
    moved = tuple(Attribute(new[a.entity], a.name, a.start, a.end) for a in attributes)
    return Example(text, example.spans, None, example.relations, example.id, example.meta, moved)


def read_jsonl(
    path: Path | str, *, errors: str = "strict", skip_invalid: bool = False
) -> Iterator[Example]:
    """Yield one Example per non-blank line (`skip_invalid`: log and skip malformed lines)."""
    return parse_records(json_lines(Path(path), errors), _parse, skip_invalid=skip_invalid)


def to_record(example: Example) -> dict[str, Any]:
    """Return the JSON object of one Example."""
    record: dict[str, Any] = {}
    if example.id is not None:
        record["id"] = example.id
    record["text"] = example.text
    record["spans"] = [[s.start, s.end, s.label] for s in example.spans]
    if example.relations:
        record["relations"] = [[r.head, r.tail, r.label] for r in example.relations]
    if example.attributes:
        record["attributes"] = [[a.entity, a.name, a.start, a.end] for a in example.attributes]
    return record


def write_jsonl(examples: Iterable[Example], path: Path | str) -> int:
    """Write one JSON object per Example (atomically); return how many were written."""
    return write_json_lines((to_record(e) for e in examples), Path(path))
