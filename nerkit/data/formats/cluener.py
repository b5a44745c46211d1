"""CLUENER2020 JSON lines: ``{"text": ..., "label": {type: {mention: [[start, end], ...]}}}``.

Offsets in the file are code-point indices with an INCLUSIVE end (``text[start:end + 1]`` is
the mention, which the reader checks); they become end-exclusive Spans. ``"label"`` may be
missing (the unlabelled test set); an ``"id"`` is kept as Example.id. The format holds no
relations or attributes: the writer refuses examples that have some unless
``drop_unsupported=True``.
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
    to_span,
    write_json_lines,
)
from nerkit.data.formats._io import drop_unsupported as _drop
from nerkit.errors import DataFormatError
from nerkit.types import Example, Span

__all__ = ["read_cluener", "write_cluener"]


def _spans(labels: Any, text: str, where: Where) -> list[Span]:
    if not isinstance(labels, dict):
        raise DataFormatError(
            *where, f'expected "label" as {{type: {{mention: [[s, e]]}}}}, found {labels!r}'
        )
    spans = []
    for label, mentions in labels.items():
        if not isinstance(mentions, dict):
            raise DataFormatError(*where, f"expected {{mention: [[s, e]]}} for {label!r}")
        for mention, positions in mentions.items():
            if not isinstance(positions, list):
                raise DataFormatError(
                    *where,
                    f"expected [[start, end_inclusive], ...] for {mention!r}, found {positions!r}",
                )
            for position in positions:
                if not (isinstance(position, list) and len(position) == 2):
                    raise DataFormatError(
                        *where,
                        f"expected [start, end_inclusive] for {mention!r}, found {position!r}",
                    )
                start, end = position
                end = end + 1 if isinstance(end, int) else end
                spans.append(to_span(text, start, end, label, where, mention))
    return spans


def _parse(line: str, where: Where) -> Example:
    record = text_record(line, where)
    spans = _spans(record.get("label", {}), record["text"], where)
    return make_example(record["text"], spans, (), record_id(record), {"line": where[1]})


def read_cluener(
    path: Path | str, *, errors: str = "strict", skip_invalid: bool = False
) -> Iterator[Example]:
    """Yield one Example per non-blank line (`skip_invalid`: log and skip malformed lines)."""
    return parse_records(json_lines(Path(path), errors), _parse, skip_invalid=skip_invalid)


def to_record(example: Example) -> dict[str, Any]:
    """Return the CLUENER object of one Example (labels in order of first appearance)."""
    labels: dict[str, dict[str, list[list[int]]]] = {}
    for span in example.spans:
        positions = labels.setdefault(span.label, {}).setdefault(example.mention(span), [])
        if [span.start, span.end - 1] not in positions:
            positions.append([span.start, span.end - 1])
    record: dict[str, Any] = {} if example.id is None else {"id": example.id}
    record.update({"text": example.text, "label": labels})
    return record


def write_cluener(
    examples: Iterable[Example], path: Path | str, *, drop_unsupported: bool = False
) -> int:
    """Write one CLUENER JSON object per Example (atomically); return how many were written.

    An example with relations or attributes is an error unless `drop_unsupported`.
    """
    kept = (
        _drop(e, "cluener", relations=False, attributes=False, drop=drop_unsupported)
        for e in examples
    )
    return write_json_lines((to_record(e) for e in kept), Path(path))
