"""CLUENER2020 JSON lines: ``{"text": ..., "label": {type: {mention: [[start, end], ...]}}}``.

Offsets in the file are code-point indices with an INCLUSIVE end (``text[start:end + 1]`` is
the mention, which the reader checks); they become end-exclusive Spans. ``"label"`` may be
missing (the unlabelled test set); an ``"id"`` is kept as Example.id.
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
from nerkit.types import Example, Span

__all__ = ["read_cluener", "write_cluener"]


def _spans(labels: Any, text: str, where: tuple[Path, int]) -> list[Span]:
    if not isinstance(labels, dict):
        raise DataFormatError(
            *where, f'expected "label" as {{type: {{mention: [[s, e]]}}}}, found {labels!r}'
        )
    spans = []
    for label, mentions in labels.items():
        if not isinstance(mentions, dict):
            raise DataFormatError(*where, f"expected {{mention: [[s, e]]}} for {label!r}")
        for mention, positions in mentions.items():
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


def read_cluener(path: Path | str, *, errors: str = "strict") -> Iterator[Example]:
    """Yield one Example per non-blank line."""
    for record, where in iter_text_records(Path(path), errors):
        spans = _spans(record.get("label", {}), record["text"], where)
        yield make_example(record["text"], spans, (), record_id(record), {"line": where[1]})


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


def write_cluener(examples: Iterable[Example], path: Path | str) -> int:
    """Write one CLUENER JSON object per Example; return how many were written."""
    return write_json_lines((to_record(e) for e in examples), Path(path))
