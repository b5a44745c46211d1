"""doccano sequence-labelling JSONL, in every shape doccano has exported.

- ``{"id": 1, "text": ..., "label": [[start, end, "PER"], ...]}`` (end exclusive), the
  Sequence Labeling shape; doccano <= 1.6 wrote the text under ``"data"`` instead of ``"text"``
  (flair's doccano fixture has that shape too), which the reader accepts;
- ``{"id": 1, "text": ..., "entities": [{"id": 7, "start_offset": 0, "end_offset": 2,
  "label": "PER"}], "relations": [{"id": 3, "from_id": 7, "to_id": 8, "type": "born_in"}]}``,
  the Relation Extraction shape; relations become `Relation`s between the spans;
- ``{"text": ..., "entities": [[start, end, "City"]], "cats": ["flight"]}``, the intent/slot
  shape; the categories are kept in ``meta["cats"]`` and written back.

The writer's ``shape="auto"`` (default) writes the ``label`` shape, the one doccano's Sequence
Labeling import reads, unless some document has relations, and then the ``entities`` shape (the
Relation Extraction import) for the whole file; ``"label"`` and ``"entities"`` force one. The
format holds no attributes, and the label shape no relations: such examples are refused unless
``drop_unsupported=True``. ``skip_invalid=True`` skips (and logs) malformed lines, as doccano's
own import does with a line that has no text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

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
from nerkit.data.formats._io import drop_unsupported as _drop
from nerkit.errors import DataFormatError
from nerkit.types import Example, Relation, Span

__all__ = ["read_doccano", "write_doccano"]

Shape = Literal["auto", "entities", "label"]


def _triples(items: Any, text: str, where: Where, key: str) -> list[Span]:
    if not isinstance(items, list) or not all(isinstance(i, list) and len(i) == 3 for i in items):
        raise DataFormatError(*where, f'expected "{key}" as [[start, end, label]], found {items!r}')
    return [to_span(text, *item, where) for item in items]


def _entity_shape(
    record: dict[str, Any], text: str, where: Where
) -> tuple[list[Span], list[Relation]]:
    entities, links = record.get("entities", []), record.get("relations", [])
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise DataFormatError(*where, f"expected entities as a list of objects, found {entities!r}")
    if not isinstance(links, list) or not all(isinstance(r, dict) for r in links):
        raise DataFormatError(*where, f"expected relations as a list of objects, found {links!r}")
    spans, index = [], {}
    for entity in entities:
        spans.append(
            to_span(text, entity["start_offset"], entity["end_offset"], entity["label"], where)
        )
        key = entity.get("id", len(spans) - 1)
        if isinstance(key, list | dict):
            raise DataFormatError(*where, f"expected an entity id, found {key!r}")
        index[key] = len(spans) - 1
    relations = []
    for rel in links:
        head, tail = rel.get("from_id"), rel.get("to_id")
        if isinstance(head, list | dict) or isinstance(tail, list | dict):
            raise DataFormatError(*where, f"expected entity ids in relation {rel!r}")
        if head not in index or tail not in index:
            raise DataFormatError(
                *where, f"relation {rel!r} names an entity id that is not in this line"
            )
        label = to_label(rel.get("type"), where, "relation type")
        relations.append(Relation(index[head], index[tail], label))
    return spans, relations


def _parse(line: str, where: Where) -> Example:
    record = text_record(line, where, ("text", "data"))
    text = record["text"]
    entities = record.get("entities")
    if "label" in record:
        spans, relations = _triples(record["label"], text, where, "label"), []
    elif isinstance(entities, list) and entities and isinstance(entities[0], list):
        spans, relations = _triples(entities, text, where, "entities"), []
    else:
        spans, relations = _entity_shape(record, text, where)
    meta: dict[str, Any] = {"line": where[1]}
    cats = record.get("cats")
    if cats is not None:
        if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
            raise DataFormatError(*where, f'expected "cats" as a list of strings, found {cats!r}')
        meta["cats"] = cats
    return make_example(text, spans, relations, record_id(record), meta)


def read_doccano(
    path: Path | str, *, errors: str = "strict", skip_invalid: bool = False
) -> Iterator[Example]:
    """Yield one Example per non-blank line, in any export shape."""
    return parse_records(json_lines(Path(path), errors), _parse, skip_invalid=skip_invalid)


def _record(example: Example, shape: str, next_id: int) -> dict[str, Any]:
    record: dict[str, Any] = {} if example.id is None else {"id": _id(example.id)}
    record["text"] = example.text
    if shape == "label":
        record["label"] = [[s.start, s.end, s.label] for s in example.spans]
    else:
        ids = list(range(next_id, next_id + len(example.spans)))
        record["entities"] = [
            {"id": i, "label": s.label, "start_offset": s.start, "end_offset": s.end}
            for i, s in zip(ids, example.spans, strict=True)
        ]
        record["relations"] = [
            {"id": k + 1, "from_id": ids[r.head], "to_id": ids[r.tail], "type": r.label}
            for k, r in enumerate(example.relations)
        ]
    if isinstance(example.meta.get("cats"), list):
        record["cats"] = example.meta["cats"]
    return record


def _id(value: str) -> int | str:
    return int(value) if value.isdigit() and str(int(value)) == value else value


def write_doccano(
    examples: Iterable[Example],
    path: Path | str,
    *,
    shape: Shape = "auto",
    drop_unsupported: bool = False,
) -> int:
    """Write one doccano JSON object per Example (atomically); return how many were written.

    ``shape="auto"`` reads all examples first to choose the shape (see the module docstring).
    """
    if shape not in ("auto", "entities", "label"):
        raise ValueError(f"shape must be 'auto', 'entities' or 'label', got {shape!r}")
    if shape == "auto":
        examples = list(examples)
        shape = "entities" if any(e.relations for e in examples) else "label"
    chosen = shape

    def records() -> Iterator[dict[str, Any]]:
        next_id = 1
        for example in examples:
            example = _drop(
                example,
                "doccano label-shape" if chosen == "label" else "doccano",
                relations=chosen == "entities",
                attributes=False,
                drop=drop_unsupported,
            )
            yield _record(example, chosen, next_id)
            next_id += len(example.spans)

    return write_json_lines(records(), Path(path))
