"""Label Studio JSON export: an array of tasks, or task objects (one, or one per line).

A task is ``{"id": 1, "data": {"text": ...}, "annotations": [{"result": [...], ...}],
"predictions": [...]}``; a result item ``{"id": "a1", "type": "labels", "from_name": "label",
"to_name": "text", "value": {"start": 0, "end": 2, "text": "张三", "labels": ["PER"]}}`` is a
span, ``{"type": "relation", "from_id": "a1", "to_id": "a2", "direction": "right",
"labels": ["born_in"]}`` a relation. Offsets are code points (current Label Studio; exports made
before its 2021 fix count UTF-16 units after an emoji, which the mention check reports).

- The mention ``value.text`` is checked against the text. Label Studio stores it with every
  ``\\n`` and ``\\r`` replaced by the two characters ``\\n`` (``selection.toString()
  .replace(/[\\n\\r]/g, "\\\\n")``), so that spelling is accepted too.
- A region with several labels gives one span per label. A relation's ``direction`` is kept:
  ``right`` links ``from_id`` -> ``to_id``, ``left`` the reverse, ``bi`` gives both. Without
  ``labels`` (a project with no ``<Relations>`` tag) its label is `relation_label`
  (default ``"relation"``); several labels give one relation each. The writer writes a pair of
  opposite relations with the same label as one ``bi`` relation.
- Regions of other result types are skipped; HyperText regions (XPath offsets, not offsets into
  ``data``) are skipped with a warning and counted in ``meta["skipped_regions"]``.
- The text is ``data[data_key]``; by default ``data["text"]``, or the one string value of
  ``data`` when it has no ``"text"`` (e.g. ``{"ner": ...}`` for a ``<Text value="$ner">``).

Options: ``annotator`` picks the annotation whose ``completed_by`` (id or email) matches;
by default the latest non-cancelled one by ``updated_at``, then ``created_at``, then order.
``use_predictions=True`` reads ``predictions`` instead (the latest by the same rule).
``skip_invalid=True`` logs and skips malformed tasks.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nerkit.data.formats._io import (
    Where,
    make_example,
    parse_records,
    read_text,
    to_label,
    to_span,
)
from nerkit.data.formats._io import drop_unsupported as _drop
from nerkit.data.safe_write import atomic_open
from nerkit.errors import DataFormatError
from nerkit.types import Example, Relation, Span

__all__ = ["read_label_studio", "write_label_studio"]

logger = logging.getLogger(__name__)
_SPAN_TYPES = ("labels", "hypertextlabels")
_LINE_BREAK = re.compile(r"[\n\r]")


def _tasks(path: Path, errors: str) -> Iterator[tuple[Any, Where]]:
    """Yield ``(task, (path, line))`` from a JSON array (or one object), with its first line."""
    text = read_text(path, errors)
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip())
    if text.startswith("{", position):  # one task object (or several, one after another)
        while position < len(text):
            line = text.count("\n", 0, position) + 1
            task, position = _decode(decoder, text, position, path)
            yield task, (path, line)
            position = len(text) - len(text[position:].lstrip())
        return
    if not text.startswith("[", position):
        raise DataFormatError(
            path, 1, "expected a JSON array of tasks starting with '[', or one task object"
        )
    position += 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            raise DataFormatError(path, text.count("\n") + 1, "unterminated JSON array")
        if text[position] == "]":
            return
        line = text.count("\n", 0, position) + 1
        task, position = _decode(decoder, text, position, path)
        yield task, (path, line)


def _decode(decoder: json.JSONDecoder, text: str, position: int, path: Path) -> tuple[Any, int]:
    try:
        return decoder.raw_decode(text, position)
    except json.JSONDecodeError as error:
        raise DataFormatError(path, error.lineno, f"invalid JSON: {error.msg}") from None
    except (ValueError, RecursionError) as error:
        line = text.count("\n", 0, position) + 1
        raise DataFormatError(path, line, f"unreadable JSON value: {error}") from None


def _annotator_matches(annotation: dict[str, Any], annotator: str) -> bool:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return annotator in {str(who.get("id")), str(who.get("email"))}
    return str(who) == annotator


def _choose(
    task: dict[str, Any], annotator: str | None, use_predictions: bool, where: Where
) -> dict[str, Any] | None:
    key = "predictions" if use_predictions else "annotations"
    if key == "annotations" and "annotations" not in task:
        key = "completions"  # Label Studio 0.x named the annotations so
    candidates = task.get(key) or []
    if not isinstance(candidates, list):
        raise DataFormatError(*where, f'expected "{key}" as a list, found {candidates!r}')
    candidates = [c for c in candidates if isinstance(c, dict) and not c.get("was_cancelled")]
    if annotator is not None:
        candidates = [c for c in candidates if _annotator_matches(c, annotator)]
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


def _labels(value: dict[str, Any], kind: str, where: Where) -> list[str]:
    labels = value.get("labels", value.get(kind))
    if not isinstance(labels, list) or not labels:
        raise DataFormatError(
            *where, f'expected "labels" as a non-empty list of strings, found {labels!r}'
        )
    return [to_label(label, where) for label in labels]


def _region(text: str, value: dict[str, Any], kind: str, where: Where) -> list[Span]:
    """Return one span per label of a region; its mention may have Label Studio's escaping."""
    mention = value.get("text")
    start, end = value.get("start"), value.get("end")
    if isinstance(mention, str) and isinstance(start, int) and isinstance(end, int):
        raw = text[start:end]
        if mention != raw and mention == _LINE_BREAK.sub(r"\\n", raw):
            mention = raw
    return [
        to_span(text, start, end, label, where, mention) for label in _labels(value, kind, where)
    ]


