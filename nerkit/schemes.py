"""Tagging schemes: IOB1, BIO, BIOES and BMES; spans <-> tags, validation, allowed transitions.

Torch-free. Spans here are in TOKEN indices, end-exclusive (`Span(start, end, label)` with
``tags[start:end]`` the chunk); mapping tokens to characters is `nerkit.data`'s job.

Schemes and their letters (a tag is ``"O"`` or ``PREFIX-LABEL``; labels may contain ``-``):

- IOB1 (CoNLL-2003 original): ``I-`` opens and continues a chunk; ``B-X`` only marks a chunk
  that directly follows a chunk of the same type X.
- BIO (= IOB2): every chunk starts with ``B-``, continues with ``I-``.
- BIOES (= IOBES, BILOU): ``S-`` single-token chunk, else ``B- I-* E-``. On input ``L-`` is read
  as ``E-``, ``U-`` as ``S-`` and ``M-`` as ``I-``.
- BMES (Chinese word-segmentation style): ``S-`` or ``B- M-* E-``; ``I-`` is read as ``M-``.

Output always uses the canonical letters (BIOES: B, I, E, S; BMES: B, M, E, S).

Chunking policies of `tags_to_spans`:

- lenient (default) reproduces conlleval.pl's startOfChunk/endOfChunk rules, as extended to
  E/S tags by seqeval (`seqeval.metrics.sequence_labeling.get_entities`). A chunk ENDS before the
  current tag when the previous tag is E or S; when the previous tag is B or I and the current
  one is B, S or O; or when the previous tag is not O and the label changes. A chunk STARTS at
  a B or S; at an I or E that follows O, E, S or the sentence start (an orphan I-/E-/M- opens
  a chunk); or at any non-O tag whose label differs from the previous tag's. So every ill-formed
  sequence still yields chunks, exactly as conlleval and seqeval's default mode count them.
- strict keeps only well-formed chunks: it is seqeval's ``mode="strict"`` with the matching scheme
  class (IOB2 for BIO, IOB1 for IOB1, IOBES for BIOES; BMES is BIOES with M for I). For BIO a
  chunk must start with B; for BIOES/BMES it must be S or B I* E (a B ... I chunk cut off by O
  is dropped). IOB1 follows seqeval's tables, including two of their quirks: an invalid B-X
  (not after a chunk of type X) is skipped and an I right after it opens a chunk; a one-token
  B-X chunk directly followed by B-Y (Y != X) is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum

from nerkit.errors import SchemeError
from nerkit.types import Span


class Scheme(str, Enum):
    """A token tagging scheme."""

    IOB1 = "IOB1"
    BIO = "BIO"
    BIOES = "BIOES"
    BMES = "BMES"


_ALIASES = {"IOB2": Scheme.BIO, "BILOU": Scheme.BIOES, "IOBES": Scheme.BIOES}
# prefixes a scheme accepts on input, and the internal letter each is read as
_ACCEPTED = {
    Scheme.IOB1: {"B": "B", "I": "I"},
    Scheme.BIO: {"B": "B", "I": "I"},
    Scheme.BIOES: {"B": "B", "I": "I", "E": "E", "S": "S", "L": "E", "U": "S", "M": "I"},
    Scheme.BMES: {"B": "B", "I": "I", "E": "E", "S": "S", "M": "I"},
}
# prefixes of `tag_inventory`, in order; the internal letter I is written M in BMES
_PREFIXES = {
    Scheme.IOB1: ("I", "B"),
    Scheme.BIO: ("B", "I"),
    Scheme.BIOES: ("B", "I", "E", "S"),
    Scheme.BMES: ("B", "M", "E", "S"),
}
_KNOWN_PREFIXES = "BIESMLU"

# An internal tag: (letter in O/B/I/E/S, label or None for O). BMES's M is the internal I.
_Tag = tuple[str, "str | None"]
_OUTSIDE: _Tag = ("O", None)


def parse_scheme(name: str) -> Scheme:
    """Return the scheme a name denotes, case-insensitively (IOB2 = BIO, BILOU/IOBES = BIOES)."""
    key = name.strip().upper()
    if key in Scheme.__members__:
        return Scheme[key]
    if key in _ALIASES:
        return _ALIASES[key]
    valid = ", ".join([*Scheme.__members__, *_ALIASES])
    raise SchemeError(f"unknown tagging scheme {name!r}; expected one of {valid}")


def split_tag(tag: str) -> tuple[str, str | None]:
    """Return ``(prefix, label)`` of a tag: ``"B-PER" -> ("B", "PER")``, ``"O" -> ("O", None)``.

    The prefix is returned as written (L, U, M are not normalised here).
    """
    if tag == "O":
        return "O", None
    prefix, sep, label = tag.partition("-")
    if not sep or not label or len(prefix) != 1 or prefix not in _KNOWN_PREFIXES:
        raise SchemeError(
            f"malformed tag {tag!r}; expected 'O' or PREFIX-LABEL with PREFIX one of "
            f"{', '.join(_KNOWN_PREFIXES)} (e.g. 'B-PER')"
        )
    return prefix, label


def _internal(tag: str, scheme: Scheme) -> _Tag:
    """Return a tag as (internal letter, label), checking its prefix belongs to `scheme`."""
    prefix, label = split_tag(tag)
    if label is None:
        return _OUTSIDE
    letter = _ACCEPTED[scheme].get(prefix)
    if letter is None:
        raise SchemeError(
            f"tag {tag!r} does not belong to the {scheme.value} scheme, whose prefixes are "
            f"{', '.join(_PREFIXES[scheme])} (use detect_scheme or pick the right scheme)"
        )
    return letter, label


def _internal_all(tags: Sequence[str], scheme: Scheme) -> list[_Tag]:
    seen: dict[str, _Tag] = {}
    for tag in tags:
        if tag not in seen:
            seen[tag] = _internal(tag, scheme)
    return [seen[tag] for tag in tags]


def _write(letter: str, label: str, scheme: Scheme) -> str:
    return f"{'M' if scheme is Scheme.BMES and letter == 'I' else letter}-{label}"


def spans_to_tags(spans: Iterable[Span], length: int, scheme: Scheme) -> list[str]:
    """Return the tags of a sentence of `length` tokens with the given token spans."""
    tags = ["O"] * length
    previous: Span | None = None
    for span in sorted(spans):
        if span.end > length:
            raise SchemeError(
                f"span {span} ends after the sentence of {length} tokens "
                "(spans here are token indices, end-exclusive)"
            )
        if previous is not None and span.start < previous.end:
            raise SchemeError(f"spans {previous} and {span} overlap; a tag sequence cannot nest")
        inside = "I"
        if scheme is Scheme.IOB1:
            touching = previous is not None and previous.end == span.start
            first = "B" if touching and previous.label == span.label else "I"
        elif scheme is Scheme.BIO:
            first = "B"
        else:
            first, inside = ("S" if span.end - span.start == 1 else "B"), "I"
        tags[span.start] = _write(first, span.label, scheme)
        for t in range(span.start + 1, span.end):
            tags[t] = _write(inside, span.label, scheme)
        if scheme in (Scheme.BIOES, Scheme.BMES) and span.end - span.start > 1:
            tags[span.end - 1] = _write("E", span.label, scheme)
        previous = span
    return tags


def _lenient_end(prev: _Tag, cur: _Tag) -> bool:
    """conlleval's endOfChunk: does a chunk end between `prev` and `cur`?"""
    p, c = prev[0], cur[0]
    if p in "ES" or (p in "BI" and c in "BSO"):
        return True
    return p != "O" and prev[1] != cur[1]


