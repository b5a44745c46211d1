"""SemEval-2010 Task 8 in the KnowPrompt/DeepKE JSON-lines release.

One sentence per line: ``{"token": ["the", "crane", "arm", ...], "h": {"name": "crane",
"pos": [1, 2]}, "t": {"name": "arm", "pos": [2, 3]}, "relation": "Component-Whole(e2,e1)"}``
with end-exclusive token positions; ``h`` is the task's e1, ``t`` its e2, and e1 comes first.

The text is the tokens joined by single spaces (the release is tokenised and lower-cased; the
original spacing is lost), so token positions map to exact character offsets, and
``Example.tokens`` keeps the tokens. e1 and e2 become spans labelled `entity_label` (the task has
no entity types). The direction is kept in the relation's head and tail: ``Cause-Effect(e2,e1)``
becomes ``Relation(head=e2, tail=e1, label="Cause-Effect")``, so a directed relation is a label
on an ordered pair as in every other nerkit format; ``Other`` (undirected) is kept as it is in the
file, as ``Relation(e1, e2, "Other")``, so a scorer can exclude it. `official_label` gives the
19-way label back (the official scorer's input), `split_label` parses one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nerkit.data.formats._io import iter_lines, load_json, write_json_lines
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Relation, Span, Token

__all__ = ["OTHER", "official_label", "read_semeval", "split_label", "write_semeval"]

OTHER = "Other"
_LABEL = re.compile(r"^(?P<name>[A-Za-z][A-Za-z-]*)\((?P<first>e[12]),(?P<second>e[12])\)$")


def split_label(label: str) -> tuple[str, bool]:
    """Return (relation name, reversed) of a 19-way label: ``X(e2,e1)`` -> ("X", True).

    ``Other`` gives ("Other", False). Raises ValueError for any other shape.
    """
    if label == OTHER:
        return OTHER, False
    match = _LABEL.match(label)
    if match is None or match["first"] == match["second"] or match["name"] == OTHER:
        raise ValueError(f"expected 'Other' or 'Name(e1,e2)' / 'Name(e2,e1)', found {label!r}")
    return match["name"], match["first"] == "e2"


def official_label(example: Example, relation: Relation) -> str:
    """Return the 19-way SemEval label of a relation: e1 is whichever span starts first."""
    if relation.label == OTHER:
        return OTHER
    head, tail = example.spans[relation.head], example.spans[relation.tail]
    return f"{relation.label}({'e1,e2' if head.start < tail.start else 'e2,e1'})"


def _token_offsets(tokens: list[Any], where: tuple[Path, int]) -> tuple[Token, ...]:
    if (
        not isinstance(tokens, list)
        or not tokens
        or not all(isinstance(t, str) and t and " " not in t for t in tokens)
    ):
        raise DataFormatError(
            *where, 'expected "token" as a non-empty list of non-empty strings without spaces'
        )
    offsets, start = [], 0
    for text in tokens:
        offsets.append(Token(text, start, start + len(text)))
        start += len(text) + 1
    return tuple(offsets)


def _entity(record: dict[str, Any], key: str, tokens: tuple[Token, ...], where: tuple[Path, int],
            text: str, label: str) -> Span:  # fmt: skip
    entity = record.get(key)
    pos = entity.get("pos") if isinstance(entity, dict) else None
    if not (isinstance(pos, list) and len(pos) == 2 and all(type(p) is int for p in pos)):
        raise DataFormatError(*where, f'expected "{key}" as {{"name", "pos": [start, end]}}, '
                              f"found {entity!r}")  # fmt: skip
    if not 0 <= pos[0] < pos[1] <= len(tokens):
        raise DataFormatError(
            *where,
            f'"{key}" token positions {pos} out of range for {len(tokens)} tokens',
            hint="positions are end-exclusive token indices",
        )
    span = Span(tokens[pos[0]].start, tokens[pos[1] - 1].end, label)
    name = entity.get("name")
    if name is not None and text[span.start : span.end] != name:
        raise DataFormatError(
            *where,
            f'"{key}" tokens {pos} are {text[span.start : span.end]!r} but its name is {name!r}',
        )
    return span


def read_semeval(
    path: Path | str, *, entity_label: str = "ENTITY", errors: str = "strict"
) -> Iterator[Example]:
    """Yield one Example (two spans, one relation, tokens) per non-blank line."""
    path = Path(path)
    for number, line in iter_lines(path, errors):
        if not line.strip():
            continue
        where = (path, number)
        record = load_json(line, path, number)
        if not isinstance(record, dict):
            raise DataFormatError(*where, "expected a JSON object per line")
        tokens = _token_offsets(record.get("token"), where)
        text = " ".join(t.text for t in tokens)
        e1 = _entity(record, "h", tokens, where, text, entity_label)
        e2 = _entity(record, "t", tokens, where, text, entity_label)
        if not e1.end <= e2.start:
            raise DataFormatError(
                *where, f"expected e1 (h) {e1} to end before e2 (t) {e2} starts",
                hint="SemEval-2010 Task 8 marks e1 first; is h/t swapped?",
            )  # fmt: skip
        label = record.get("relation")
        try:
            name, reverse = split_label(label if isinstance(label, str) else repr(label))
        except ValueError as error:
            raise DataFormatError(*where, str(error)) from None
        relation = Relation(1, 0, name) if reverse else Relation(0, 1, name)
        yield Example(text, (e1, e2), tokens, (relation,), None, {"line": number})


def to_record(example: Example) -> dict[str, Any]:
    """Return the JSON object of one Example with two spans and one relation."""
    if len(example.spans) != 2 or len(example.relations) != 1 or example.attributes:
        raise NerkitError(
            f"a SemEval line holds two entities and one relation; the document "
            f"{example.id or example.text[:30]!r} has {len(example.spans)} spans, "
            f"{len(example.relations)} relations and {len(example.attributes)} attributes "
            "(write jsonl instead)"
        )
    tokens = example.tokens or _token_offsets(example.text.split(" "), (Path("<example>"), 0))
    starts = {t.start: i for i, t in enumerate(tokens)}
    ends = {t.end: i + 1 for i, t in enumerate(tokens)}
    record: dict[str, Any] = {"token": [t.text for t in tokens]}
    for key, span in zip(("h", "t"), sorted(example.spans), strict=True):
        if span.start not in starts or span.end not in ends:
            raise NerkitError(f"span {span} of {example.text[:30]!r} does not fall on tokens")
        record[key] = {
            "name": example.mention(span),
            "pos": [starts[span.start], ends[span.end]],
        }
    record["relation"] = official_label(example, example.relations[0])
    return record


def write_semeval(examples: Iterable[Example], path: Path | str) -> int:
    """Write one JSON object per Example; return how many were written."""
    return write_json_lines((to_record(e) for e in examples), Path(path))
