"""brat standoff: ``X.txt`` (the text) next to ``X.ann`` (the annotations), per document.

``T1<TAB>PER 0 2<TAB>张三`` is a span (end exclusive, code points; the mention is checked,
with tabs and line breaks inside a mention written as spaces); ``R1<TAB>born_in Arg1:T1 Arg2:T2`` a
relation. Discontinuous fragments (``T2<TAB>LOC 0 5;8 10<TAB>...``) are an error unless
``discontinuous="merge"`` (one span from the first start to the last end) or ``"split"`` (one
span per fragment). Other lines (A/M attributes, N normalisations, E events, ``#`` notes, ``*``
equivalences) are kept verbatim in ``meta["brat_other"]`` and written back; their T ids stay
valid because the T ids are kept in ``meta["brat_ids"]``. A BOM in the .txt is dropped.

`path` is a directory (every ``*.txt`` in it, sorted by name) or one ``.txt``/``.ann`` file.
Example.id is the file stem; the writer names files from Example.id (or ``doc00001``...).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from nerkit.data.formats._io import iter_lines, make_example, read_text, to_span
from nerkit.errors import DataFormatError
from nerkit.types import Example, Relation, Span

__all__ = ["read_brat", "write_brat"]

logger = logging.getLogger(__name__)
Discontinuous = Literal["error", "merge", "split"]
_FRAGMENTS = re.compile(r"^\d+ \d+(;\d+ \d+)*$")


def _documents(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.txt"))
    txt = path.with_suffix(".txt")
    if not txt.exists():
        raise DataFormatError(path, 1, f"expected the brat text file {txt.name} next to it")
    return [txt]


def _flat(mention: str) -> str:
    return mention.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def _t_line(
    fields: list[str], text: str, where: tuple[Path, int], discontinuous: str
) -> list[Span]:
    label, _, offsets = fields[1].partition(" ")
    if not _FRAGMENTS.match(offsets):
        raise DataFormatError(*where, f"expected 'LABEL start end', found {fields[1]!r}")
    pairs = [tuple(map(int, f.split())) for f in offsets.split(";")]
    mention = fields[2] if len(fields) > 2 else None
    if len(pairs) == 1:
        span = to_span(text, *pairs[0], label, where)
        _check_mention(text, span, mention, where)
        return [span]
    if discontinuous == "error":
        raise DataFormatError(
            *where,
            f"discontinuous span {fields[0]} {offsets!r} is not supported by flat NER",
            hint="pass discontinuous='merge' or discontinuous='split'",
        )
    spans = [to_span(text, s, e, label, where) for s, e in pairs]
    if mention is not None and " ".join(_flat(text[s.start : s.end]) for s in spans) != mention:
        raise DataFormatError(*where, f"fragments {offsets!r} do not cover {mention!r}")
    if discontinuous == "merge":
        return [Span(min(s.start for s in spans), max(s.end for s in spans), label)]
    return spans


def _check_mention(text: str, span: Span, mention: str | None, where: tuple[Path, int]) -> None:
    if mention is not None and _flat(text[span.start : span.end]) != mention:
        raise DataFormatError(
            *where,
            f"span [{span.start}, {span.end}) covers {text[span.start : span.end]!r} but the "
            f"file says {mention!r}",
        )


def _relation(fields: list[str], ids: dict[str, int], where: tuple[Path, int]) -> Relation:
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
    pending: list[tuple[list[str], tuple[Path, int]]] = []
    other: list[str] = []
    for number, line in iter_lines(ann, errors) if ann.exists() else ():
        if not line.strip():
            continue
        fields, where = line.split("\t", 2), (ann, number)
        if line.startswith("T"):
            ids[fields[0]] = len(spans)
            for span in _t_line(fields, text, where, discontinuous):
                spans.append(span)
                span_ids.append(fields[0])
        elif line.startswith("R"):
            pending.append((fields, where))
        else:
            other.append(line)
    relations = [_relation(fields, ids, where) for fields, where in pending]
    meta: dict[str, Any] = {"brat_ids": span_ids}
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


def _ann_lines(example: Example) -> list[str]:
    ids = example.meta.get("brat_ids")
    if not ids or len(ids) != len(example.spans) or len(set(ids)) != len(ids):
        ids = [f"T{i + 1}" for i in range(len(example.spans))]
        other = []
    else:
        other = list(example.meta.get("brat_other", []))
    lines = [
        f"{tid}\t{s.label} {s.start} {s.end}\t{_flat(example.mention(s))}"
        for tid, s in zip(ids, example.spans, strict=True)
    ]
    lines += [
        f"R{k + 1}\t{r.label} Arg1:{ids[r.head]} Arg2:{ids[r.tail]}"
        for k, r in enumerate(example.relations)
    ]
    return lines + other


def write_brat(examples: Iterable[Example], path: Path | str) -> int:
    """Write ``<id>.txt`` and ``<id>.ann`` per Example into directory `path`; return the count."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for index, example in enumerate(examples):
        name = (example.id or f"doc{index + 1:05d}").replace("/", "_").replace("\\", "_")
        (directory / f"{name}.txt").write_text(example.text, encoding="utf-8", newline="")
        lines = _ann_lines(example)
        (directory / f"{name}.ann").write_text(
            "".join(line + "\n" for line in lines), encoding="utf-8", newline="\n"
        )
        count += 1
    return count