def _lenient_start(prev: _Tag, cur: _Tag) -> bool:
    """conlleval's startOfChunk: does a chunk start at `cur`?"""
    p, c = prev[0], cur[0]
    if c in "BS" or (p in "ESO" and c in "IE"):
        return True
    return c != "O" and prev[1] != cur[1]


def _lenient_spans(tags: list[_Tag]) -> list[Span]:
    spans: list[Span] = []
    begin = 0
    prev = _OUTSIDE
    for i, cur in enumerate([*tags, _OUTSIDE]):
        if cur is _OUTSIDE and prev is _OUTSIDE:
            continue  # no chunk ends or starts between two O tags (the common case)
        if _lenient_end(prev, cur):
            spans.append(Span(begin, i, prev[1] or ""))
        if _lenient_start(prev, cur):
            begin = i
        prev = cur
    return spans


# seqeval's strict tables: (previous letters, current letters, label condition)
_Rule = tuple[str, str, str]
_ANY = "OBIES"
_STRICT: dict[str, dict[str, tuple[_Rule, ...]]] = {
    "IOB1": {
        "start": (("O", "I", "any"), ("I", "I", "diff"), ("B", "I", "any"),
                  ("I", "B", "same"), ("B", "B", "same")),
        "inside": (("BI", "I", "same"),),
        "end": (("I", "I", "diff"), ("I", "OB", "any"), ("B", "O", "any"),
                ("B", "I", "diff"), ("B", "B", "same")),
    },
    "BIO": {
        "start": ((_ANY, "B", "any"),),
        "inside": (("BI", "I", "same"),),
        "end": (("BI", "OB", "any"), ("BI", "I", "diff")),
    },
    "BIOES": {
        "start": ((_ANY, "BS", "any"),),
        "inside": (("BI", "IE", "same"),),
        "end": (("ES", _ANY, "any"),),
    },
}  # fmt: skip


