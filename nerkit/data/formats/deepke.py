"""DeepKE's standard relation (RE) and attribute (AE) extraction CSV files.

- RE: header ``sentence,relation,head,head_offset,tail,tail_offset``, e.g.
  ``黄得功，安徽合肥人,出生地,黄得功,0,安徽合肥,4``: one (head, relation, tail) per row;
  ``head_offset`` is the 0-based character index of the head's first character.
- AE: header ``sentence,attribute,entity,entity_offset,attribute_value,attribute_value_offset``,
  e.g. ``张冬梅，女，汉族,民族,张冬梅,0,汉族,6``: one (entity, attribute, value) per row.

Consecutive rows with the same sentence become one `Example`; every head, tail and entity is a
span (exact duplicates shared), each RE row a `Relation`, each AE row an `Attribute` whose value
range need not be a span. A repeated identical row within a sentence is kept once and counted in
``meta["duplicate_rows"]``; ``meta["lines"]`` gives the file line of each relation/attribute.

Entity types. The files carry none; ``relation.csv`` gives a (head_type, tail_type) per
*relation*, so types taken from it are a function of the gold label (DeepKE's leak: a model that
sees them as input is told the answer). Spans are therefore labelled ``entity_label`` (default
``"ENTITY"``) unless ``types=`` names a ``relation.csv``; use that for NER training only, never as
relation-classifier input at test time. `read_deepke_schema` reads the same file as a `Schema`.

Offsets. A mention must be at its offset (else `DataFormatError` naming ``file:line``). The one
exception is DeepKE's ``-1`` ("not found"; 24 AE rows whose entity differs in letter case from
the sentence): ``missing_offsets="search"`` (default) takes the first case-insensitive match
and counts it in ``meta["searched_offsets"]``, ``"skip"`` drops the row (``meta["skipped_rows"]``),
``"error"`` raises.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal, TypeVar

from nerkit.data.formats._io import iter_lines
from nerkit.data.safe_write import atomic_open
from nerkit.data.schema import AttributeType, RelationType, Schema
from nerkit.data.spans import has_overlaps
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Attribute, Example, Relation, Span

__all__ = [
    "AE_HEADER",
    "RE_HEADER",
    "read_deepke_ae",
    "read_deepke_re",
    "read_deepke_schema",
    "write_deepke_ae",
    "write_deepke_re",
]

RE_HEADER = ("sentence", "relation", "head", "head_offset", "tail", "tail_offset")
AE_HEADER = (
    "sentence",
    "attribute",
    "entity",
    "entity_offset",
    "attribute_value",
    "attribute_value_offset",
)
MissingOffsets = Literal["search", "skip", "error"]
Row = tuple[int, list[str]]  # (file line where the record starts, its fields)
T = TypeVar("T")
_NOT_FOUND = -1  # DeepKE writes -1 when its preprocessing could not find the mention


def _searched(*offsets: str) -> int:
    """Return how many of the offset fields are DeepKE's "not found"."""
    return sum(offset.strip() == str(_NOT_FOUND) for offset in offsets)


def _records(path: Path, errors: str) -> Iterator[Row]:
    """Yield (start line, fields) of every CSV record, blank lines skipped."""
    lines = ((number, line + "\n") for number, line in iter_lines(path, errors))
    state = {"line": 0}

    def feed() -> Iterator[str]:
        for number, line in lines:
            state["line"] = number
            yield line

    reader = csv.reader(feed(), strict=True)  # strict: an unclosed quote is an error
    previous = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise DataFormatError(
                path,
                previous + 1,
                f"malformed CSV: {error}",
                hint="is a quote left open? a quoted field runs until its closing quote",
            ) from None
        if row:
            yield previous + 1, row
        previous = state["line"]


def _sentence_groups(path: Path, header: tuple[str, ...], errors: str) -> Iterator[list[Row]]:
    """Yield lists of consecutive rows sharing a sentence, after checking the header."""
    records = _records(path, errors)
    first = next(records, None)
    if first is None:
        return
    if tuple(field.strip() for field in first[1]) != header:
        raise DataFormatError(
            path,
            first[0],
            f"expected the header {','.join(header)!r}, found {','.join(first[1])!r}",
            hint="is this the other DeepKE format (RE vs AE)?",
        )
    group: list[Row] = []
    for number, row in records:
        if len(row) != len(header):
            raise DataFormatError(
                path, number, f"expected {len(header)} columns ({','.join(header)}), "
                f"found {len(row)}: {row!r}"
            )  # fmt: skip
        if group and row[0] != group[-1][1][0]:
            yield group
            group = []
        group.append((number, row))
    if group:
        yield group


def _search(text: str, mention: str) -> int:
    """Return the first case-insensitive match of `mention` in `text`, or -1."""
    folded = mention.casefold()
    for start in range(len(text) - len(mention) + 1):
        if text[start : start + len(mention)].casefold() == folded:
            return start
    return -1