def _key(value: Any, where: Where) -> Any:
    if isinstance(value, list | dict):
        raise DataFormatError(*where, f"expected a region id (a string), found {value!r}")
    return value


def _results(
    results: Any, text: str, where: Where, relation_label: str, meta: dict[str, Any]
) -> tuple[list[Span], list[Relation]]:
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise DataFormatError(*where, f'expected "result" as a list of objects, found {results!r}')
    spans: list[Span] = []
    index: dict[Any, int] = {}
    links = []
    for item in results:
        kind = item.get("type")
        value = item.get("value", {})
        if kind == "relation":
            links.append(item)
        elif kind in _SPAN_TYPES and not isinstance(value, dict):
            raise DataFormatError(*where, f'expected "value" as an object, found {value!r}')
        elif kind == "hypertextlabels" and not isinstance(value.get("start"), int):
            meta["skipped_regions"] = meta.get("skipped_regions", 0) + 1
            logger.warning("%s:%d: skipped a HyperText region (XPath offsets)", *where)
        elif kind in _SPAN_TYPES:
            index[_key(item.get("id", len(spans)), where)] = len(spans)
            spans.extend(_region(text, value, kind, where))
        else:
            logger.debug("%s:%d: skipped a %r result", *where, kind)
    return spans, [r for link in links for r in _relations(link, index, where, relation_label)]


def _relations(
    link: dict[str, Any], index: dict[Any, int], where: Where, relation_label: str
) -> list[Relation]:
    head, tail = _key(link.get("from_id"), where), _key(link.get("to_id"), where)
    if head not in index or tail not in index:
        raise DataFormatError(*where, f"relation {link!r} names a region not in this task")
    labels = link.get("labels") or [relation_label]
    if not isinstance(labels, list):
        raise DataFormatError(*where, f'expected relation "labels" as a list, found {labels!r}')
    direction = link.get("direction", "right")
    if direction not in ("right", "left", "bi"):
        raise DataFormatError(
            *where, f"expected a relation direction right, left or bi, found {direction!r}"
        )
    pairs = {"right": [(head, tail)], "left": [(tail, head)], "bi": [(head, tail), (tail, head)]}
    return [
        Relation(index[a], index[b], to_label(label, where, "relation label"))
        for label in labels
        for a, b in pairs[direction]
    ]


def _task_text(task: Any, data_key: str | None, where: Where) -> str:
    data = task.get("data") if isinstance(task, dict) else None
    if not isinstance(data, dict):
        raise DataFormatError(*where, 'expected a task with a "data" object, e.g. {"text": ...}')
    if data_key is None and "text" not in data:
        strings = [key for key, value in data.items() if isinstance(value, str)]
        data_key = strings[0] if len(strings) == 1 else "text"
    text = data.get(data_key or "text")
    if not isinstance(text, str):
        raise DataFormatError(
            *where,
            f"expected a string in data[{data_key or 'text'!r}], found {text!r}",
            hint="name the key the Text tag reads with data_key= / --data-key",
        )
    return text


def read_label_studio(
    path: Path | str,
    *,
    annotator: str | int | None = None,
    use_predictions: bool = False,
    data_key: str | None = None,
    relation_label: str = "relation",
    skip_invalid: bool = False,
    errors: str = "strict",
) -> Iterator[Example]:
    """Yield one Example per task (no spans when no annotation matches)."""
    who = None if annotator is None else str(annotator)
    unread = [0]  # tasks with predictions but no annotation, when predictions are not read

    def parse(task: Any, where: Where) -> Example:
        text = _task_text(task, data_key, where)
        chosen = _choose(task, who, use_predictions, where)
        if chosen is None and not use_predictions and task.get("predictions"):
            unread[0] += 1
        meta: dict[str, Any] = {"line": where[1]}
        results = chosen.get("result", []) if chosen else []
        spans, relations = _results(results, text, where, relation_label, meta)
        if chosen is not None and "completed_by" in chosen:
            meta["completed_by"] = chosen["completed_by"]
        task_id = task.get("id")
        return make_example(text, spans, relations, None if task_id is None else str(task_id), meta)

    yield from parse_records(_tasks(Path(path), errors), parse, skip_invalid=skip_invalid)
    if unread[0]:
        logger.warning(
            "%s: %d tasks have predictions but no annotation, so they gave no spans "
            "(read the predictions with use_predictions=True / --use-predictions)",
            path,
            unread[0],
        )


def _relation_results(example: Example) -> list[dict[str, Any]]:
    """Return the relation results; a relation followed by its reverse is one "bi" result."""
    relations, results, k = example.relations, [], 0
    while k < len(relations):
        r = relations[k]
        following = relations[k + 1] if k + 1 < len(relations) else None
        both = following == Relation(r.tail, r.head, r.label) and r.head != r.tail
        results.append(
            {
                "type": "relation",
                "from_id": f"e{r.head}",
                "to_id": f"e{r.tail}",
                "direction": "bi" if both else "right",
                "labels": [r.label],
            }
        )
        k += 2 if both else 1
    return results


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
    result += _relation_results(example)
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
    examples: Iterable[Example],
    path: Path | str,
    *,
    use_predictions: bool = False,
    drop_unsupported: bool = False,
) -> int:
    """Write a JSON array with one task (one annotation, or prediction) per Example.

    The file is replaced atomically. Attributes cannot be written: an example with some is an
    error unless `drop_unsupported`.
    """
    count = 0
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("[")
        for example in examples:
            example = _drop(
                example, "label-studio", relations=True, attributes=False, drop=drop_unsupported
            )
            handle.write(",\n" if count else "\n")
            handle.write(json.dumps(_task(example, use_predictions), ensure_ascii=False))
            count += 1
        handle.write("\n]\n")
    return count