def _matches(rules: tuple[_Rule, ...], prev: _Tag, cur: _Tag) -> bool:
    for prev_letters, cur_letters, condition in rules:
        if prev[0] in prev_letters and cur[0] in cur_letters:
            same = prev[1] == cur[1]
            if condition == "any" or same == (condition == "same"):
                return True
    return False


def _strict_spans(tags: list[_Tag], scheme: Scheme) -> list[Span]:
    """Port of seqeval's `Tokens.entities` (strict mode) over internal tags."""
    rules = _STRICT["BIOES" if scheme is Scheme.BMES else scheme.value]
    tags = [*tags, _OUTSIDE]
    spans: list[Span] = []
    i, prev = 0, _OUTSIDE
    while i < len(tags):
        if _matches(rules["start"], prev, tags[i]):
            end = i + 1
            while _matches(rules["inside"], tags[end - 1], tags[end]):
                end += 1  # stops at the final O at the latest: O is never inside
            if _matches(rules["end"], tags[end - 1], tags[end]):
                spans.append(Span(i, end, tags[i][1] or ""))
            i = end
        else:
            i += 1
        prev = tags[i - 1]
    return spans


def tags_to_spans(tags: Sequence[str], scheme: Scheme, *, strict: bool = False) -> list[Span]:
    """Return the chunks of a tag sequence as token spans, sorted by position.

    `strict=False` chunks like conlleval.pl (every ill-formed sequence still yields chunks);
    `strict=True` keeps only well-formed chunks, like seqeval's strict mode. See the module
    docstring for the exact rules. A tag whose prefix is not in `scheme` raises `SchemeError`.
    """
    internal = _internal_all(tags, scheme)
    return _strict_spans(internal, scheme) if strict else _lenient_spans(internal)


def convert_tags(tags: Sequence[str], source: Scheme, target: Scheme) -> list[str]:
    """Return `tags` rewritten from `source` to `target`, through lenient chunking."""
    return spans_to_tags(tags_to_spans(tags, source), len(tags), target)


def tag_inventory(labels: Iterable[str], scheme: Scheme) -> list[str]:
    """Return every tag of `scheme` over `labels`: "O" first, then labels sorted, prefixes in order.

    Prefix order: IOB1 I, B; BIO B, I; BIOES B, I, E, S; BMES B, M, E, S.
    """
    inventory = ["O"]
    for label in sorted(set(labels)):
        if not label or label == "O":
            raise SchemeError(f"invalid entity label {label!r}; expected a non-empty name, not 'O'")
        inventory.extend(f"{prefix}-{label}" for prefix in _PREFIXES[scheme])
    return inventory


