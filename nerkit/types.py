"""The values every layer of nerkit speaks: spans, tokens, relations, attributes, examples.

Offsets are character offsets into the original text (Python `str` indices,
i.e. Unicode code points), with `end` exclusive: ``text[span.start:span.end]``
is the mention. Token-level tags, sub-words and windows are internal details
that never leak into these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Span:
    """A labelled, end-exclusive range ``[start, end)`` of characters (or of tokens, in schemes)."""

    start: int
    end: int
    label: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(
                f"a span needs 0 <= start < end, got start={self.start!r} end={self.end!r} "
                f"label={self.label!r}"
            )


@dataclass(frozen=True)
class Token:
    """A token of a text with its end-exclusive character offsets."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Relation:
    """A labelled link from span `head` to span `tail` (indices into `Example.spans`)."""

    head: int
    tail: int
    label: str


@dataclass(frozen=True)
class Attribute:
    """An attribute of entity `entity` (an index into `Example.spans`) whose value is a text range.

    ``text[start:end]`` (end exclusive, character offsets like `Span`) is the value, e.g. entity
    张冬梅, name 民族, value 汉族. The value is a range of the text, not an entity: it need not be
    in `Example.spans`, and it may overlap the entity.
    """

    entity: int
    name: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(
                f"an attribute value needs 0 <= start < end, got start={self.start!r} "
                f"end={self.end!r} name={self.name!r}"
            )


@dataclass(frozen=True)
class Example:
    """A text with its entity spans (character offsets) and optional extras.

    `tokens` is set when the source format defines tokenisation (CoNLL columns);
    `relations` and `attributes` index into `spans`; `meta` carries format-specific
    fields that a writer of the same format needs to round-trip (ids, annotator, ...).
    `attributes` comes last so that positional construction by older code keeps working.
    """

    text: str
    spans: tuple[Span, ...] = ()
    tokens: tuple[Token, ...] | None = None
    relations: tuple[Relation, ...] = ()
    id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    attributes: tuple[Attribute, ...] = ()

    def mention(self, span: Span) -> str:
        """Return the text a span covers."""
        return self.text[span.start : span.end]

    def attribute_value(self, attribute: Attribute) -> str:
        """Return the text an attribute's value covers."""
        return self.text[attribute.start : attribute.end]


@dataclass(frozen=True)
class Entity:
    """A predicted entity: character offsets, label, covered text and a confidence in [0, 1]."""

    start: int
    end: int
    label: str
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with keys start, end, label, text, score."""
        return {
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "text": self.text,
            "score": self.score,
        }
