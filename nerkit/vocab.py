"""Vocabularies: string <-> id maps with a fixed PAD/UNK policy and a JSON round trip.

Id 0 is always the padding symbol and id 1 the unknown symbol, so a zero-filled
tensor is valid padding and every unseen string has somewhere to go. Torch-free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import repeat
from typing import Any

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0  # zero-filled id tensors are valid padding
UNK_ID = 1  # where every unseen string goes


class Vocabulary:
    """An ordered set of strings with ids; ``PAD`` is id `PAD_ID` (0), ``UNK`` `UNK_ID` (1)."""

    def __init__(self, items: Iterable[str] = ()) -> None:
        self._items: list[str] = [PAD, UNK]
        self._index: dict[str, int] = {PAD: PAD_ID, UNK: UNK_ID}
        for item in items:
            self.add(item)

    @classmethod
    def from_counts(cls, counts: Counter[str], min_count: int = 1) -> Vocabulary:
        """Return a vocabulary of the strings seen `min_count` times or more, frequent first."""
        ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        return cls(item for item, count in ranked if count >= min_count)

    def add(self, item: str) -> int:
        """Add `item` if new; return its id."""
        if item not in self._index:
            self._index[item] = len(self._items)
            self._items.append(item)
        return self._index[item]

    def id(self, item: str) -> int:
        """Return the id of `item`, or the UNK id when it is unknown."""
        return self._index.get(item, UNK_ID)

    def ids(self, items: Sequence[str]) -> list[int]:
        """Return the ids of `items` (UNK for unknown ones)."""
        return list(map(self._index.get, items, repeat(UNK_ID)))

    def item(self, index: int) -> str:
        """Return the string with id `index`."""
        return self._items[index]

    def __contains__(self, item: object) -> bool:
        return item in self._index

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._items == other._items

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)})"

    @property
    def items(self) -> list[str]:
        """Return every string in id order, PAD and UNK included."""
        return list(self._items)

    def to_list(self) -> list[str]:
        """Return a JSON-ready list of the strings in id order."""
        return list(self._items)

    @classmethod
    def from_list(cls, items: Sequence[Any]) -> Vocabulary:
        """Rebuild a vocabulary written by `to_list`; raise ValueError when it is malformed."""
        if len(items) < 2 or items[PAD_ID] != PAD or items[UNK_ID] != UNK:
            raise ValueError(
                f"a vocabulary list must start with {PAD!r}, {UNK!r}; got {list(items[:2])!r}"
            )
        if not all(isinstance(item, str) for item in items):
            raise ValueError("every vocabulary entry must be a string")
        if len(set(items)) != len(items):
            raise ValueError("a vocabulary list holds a duplicate entry")
        return cls(items[2:])


class LabelSet:
    """The tag inventory of a tagger: an ordered list of tag strings with ids, no PAD/UNK."""

    def __init__(self, tags: Sequence[str]) -> None:
        if len(set(tags)) != len(tags):
            raise ValueError(f"tags must be distinct, got {list(tags)!r}")
        self.tags: list[str] = list(tags)
        self._index = {tag: i for i, tag in enumerate(self.tags)}

    def id(self, tag: str) -> int:
        """Return the id of `tag`; raise KeyError naming the tag when it is unknown."""
        try:
            return self._index[tag]
        except KeyError:
            raise KeyError(f"unknown tag {tag!r}; known: {self.tags}") from None

    def ids(self, tags: Sequence[str]) -> list[int]:
        """Return the ids of `tags`."""
        return [self.id(tag) for tag in tags]

    def __len__(self) -> int:
        return len(self.tags)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelSet) and self.tags == other.tags