def _allowed(prev: _Tag | None, cur: _Tag | None, scheme: Scheme) -> bool:
    if scheme in (Scheme.IOB1, Scheme.BIO):
        # the letter that may only continue / follow a chunk of its own type
        bound = "B" if scheme is Scheme.IOB1 else "I"
        if cur is not None and cur[0] == bound:
            return prev is not None and prev[0] in "BI" and prev[1] == cur[1]
        return True
    chunk_open = prev is not None and prev[0] in "BI"
    continues = cur is not None and cur[0] in "IE"
    if chunk_open or continues:
        return chunk_open and continues and prev[1] == cur[1]  # type: ignore[index]
    return True


def is_allowed(prev: str | None, cur: str | None, scheme: Scheme) -> bool:
    """Return whether tag `cur` may follow tag `prev` in a well-formed `scheme` sequence.

    `prev=None` is the sequence start, `cur=None` the sequence end. Rules: BIO: I-X only after
    B-X or I-X. IOB1: B-X only after B-X or I-X. BIOES/BMES: after B-X or I-X (M-X) only I-X
    (M-X) or E-X; I-X (M-X) and E-X only after B-X or I-X (M-X); a sequence cannot end open.
    """
    prev_tag = None if prev is None else _internal(prev, scheme)
    cur_tag = None if cur is None else _internal(cur, scheme)
    return _allowed(prev_tag, cur_tag, scheme)


def transition_mask(tags: Sequence[str], scheme: Scheme) -> list[list[bool]]:
    """Return the (C + 2) x (C + 2) matrix of allowed transitions between `tags`.

    ``m[i][j]`` says tag i may be followed by tag j. Index C is START, C + 1 is END: the START
    row and the END column are filled from `is_allowed`, the START column and END row are all
    False (nothing precedes START or follows END). ``m[C][C + 1]`` is an empty sequence (True).
    """
    internal: list[_Tag | None] = [*_internal_all(tags, scheme), None]
    size = len(tags) + 2
    mask = [[False] * size for _ in range(size)]
    for i, prev in enumerate(internal):
        row = i if prev is not None else len(tags)  # None in the row position is START
        for j, cur in enumerate(internal):
            column = j if cur is not None else len(tags) + 1  # None as column is END
            mask[row][column] = _allowed(prev, cur, scheme)
    return mask


def detect_scheme(tags: Iterable[str]) -> Scheme:
    """Return the scheme a stream of tags most likely uses, from the prefixes seen.

    Heuristic: any M- -> BMES; else any E-/S-/L-/U- -> BIOES; else (only B-, I-, O) IOB1 when
    some I-X opens a chunk (at the start, after O or after another label) and every B-X directly
    follows a tag of label X; BIO otherwise (also for an all-O or empty stream). The stream is
    read as one sequence, so pass one sentence or the concatenation of many.
    """
    letters: set[str] = set()
    i_opens = b_opens = False
    prev = _OUTSIDE
    for tag in tags:
        prefix, label = split_tag(tag)
        letters.add(prefix)
        if prefix == "I" and prev[1] != label:
            i_opens = True
        if prefix == "B" and prev[1] != label:
            b_opens = True
        prev = (prefix, label)
    if "M" in letters:
        return Scheme.BMES
    if letters & set("ESLU"):
        return Scheme.BIOES
    return Scheme.IOB1 if i_opens and not b_opens else Scheme.BIO


def violations(tags: Sequence[str], scheme: Scheme) -> list[int]:
    """Return positions t whose transition (tags[t-1] or START, tags[t]) is not allowed.

    ``t == len(tags)`` means the sequence ends where it may not (e.g. BIOES ending in B-).
    """
    internal: list[_Tag | None] = [None, *_internal_all(tags, scheme), None]
    return [t for t in range(len(tags) + 1) if not _allowed(internal[t], internal[t + 1], scheme)]