def _locate(
    text: str, mention: str, offset: str, where: tuple[Path, int], missing: MissingOffsets
) -> tuple[int, int] | None:
    """Return the checked (start, end) of a mention; None when the row is to be skipped."""
    try:
        start = int(offset)
    except ValueError:
        raise DataFormatError(*where, f"expected an integer offset, found {offset!r}") from None
    if not mention:
        raise DataFormatError(*where, "expected a non-empty mention, found an empty field")
    if start == _NOT_FOUND and missing != "error":
        if missing == "skip":
            return None
        start = _search(text, mention)
        if start < 0:
            raise DataFormatError(
                *where, f"offset -1 and {mention!r} is not in the sentence, even ignoring case"
            )
        return start, start + len(mention)
    end = start + len(mention)
    if start < 0 or text[start:end] != mention:
        raise DataFormatError(
            *where,
            f"{mention!r} is not at offset {start}: the sentence has {text[max(start, 0) : end]!r}",
            hint="offsets are 0-based character indices of the mention's first character",
        )
    return start, end


def _span_index(spans: Iterable[Span]) -> tuple[tuple[Span, ...], dict[Span, int]]:
    ordered = tuple(sorted(set(spans)))
    return ordered, {span: i for i, span in enumerate(ordered)}


def _relation_types(path: Path, errors: str) -> dict[str, tuple[str, str]]:
    """Return relation -> (head type, tail type) from a DeepKE relation.csv."""
    types: dict[str, tuple[str, str]] = {}
    records = _records(path, errors)
    first = next(records, None)
    expected = ("head_type", "tail_type", "relation", "index")
    if first is None or tuple(f.strip() for f in first[1]) != expected:
        found = "an empty file" if first is None else repr(",".join(first[1]))
        raise DataFormatError(path, 1, f"expected the header {','.join(expected)!r}, found {found}")
    for number, row in records:
        if len(row) != 4:
            raise DataFormatError(path, number, f"expected 4 columns, found {len(row)}: {row!r}")
        if row[2] in types and types[row[2]] != (row[0], row[1]):
            raise DataFormatError(
                path, number, f"relation {row[2]!r} appears twice with different types",
                hint="DeepKE keys relation.csv by relation name; rename one of them",
            )  # fmt: skip
        types[row[2]] = (row[0], row[1])
    return types


def read_deepke_schema(path: Path | str, *, errors: str = "strict") -> Schema:
    """Return the Schema declared by a DeepKE ``relation.csv`` or ``attribute.csv``.

    The ``None`` row (index 0, DeepKE's no-relation class) becomes `Schema.no_relation`.
    """
    path = Path(path)
    records = _records(path, errors)
    first = next(records, None)
    if first is not None and tuple(f.strip() for f in first[1]) == ("attribute", "index"):
        names = [row[0] for _, row in records if row and row[0] != "None"]
        return Schema(attributes=tuple(AttributeType(name) for name in names))
    types = _relation_types(path, errors)
    relations = tuple(
        RelationType(name, frozenset({pair})) for name, pair in types.items() if name != "None"
    )
    entity_types = sorted({t for name, pair in types.items() if name != "None" for t in pair})
    none = ("None",) if "None" in types else ()
    return Schema(tuple(entity_types), relations, (), none)


def read_deepke_re(
    path: Path | str,
    *,
    types: Path | str | None = None,
    entity_label: str = "ENTITY",
    missing_offsets: MissingOffsets = "search",
    errors: str = "strict",
) -> Iterator[Example]:
    """Yield one Example per run of rows sharing a sentence, with its spans and relations.

    `types` names a DeepKE ``relation.csv`` to label spans with its per-relation types (see
    the module docstring for why that leaks the label); otherwise spans get `entity_label`.
    """
    path = Path(path)
    type_map = _relation_types(Path(types), errors) if types is not None else None
    for group in _sentence_groups(path, RE_HEADER, errors):
        text = group[0][1][0]
        links: list[tuple[int, Span, Span, str]] = []
        skipped = searched = 0
        for number, (_, label, head, head_offset, tail, tail_offset) in group:
            where = (path, number)
            if not label:
                raise DataFormatError(*where, "expected a relation label, found an empty field")
            head_type, tail_type = entity_label, entity_label
            if type_map is not None:
                if label not in type_map:
                    raise DataFormatError(
                        *where,
                        f"relation {label!r} is not in {types}",
                        hint=f"known relations: {', '.join(sorted(type_map))}",
                    )
                head_type, tail_type = type_map[label]
            found = (
                _locate(text, head, head_offset, where, missing_offsets),
                _locate(text, tail, tail_offset, where, missing_offsets),
            )
            if found[0] is None or found[1] is None:
                skipped += 1
                continue
            searched += _searched(head_offset, tail_offset)
            links.append((number, Span(*found[0], head_type), Span(*found[1], tail_type), label))
        spans, index = _span_index(s for link in links for s in link[1:3])
        relations, lines = _unique(
            ((Relation(index[h], index[t], label), n) for n, h, t, label in links)
        )
        meta = _meta(group, lines, spans, len(links) - len(relations), skipped, searched)
        yield Example(text, spans, None, tuple(relations), None, meta)


