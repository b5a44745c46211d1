"""The thunlp relation format of FinRE and SanWen: ``head<TAB>tail<TAB>relation<TAB>sentence``.

One instance per line (blank lines between instances are ignored), e.g.
``东方航空<TAB>上航<TAB>合并<TAB>东方航空AH股临时停牌传将与上航合并``. Entities are given as strings
only, so their offsets are recovered from the sentence. Consecutive lines with the same sentence
become one `Example`: each distinct recovered (start, end) is a span labelled `entity_label`
(FinRE has no entity types), each line a `Relation`; a pair with several labels (FinRE: 1,150
train pairs) keeps them all as several relations, and ``unknown`` is kept as a label, as it is in
the file, so a scorer can exclude it. An exactly repeated line is kept once
(``meta["duplicate_rows"]``). ``meta["lines"]`` gives the file line of each relation.

Ambiguity policy (``offsets=``), for a head or tail string that occurs several times:

- ``"nearest"`` (default): the pair of non-overlapping occurrences closest to each other
  (earliest on a tie), falling back to ``"first"`` when no such pair exists. In
  ``友达光电苏州公司……参观访问过友达台湾总部`` (友达光电 自己 友达) it picks the second 友达,
  not the one inside 友达光电.
- ``"first"``: the first occurrence of each string, as the MG-Lattice code does (``list_find``);
  the same string is always the same span within a sentence, but when one string contains the
  other the two spans overlap (728 FinRE train lines), and when head and tail are the same
  string the relation links a span to itself (6 lines).

Each Example counts in ``meta``: ``ambiguous_mentions`` (head or tail strings of its lines that
occur more than once), ``overlapping_pairs`` (lines whose chosen head and tail overlap) and
``self_pairs`` (lines whose head and tail became one span). docs/relations.md gives the totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from nerkit.data.formats._io import iter_lines
from nerkit.data.safe_write import atomic_open
from nerkit.data.spans import has_overlaps
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Relation, Span

__all__ = ["OffsetPolicy", "occurrences", "read_finre", "write_finre"]

OffsetPolicy = Literal["first", "nearest"]
Row = tuple[int, list[str]]  # (file line, [head, tail, relation, sentence])


def occurrences(text: str, mention: str) -> list[int]:
    """Return every start index of `mention` in `text`, overlapping matches included."""
    starts, start = [], text.find(mention)
    while start >= 0:
        starts.append(start)
        start = text.find(mention, start + 1)
    return starts


def _choose(
    head_starts: list[int], tail_starts: list[int], head: str, tail: str, policy: OffsetPolicy
) -> tuple[int, int]:
    """Return the (head start, tail start) the policy picks."""
    if policy == "nearest":
        pairs = [
            (max(h, t) - min(h, t), h, t)
            for h in head_starts
            for t in tail_starts
            if h + len(head) <= t or t + len(tail) <= h
        ]
        if pairs:
            _, h, t = min(pairs)
            return h, t
    return head_starts[0], tail_starts[0]


def _rows(path: Path, errors: str) -> Iterator[list[Row]]:
    """Yield runs of consecutive, checked rows sharing a sentence."""
    group: list[Row] = []
    for number, line in iter_lines(path, errors):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise DataFormatError(
                path,
                number,
                f"expected 4 tab-separated columns (head, tail, relation, sentence), "
                f"found {len(fields)}: {line[:80]!r}",
                hint="is a column missing, or does the sentence contain a tab?",
            )
        if not all(fields[:3]):
            raise DataFormatError(path, number, f"expected non-empty head, tail and relation, "
                                  f"found {fields[:3]!r}")  # fmt: skip
        if group and fields[3] != group[-1][1][3]:
            yield group
            group = []
        group.append((number, fields))
    if group:
        yield group


def _example(group: list[Row], path: Path, policy: OffsetPolicy, entity_label: str) -> Example:
    text = group[0][1][3]
    links: dict[tuple[int, int, int, int, str], int] = {}  # (hs, he, ts, te, label) -> line
    counts = {"ambiguous_mentions": 0, "overlapping_pairs": 0, "self_pairs": 0}
    for number, (head, tail, label, _) in group:
        head_starts, tail_starts = occurrences(text, head), occurrences(text, tail)
        for mention, starts in ((head, head_starts), (tail, tail_starts)):
            if not starts:
                raise DataFormatError(
                    path, number, f"{mention!r} does not occur in the sentence {text[:60]!r}"
                )
            counts["ambiguous_mentions"] += len(starts) > 1
        h, t = _choose(head_starts, tail_starts, head, tail, policy)
        key = (h, h + len(head), t, t + len(tail), label)
        counts["overlapping_pairs"] += h < key[3] and t < key[1] and key[:2] != key[2:4]
        counts["self_pairs"] += key[:2] == key[2:4]
        links.setdefault(key, number)
    spans = tuple(sorted({Span(s, e, entity_label) for k in links for s, e in (k[:2], k[2:4])}))
    index = {(s.start, s.end): i for i, s in enumerate(spans)}
    relations = tuple(Relation(index[k[:2]], index[k[2:4]], k[4]) for k in links)
    meta: dict[str, object] = {"line": group[0][0], "lines": tuple(links.values())}
    meta.update({key: value for key, value in counts.items() if value})
    if len(links) < len(group):
        meta["duplicate_rows"] = len(group) - len(links)
    if has_overlaps(spans):
        meta["overlaps"] = True
    return Example(text, spans, None, relations, None, meta)


def read_finre(
    path: Path | str,
    *,
    offsets: OffsetPolicy = "nearest",
    entity_label: str = "ENTITY",
    errors: str = "strict",
) -> Iterator[Example]:
    """Yield one Example per run of lines sharing a sentence; see the module for `offsets`."""
    if offsets not in ("first", "nearest"):
        raise NerkitError(f"offsets must be 'first' or 'nearest', got {offsets!r}")
    path = Path(path)
    for group in _rows(path, errors):
        yield _example(group, path, offsets, entity_label)


def _check_writable(example: Example) -> None:
    """Refuse an example the format cannot hold whole: nothing is lost silently."""
    used = {i for r in example.relations for i in (r.head, r.tail)}
    name = repr(example.id) if example.id is not None else repr(example.text[:30])
    if not example.relations:
        problem = "has no relations"
    elif example.attributes:
        problem = "has attributes"
    elif len(used) < len(example.spans):
        problem = f"has {len(example.spans) - len(used)} entities outside every relation"
    elif "\t" in example.text or "\n" in example.text:
        problem = "has a tab or a newline in its text"
    else:
        return
    raise NerkitError(
        f"the thunlp format holds one line per relation and nothing else; the document {name} "
        f"{problem} (write jsonl instead, or remove what the format cannot hold)"
    )


def write_finre(examples: Iterable[Example], path: Path | str) -> int:
    """Write one line per relation, a blank line after each; return the examples written.

    The format has no offsets: a reader recovers them by its policy, so a span that is not
    where that policy looks moves (only the strings survive).
    """
    count = 0
    with atomic_open(Path(path), "w", encoding="utf-8", newline="\n") as handle:
        for example in examples:
            _check_writable(example)
            for rel in example.relations:
                head = example.mention(example.spans[rel.head])
                tail = example.mention(example.spans[rel.tail])
                handle.write(f"{head}\t{tail}\t{rel.label}\t{example.text}\n\n")
            count += 1
    return count
