"""Label Studio JSON export: an array of tasks.

A task is ``{"id": 1, "data": {"text": ...}, "annotations": [{"result": [...], ...}],
"predictions": [...]}``; a result item ``{"id": "a1", "type": "labels", "from_name": "label",
"to_name": "text", "value": {"start": 0, "end": 2, "text": "张三", "labels": ["PER"]}}`` is a
span (the mention text is checked), ``{"type": "relation", "from_id": "a1", "to_id": "a2",
"labels": ["born_in"]}`` a relation. Offsets are code points (current Label Studio; exports made
before its 2021 fix count UTF-16 units after an emoji, which the mention check reports).

Options: ``annotator`` picks the annotation whose ``completed_by`` (id or email) matches;
by default the latest non-cancelled one by ``updated_at``, then ``created_at``, then order.
``use_predictions=True`` reads ``predictions`` instead (the latest by the same rule).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nerkit.data.formats._io import make_example, read_text, to_span
from nerkit.errors import DataFormatError
from nerkit.types import Example, Relation, Span

__all__ = ["read_label_studio", "write_label_studio"]

logger = logging.getLogger(__name__)
_SPAN_TYPES = ("labels", "hypertextlabels")


def _tasks(path: Path, errors: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, task)`` from a JSON array, each with the line where it starts."""
    text = read_text(path, errors)
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip())
    if not text.startswith("[", position):
        raise DataFormatError(path, 1, "expected a JSON array of tasks, starting with '['")
    position += 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            raise DataFormatError(path, text.count("\n") + 1, "unterminated JSON array")
        if text[position] == "]":
            return
        line = text.count("\n", 0, position) + 1
        try:
            task, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise DataFormatError(path, error.lineno, f"invalid JSON: {error.msg}") from None
        yield line, task


def _annotator_matches(annotation: dict[str, Any], annotator: str) -> bool:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return annotator in {str(who.get("id")), str(who.get("email"))}
    return str(who) == annotator


def _choose(task: dict[str, Any], annotator: str | None, use_predictions: bool) -> Any:
    candidates = task.get("predictions" if use_predictions else "annotations") or []
    candidates = [c for c in candidates if isinstance(c, dict) and not c.get("was_cancelled")]
    if annotator is not None:
        candidates = [c for c in candidates if _annotator_matches(c, str(annotator))]
    if not candidates:
        return None
    order = {id(c): i for i, c in enumerate(candidates)}
    return max(
        candidates,
        key=lambda c: (
            str(c.get("updated_at") or ""),
            str(c.get("created_at") or ""),
            order[id(c)],
        ),
    )


def _results(
    results: list[Any], text: str, where: tuple[Path, int]
) -> tuple[list[Span], list[Relation]]:
    spans: list[Span] = []
    index: dict[Any, int] = {}
    links = []
    for item in results:
        kind = item.get("type")
        if kind == "relation":
            links.append(item)
        elif kind in _SPAN_TYPES:
            value = item.get("value", {})
            labels = value.get("labels") or value.get(kind) or [None]
            span = to_span(
                text, value.get("start"), value.get("end"), labels[0], where, value.get("text")
            )
            index[item.get("id", len(spans))] = len(spans)
            spans.append(span)
        else:
            logger.debug("%s:%d: skipped a %r result", *where, kind)
    relations = []
    for link in links:
        if link.get("from_id") not in index or link.get("to_id") not in index:
            raise DataFormatError(*where, f"relation {link!r} names a region not in this task")
        label = (link.get("labels") or [link.get("direction", "relation")])[0]
        relations.append(Relation(index[link["from_id"]], index[link["to_id"]], label))
    return spans, relations


def read_label_studio(
    path: Path | str,
    *,
    annotator: str | int | None = None,
    use_predictions: bool = False,
    errors: str = "strict",
) -> Iterator[Example]:
    """Yield one Example per task (no spans when no annotation matches)."""
    path = Path(path)
    for line, task in _tasks(path, errors):
        where = (path, line)
        text = task.get("data", {}).get("text") if isinstance(task, dict) else None
        if not isinstance(text, str):
            raise DataFormatError(*where, 'expected a task with a "data": {"text": ...} string')
        chosen = _choose(task, None if annotator is None else str(annotator), use_predictions)
        spans, relations = _results(chosen.get("result", []) if chosen else [], text, where)
        meta: dict[str, Any] = {"line": line}
        if chosen is not None and "completed_by" in chosen:
            meta["completed_by"] = chosen["completed_by"]
        task_id = task.get("id")
        yield make_example(text, spans, relations, None if task_id is None else str(task_id), meta)


def _task(example: Example, use_predictions: bool) -> dict[str, Any]:
    result: list[dict[str, Any]] = [
        {
            "id": f"e{i}",
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "value": {
                "start": s.start,
                "end": s.end,
                "text": example.mention(s),
                "labels": [s.label],
            },
        }
        for i, s in enumerate(example.spans)
    ]
    result += [
        {
            "type": "relation",
            "from_id": f"e{r.head}",
            "to_id": f"e{r.tail}",
            "direction": "right",
            "labels": [r.label],
        }
        for r in example.relations
    ]
    task: dict[str, Any] = {}
    if example.id is not None:
        task["id"] = (
            int(example.id)
            if example.id.isdigit() and str(int(example.id)) == example.id
            else example.id
        )
    task["data"] = {"text": example.text}
    task["predictions" if use_predictions else "annotations"] = [{"result": result}]
    return task


def write_label_studio(
    examples: Iterable[Example], path: Path | str, *, use_predictions: bool = False
) -> int:
    """Write a JSON array with one task (one annotation, or prediction) per Example."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("[")
        for example in examples:
            handle.write(",\n" if count else "\n")
            handle.write(json.dumps(_task(example, use_predictions), ensure_ascii=False))
            count += 1
        handle.write("\n]\n")
    return count