def read_deepke_ae(
    path: Path | str,
    *,
    entity_label: str = "ENTITY",
    missing_offsets: MissingOffsets = "search",
    errors: str = "strict",
) -> Iterator[Example]:
    """Yield one Example per run of rows sharing a sentence, with entity spans and attributes."""
    path = Path(path)
    for group in _sentence_groups(path, AE_HEADER, errors):
        text = group[0][1][0]
        links: list[tuple[int, Span, tuple[int, int], str]] = []
        skipped = searched = 0
        for number, (_, name, entity, entity_offset, value, value_offset) in group:
            where = (path, number)
            if not name:
                raise DataFormatError(*where, "expected an attribute name, found an empty field")
            entity_range = _locate(text, entity, entity_offset, where, missing_offsets)
            value_range = _locate(text, value, value_offset, where, missing_offsets)
            if entity_range is None or value_range is None:
                skipped += 1
                continue
            searched += _searched(entity_offset, value_offset)
            links.append((number, Span(*entity_range, entity_label), value_range, name))
        spans, index = _span_index(link[1] for link in links)
        attributes, lines = _unique(
            ((Attribute(index[e], name, *value), n) for n, e, value, name in links)
        )
        meta = _meta(group, lines, spans, len(links) - len(attributes), skipped, searched)
        yield Example(text, spans, None, (), None, meta, tuple(attributes))


def _unique(items: Iterable[tuple[T, int]]) -> tuple[list[T], list[int]]:
    """Return the distinct items in first-seen order and the line of each."""
    seen: dict[T, int] = {}
    for item, line in items:
        seen.setdefault(item, line)
    return list(seen), list(seen.values())


def _meta(
    group: list[Row],
    lines: list[int],
    spans: tuple[Span, ...],
    duplicates: int,
    skipped: int,
    searched: int,
) -> dict[str, object]:
    meta: dict[str, object] = {"line": group[0][0], "lines": tuple(lines)}
    for key, value in (
        ("duplicate_rows", duplicates),
        ("skipped_rows", skipped),
        ("searched_offsets", searched),
    ):
        if value:
            meta[key] = value
    if has_overlaps(spans):
        meta["overlaps"] = True
    return meta


def _write(rows: Iterator[list[str | int]], header: tuple[str, ...], path: Path) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _check_writable(example: Example, kind: Literal["RE", "AE"]) -> None:
    """Refuse an example the CSV cannot hold whole: nothing is lost silently."""
    relations = kind == "RE"
    items = example.relations if relations else example.attributes
    used = (
        {i for r in example.relations for i in (r.head, r.tail)}
        if relations
        else {a.entity for a in example.attributes}
    )
    name = repr(example.id) if example.id is not None else repr(example.text[:30])
    if not items:
        problem = f"has no {'relations' if relations else 'attributes'}"
    elif example.attributes if relations else example.relations:
        problem = f"also has {'attributes' if relations else 'relations'}"
    elif len(used) < len(example.spans):
        problem = f"has {len(example.spans) - len(used)} entities outside every triple"
    else:
        return
    raise NerkitError(
        f"a DeepKE {kind} CSV holds one row per {kind} triple and nothing else; the document "
        f"{name} {problem} (write jsonl instead, or remove what the CSV cannot hold)"
    )


def write_deepke_re(examples: Iterable[Example], path: Path | str) -> int:
    """Write one row per relation; return the number of examples written."""
    count = 0

    def rows() -> Iterator[list[str | int]]:
        nonlocal count
        for example in examples:
            _check_writable(example, "RE")
            for rel in example.relations:
                head, tail = example.spans[rel.head], example.spans[rel.tail]
                yield [example.text, rel.label, example.mention(head), head.start,
                       example.mention(tail), tail.start]  # fmt: skip
            count += 1

    _write(rows(), RE_HEADER, Path(path))
    return count


def write_deepke_ae(examples: Iterable[Example], path: Path | str) -> int:
    """Write one row per attribute; return the number of examples written.

    Offsets are written as found, so an entity recovered from DeepKE's ``-1`` gets its real
    offset and the sentence's spelling.
    """
    count = 0

    def rows() -> Iterator[list[str | int]]:
        nonlocal count
        for example in examples:
            _check_writable(example, "AE")
            for attribute in example.attributes:
                entity = example.spans[attribute.entity]
                yield [example.text, attribute.name, example.mention(entity), entity.start,
                       example.attribute_value(attribute), attribute.start]  # fmt: skip
            count += 1

    _write(rows(), AE_HEADER, Path(path))
    return count
