"""doccano sequence-labelling JSONL, in both of its export shapes.

- ``{"id": 1, "text": ..., "label": [[start, end, "PER"], ...]}`` (end exclusive);
- ``{"id": 1, "text": ..., "entities": [{"id": 7, "start_offset": 0, "end_offset": 2,
  "label": "PER"}], "relations": [{"id": 3, "from_id": 7, "to_id": 8, "type": "born_in"}]}``;
  relations become `Relation`s between the spans.
The writer uses the ``entities`` shape by default (``shape="label"`` for the other; it cannot
hold relations).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from nerkit.data.formats._io import (
    iter_text_records,
    make_example,
    record_id,
    to_span,
    write_json_lines,
)
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Relation, Span

__all__ = ["read_doccano", "write_doccano"]


def _label_shape(items: Any, text: str, where: tuple[Path, int]) -> list[Span]:
    if not isinstance(items, list) or not all(isinstance(i, list) and len(i) == 3 for i in items):
        raise DataFormatError(*where, f'expected "label" as [[start, end, label]], found {items!r}')
    return [to_span(text, *item, where) for item in items]


def _entity_shape(
    record: dict[str, Any], text: str, where: tuple[Path, int]
) -> tuple[list[Span], list[Relation]]:
    spans, index = [], {}
    try:
        for entity in record.get("entities", []):
            spans.append(
                to_span(text, entity["start_offset"], entity["end_offset"], entity["label"], where)
            )
            index[entity.get("id", len(spans) - 1)] = len(spans) - 1
        relations = []
        for rel in record.get("relations", []):
            if rel["from_id"] not in index or rel["to_id"] not in index:
                raise DataFormatError(
                    *where, f"relation {rel!r} names an entity id that is not in this line"
                )
            relations.append(Relation(index[rel["from_id"]], index[rel["to_id"]], rel["type"]))
    except (KeyError, TypeError) as error:
        raise DataFormatError(
            *where, f"malformed doccano entity or relation (missing or bad {error})"
        ) from None
    return spans, relations


def read_doccano(path: Path | str, *, errors: str = "strict") -> Iterator[Example]:
    """Yield one Example per non-blank line, in either export shape."""
    for record, where in iter_text_records(Path(path), errors):
        text = record["text"]
        if "label" in record:
            spans, relations = _label_shape(record["label"], text, where), []
        else:
            spans, relations = _entity_shape(record, text, where)
        yield make_example(text, spans, relations, record_id(record), {"line": where[1]})


def _record(example: Example, shape: str, next_id: int) -> dict[str, Any]:
    record: dict[str, Any] = {} if example.id is None else {"id": _id(example.id)}
    record["text"] = example.text
    if shape == "label":
        record["label"] = [[s.start, s.end, s.label] for s in example.spans]
        return record
    ids = list(range(next_id, next_id + len(example.spans)))
    record["entities"] = [
        {"id": i, "label": s.label, "start_offset": s.start, "end_offset": s.end}
        for i, s in zip(ids, example.spans, strict=True)
    ]
    record["relations"] = [
        {"id": k + 1, "from_id": ids[r.head], "to_id": ids[r.tail], "type": r.label}
        for k, r in enumerate(example.relations)
    ]
    return record


def _id(value: str) -> int | str:
    return int(value) if value.isdigit() and str(int(value)) == value else value


def write_doccano(
    examples: Iterable[Example],
    path: Path | str,
    *,
    shape: Literal["entities", "label"] = "entities",
) -> int:
    """Write one doccano JSON object per Example; return how many were written."""
    if shape not in ("entities", "label"):
        raise ValueError(f"shape must be 'entities' or 'label', got {shape!r}")

    def records() -> Iterator[dict[str, Any]]:
        next_id = 1
        for example in examples:
            if shape == "label" and example.relations:
                raise NerkitError(
                    f"document {example.id!r} has relations, which doccano's label shape "
                    "cannot hold (write with shape='entities')"
                )
            yield _record(example, shape, next_id)
            next_id += len(example.spans)

    return write_json_lines(records(), Path(path))
