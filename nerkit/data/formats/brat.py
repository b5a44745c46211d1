"""brat standoff: ``X.txt`` (the text) next to ``X.ann`` (the annotations), per document.

``T1<TAB>PER 0 2<TAB>张三`` is a span (end exclusive, code points; the mention is checked);
``R1<TAB>born_in Arg1:T1 Arg2:T2`` a relation (its id is kept in ``meta["brat_relation_ids"]``
and written back). Fragments separated only by whitespace (``T2<TAB>Token 5 7;8 10<TAB>is an``
over ``is\\nan``: brat itself splits a span at each line break so, and joins the fragments'
texts with a space) are one continuous span. Other discontinuous fragments
(``T2<TAB>LOC 0 5;8 10<TAB>...``) are an error unless ``discontinuous="merge"`` (one span from
the first start to the last end) or ``"split"`` (one span per fragment, all with the T id, so the
writer puts them back on one T line). Other lines (A/M attributes, N normalisations, E events,
``#`` notes, ``*`` equivalences) are kept verbatim in ``meta["brat_other"]`` and written back;
their ids stay valid because the T ids are kept in ``meta["brat_ids"]``. A BOM in the .txt is
dropped.

The writer splits a span at every line break or tab inside it into fragments, as brat does, so
that brat's own parser accepts the ``.ann``. Each file is replaced atomically. Attributes
(`Example.attributes`) cannot be written: refused unless ``drop_unsupported=True``.

`path` is a directory (every ``*.txt`` in it, sorted by name) or one ``.txt``/``.ann`` file.
Example.id is the file stem; the writer names files from Example.id (or ``doc00001``...), with
``/``, ``\\`` and control characters replaced by ``_``; a repeated id gets ``__2``, ``__3``...
(logged), so no document overwrites another.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from nerkit.data.formats._io import Where, iter_lines, located, make_example, read_text, to_span
from nerkit.data.formats._io import drop_unsupported as _drop
from nerkit.data.safe_write import atomic_write_text, check_output_dir
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Relation, Span

__all__ = ["read_brat", "write_brat"]

logger = logging.getLogger(__name__)
Discontinuous = Literal["error", "merge", "split"]
_FRAGMENTS = re.compile(r"^\d+ \d+(;\d+ \d+)*$")
# Characters that cannot stand in the one-line text field of a T line (brat reads the .ann
# line by line, and str.splitlines also breaks on \x0b, \x0c, \x1c-\x1e, \x85, U+2028/9).
_BREAKS = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_BREAK_RUN = re.compile(f"[{re.escape(_BREAKS)}]+")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def _documents(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(path.glob("*.txt"))
        if not found and not any(path.glob("*.ann")):
            raise NerkitError(
                f"expected brat .txt/.ann pairs in the directory {str(path)!r}, found none "
                "(a directory is read as brat only)"
            )
        return found
    txt = path.with_suffix(".txt")
    if not txt.is_file():
        raise DataFormatError(path, 1, f"expected the brat text file {txt.name} next to it")
    return [txt]


def _flat(mention: str) -> str:
    return _BREAK_RUN.sub(lambda m: " " * len(m.group()), mention)


def _joined(text: str, pairs: list[tuple[int, int]]) -> str:
    return " ".join(_flat(text[s:e]) for s, e in pairs)


def _t_line(fields: list[str], text: str, where: Where, discontinuous: str) -> list[Span]:
    if len(fields) < 2:
        raise DataFormatError(
            *where, f"expected 'T1<TAB>LABEL start end<TAB>text', found {fields[0]!r}"
        )
    label, _, offsets = fields[1].partition(" ")
    if not _FRAGMENTS.match(offsets):
        raise DataFormatError(*where, f"expected 'LABEL start end', found {fields[1]!r}")
    pairs = [(int(a), int(b)) for a, b in (f.split() for f in offsets.split(";"))]
    spans = [to_span(text, s, e, label, where) for s, e in pairs]
    mention = fields[2] if len(fields) > 2 else None
    accepted = {_joined(text, pairs), _flat(text[spans[0].start : spans[-1].end])}
    if mention is not None and mention not in accepted:
        shown = f"[{pairs[0][0]}, {pairs[0][1]})" if len(pairs) == 1 else repr(offsets)
        raise DataFormatError(
            *where,
            f"span {shown} covers {_joined(text, pairs)!r} but the file says {mention!r}",
        )
    if len(spans) == 1:
        return spans
    whitespace_gaps = all(
        a.end <= b.start and text[a.end : b.start].strip() == "" for a, b in pairwise(spans)
    )
    if discontinuous == "split":
        return spans
    if whitespace_gaps or discontinuous == "merge":
        return [Span(min(s.start for s in spans), max(s.end for s in spans), label)]
    raise DataFormatError(
        *where,
        f"discontinuous span {fields[0]} {offsets!r} is not supported by flat NER",
        hint="pass discontinuous='merge' or 'split' (--discontinuous merge|split)",
    )


def _relation(fields: list[str], ids: dict[str, int], where: Where) -> Relation:
    parts = fields[1].split() if len(fields) > 1 else []
    args = [p.partition(":")[2] for p in parts[1:3]]
    if len(parts) < 3 or any(a not in ids for a in args):
        raise DataFormatError(
            *where, f"expected 'LABEL Arg1:T1 Arg2:T2' with known T ids, found {fields[1:]!r}"
        )
    return Relation(ids[args[0]], ids[args[1]], parts[0])


def _read_one(txt: Path, discontinuous: str, errors: str) -> Example:
    text = read_text(txt, errors)
    ann = txt.with_suffix(".ann")
    spans: list[Span] = []
    span_ids: list[str] = []
    ids: dict[str, int] = {}
    pending: list[tuple[list[str], Where]] = []
    other: list[str] = []
    for number, line in iter_lines(ann, errors) if ann.is_file() else ():
        if not line.strip():
            continue
        fields, where = line.split("\t", 2), (ann, number)
        if line.startswith("T"):
            with located(where):
                found = _t_line(fields, text, where, discontinuous)
            ids[fields[0]] = len(spans)
            spans += found
            span_ids += [fields[0]] * len(found)
        elif line.startswith("R"):
            pending.append((fields, where))
        else:
            other.append(line)
    relations = [_relation(fields, ids, where) for fields, where in pending]
    meta: dict[str, Any] = {"brat_ids": span_ids}
    if pending:
        meta["brat_relation_ids"] = [fields[0] for fields, _ in pending]
    if other:
        logger.info("%s: kept %d non-T/R lines in meta['brat_other']", ann, len(other))
        meta["brat_other"] = other
    example = make_example(text, spans, relations, txt.stem, meta)
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    example.meta["brat_ids"] = [span_ids[i] for i in order]
    return example


def read_brat(
    path: Path | str, *, discontinuous: Discontinuous = "error", errors: str = "strict"
) -> Iterator[Example]:
    """Yield one Example per .txt/.ann pair."""
    if discontinuous not in ("error", "merge", "split"):
        raise ValueError(
            f"discontinuous must be 'error', 'merge' or 'split', got {discontinuous!r}"
        )
    for txt in _documents(Path(path)):
        yield _read_one(txt, discontinuous, errors)


def _pieces(text: str, span: Span) -> list[tuple[int, int]]:
    """Return the fragments of a span split at the line breaks and tabs strictly inside it."""
    pieces, begin = [], span.start
    for run in _BREAK_RUN.finditer(text, span.start, span.end):
        if span.start < run.start() and run.end() < span.end:
            pieces.append((begin, run.start()))
            begin = run.end()
    return [*pieces, (begin, span.end)]


def _t_lines(example: Example, ids: list[str]) -> list[str]:
    """Return one T line per id; spans sharing an id (read with 'split') are its fragments."""
    grouped: dict[str, list[Span]] = {}
    for tid, span in zip(ids, example.spans, strict=True):
        grouped.setdefault(tid, []).append(span)
    lines = []
    for tid, spans in grouped.items():
        pairs = [p for span in sorted(spans) for p in _pieces(example.text, span)]
        offsets = ";".join(f"{s} {e}" for s, e in pairs)
        lines.append(f"{tid}\t{spans[0].label} {offsets}\t{_joined(example.text, pairs)}")
    return lines


def _valid_ids(example: Example) -> bool:
    ids = example.meta.get("brat_ids")
    if not isinstance(ids, list) or len(ids) != len(example.spans):
        return False
    labels: dict[str, str] = {}
    for tid, span in zip(ids, example.spans, strict=True):
        if not (isinstance(tid, str) and tid.startswith("T")):
            return False
        if labels.setdefault(tid, span.label) != span.label:
            return False
    return True


def _ann_lines(example: Example) -> list[str]:
    if _valid_ids(example):
        ids, other = list(example.meta["brat_ids"]), list(example.meta.get("brat_other", []))
    else:
        ids, other = [f"T{i + 1}" for i in range(len(example.spans))], []
    first = {}
    for position, tid in enumerate(ids):
        first.setdefault(tid, position)
    rids = example.meta.get("brat_relation_ids")
    if not (
        isinstance(rids, list)
        and len(rids) == len(example.relations)
        and len(set(rids)) == len(rids)
        and all(isinstance(r, str) and r.startswith("R") for r in rids)
    ):
        rids = [f"R{k + 1}" for k in range(len(example.relations))]
    lines = _t_lines(example, ids)
    lines += [
        f"{rid}\t{r.label} Arg1:{ids[r.head]} Arg2:{ids[r.tail]}"
        for rid, r in zip(rids, example.relations, strict=True)
    ]
    return lines + other


def _name(example: Example, index: int, used: set[str]) -> str:
    name = _UNSAFE_NAME.sub("_", example.id or "") or f"doc{index + 1:05d}"
    unique, k = name, 1
    while unique in used:
        k += 1
        unique = f"{name}__{k}"
    if unique != name:
        logger.warning("document id %r is repeated; writing it as %s.txt", example.id, unique)
    used.add(unique)
    return unique


def write_brat(
    examples: Iterable[Example], path: Path | str, *, drop_unsupported: bool = False
) -> int:
    """Write ``<id>.txt`` and ``<id>.ann`` per Example into directory `path`; return the count."""
    directory = check_output_dir(path)
    directory.mkdir(exist_ok=True)
    used: set[str] = set()
    count = 0
    for index, example in enumerate(examples):
        example = _drop(example, "brat", relations=True, attributes=False, drop=drop_unsupported)
        name = _name(example, index, used)
        # Each file is replaced atomically; one fsync per file would cost ~6 ms a document.
        atomic_write_text(directory / f"{name}.txt", example.text, newline="", durable=False)
        lines = _ann_lines(example)
        ann = "".join(line + "\n" for line in lines)
        atomic_write_text(directory / f"{name}.ann", ann, durable=False)
        count += 1
    return count
