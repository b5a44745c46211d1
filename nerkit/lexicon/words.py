"""Lexicons: words with positive integer frequencies, read, pruned, counted and saved.

Word ids are fixed: id 0 is padding, id 1 the special NONE word that fills an empty
SoftLexicon set, and the words follow from id 2 in lexicon order. Torch-free (numpy only).
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from nerkit.errors import DataFormatError, NerkitError

logger = logging.getLogger(__name__)

__all__ = ["NONE", "NONE_ID", "PAD_ID", "SETS", "Lexicon", "LexiconError", "LexiconFormat"]

PAD_ID = 0
NONE_ID = 1
NONE = "<none>"
SETS = ("B", "M", "E", "S")
_MAGIC = "nerkit-lexicon 1"
_WHITESPACE = re.compile(r"\s")  # matches exactly the characters for which str.isspace() is True
Backend = Literal["auto", "daachorse", "python"]
LexiconFormat = Literal["auto", "words", "jieba", "nerkit"]


class LexiconError(NerkitError):
    """A lexicon is empty, or a word or a frequency is not usable."""


class Lexicon:
    """Words with positive integer frequencies; word i of `words` has id i + 2."""

    def __init__(self, words: Mapping[str, int] | Iterable[tuple[str, int]]) -> None:
        pairs = words.items() if isinstance(words, Mapping) else words
        merged: dict[str, int] = {}
        for word, frequency in pairs:
            if not (type(word) is str and type(frequency) is int and frequency > 0):
                _check_word(word, frequency)  # raises unless a numpy integer
            if frequency > merged.get(word, 0):
                merged[word] = int(frequency)
        # one scan of all words: per-character checks would double the time to load a lexicon
        if "" in merged or _WHITESPACE.search("\0".join(merged)):
            for word in merged:
                _check_word(word, 1)
        self._words = list(merged)
        self._index = {word: i + 2 for i, word in enumerate(self._words)}
        self._frequencies = np.fromiter(merged.values(), dtype=np.int64, count=len(merged))

    @classmethod
    def read(cls, path: Path | str, format: LexiconFormat = "auto") -> Lexicon:
        """Read a lexicon file; "auto" tells a saved lexicon (gzip), jieba (3 fields) or a list.

        Auto-detection looks at the gzip magic bytes, then at the first non-blank line: three
        fields are jieba's ``word frequency tag``, one or two a word list.
        """
        path = Path(path)
        if format == "auto":
            format = _detect_format(path)
        if format == "nerkit":
            return cls.load(path)
        if format == "jieba":
            return cls.read_jieba(path)
        if format == "words":
            return cls.read_text(path)
        raise ValueError(f"format must be auto, words, jieba or nerkit, got {format!r}")

    @classmethod
    def read_text(cls, path: Path | str) -> Lexicon:
        """Read one word per line with an optional frequency (default 1) after whitespace."""
        return cls(_read_lines(Path(path), frequency_required=False))

    @classmethod
    def read_jieba(cls, path: Path | str) -> Lexicon:
        """Read jieba's ``dict.txt``: ``word frequency [tag]`` per line (the tag is ignored)."""
        return cls(_read_lines(Path(path), frequency_required=True))

    def save(self, path: Path | str) -> None:
        """Write the lexicon as gzip-compressed ``word<TAB>frequency`` lines after a header."""
        Path(path).write_bytes(self.to_bytes())

    def to_bytes(self) -> bytes:
        """Return the bytes `save` writes (for writers that replace a file atomically)."""
        lines = [_MAGIC, *(f"{w}\t{f}" for w, f in zip(self._words, self._frequencies.tolist()))]
        data = ("\n".join(lines) + "\n").encode("utf-8")
        return gzip.compress(data, mtime=0)  # mtime=0: the same lexicon gives the same bytes

    @classmethod
    def load(cls, path: Path | str) -> Lexicon:
        """Read a file written by `save`; raise DataFormatError when it is not one."""
        path = Path(path)
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                lines = handle.read().split("\n")
        except (OSError, UnicodeDecodeError) as error:
            raise DataFormatError(
                path, 1, f"expected a gzip-compressed nerkit lexicon, found {error}",
                hint="read word lists with Lexicon.read_text or Lexicon.read_jieba",
            ) from None  # fmt: skip
        if lines[0] != _MAGIC:
            raise DataFormatError(path, 1, f"expected header {_MAGIC!r}, found {lines[0][:40]!r}")
        pairs = []
        for number, line in enumerate(lines[1:], start=2):
            word, _, frequency = line.partition("\t")
            if line and not frequency.isdecimal():
                raise DataFormatError(path, number, f"expected word<TAB>count, got {line!r}")
            if line:
                pairs.append((word, int(frequency)))
        return cls(pairs)

    @property
    def words(self) -> list[str]:
        """Return the words in id order (word i has id i + 2)."""
        return list(self._words)

    @property
    def frequencies(self) -> np.ndarray:
        """Return the frequency of every id as int64, shape (len + 2,); PAD 0, NONE 1."""
        return np.concatenate([np.array([0, 1], dtype=np.int64), self._frequencies])

    def id_words(self) -> list[str]:
        """Return the string of every id, PAD and NONE included: the rows of an embedding table."""
        return ["<pad>", NONE, *self._words]

    def id(self, word: str) -> int | None:
        """Return the id of `word`, or None when it is not in the lexicon."""
        return self._index.get(word)

    def frequency(self, word: str) -> int:
        """Return the frequency of `word`, 0 when it is not in the lexicon."""
        index = self._index.get(word)
        return 0 if index is None else int(self._frequencies[index - 2])

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Lexicon)
            and self._words == other._words
            and bool(np.array_equal(self._frequencies, other._frequencies))
        )

    def __repr__(self) -> str:
        return f"Lexicon(words={len(self)})"

    def prune(
        self, keep: Iterable[Sequence[str]] = (), most_frequent: int = 0, min_count: int = 1
    ) -> Lexicon:
        """Return the words found `min_count` times in the `keep` sentences, plus the
        `most_frequent` words of the lexicon.

        Words keep their frequencies and their relative order.
        """
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        found = np.zeros(len(self) + 2, dtype=np.int64)
        from nerkit.lexicon.matcher import LexiconMatcher  # matching builds on this module

        matcher = LexiconMatcher(self)
        for tokens in keep:
            np.add.at(found, [word_id for _, _, word_id in matcher.find(tokens)], 1)
        chosen = found >= min_count
        if most_frequent > 0:
            # stable sort: among equal frequencies the earlier word wins
            top = np.argsort(-self._frequencies, kind="stable")[:most_frequent]
            chosen[top + 2] = True
        ids = np.flatnonzero(chosen[2:])
        return Lexicon((self._words[i], int(self._frequencies[i])) for i in ids)

    def recount(self, sentences: Iterable[Sequence[str]], add: int = 1) -> Lexicon:
        """Return the lexicon with frequencies counted in `sentences`, as Ma et al. do.

        A match counts only when no other match covers it (``中国`` inside ``中国篮协`` does
        not count). `add` (>= 1) is added to every count so that unseen words keep a weight.
        """
        if add < 1:
            raise ValueError(f"add must be >= 1 so every frequency stays positive, got {add}")
        counts = np.full(len(self) + 2, add, dtype=np.int64)
        from nerkit.lexicon.matcher import LexiconMatcher  # matching builds on this module

        matcher = LexiconMatcher(self)
        for tokens in sentences:
            reach = -1  # the furthest end of the matches seen so far
            # start ascending, longer first: a match is covered iff an earlier one reaches its end
            for _, end, word_id in sorted(matcher.find(tokens), key=lambda m: (m[0], -m[1])):
                if end > reach:
                    counts[word_id] += 1
                    reach = end
        return Lexicon(zip(self._words, counts[2:].tolist()))


def _check_word(word: object, frequency: object) -> None:
    if not isinstance(word, str) or not word or any(char.isspace() for char in word):
        raise LexiconError(
            f"expected a non-empty word without whitespace, found {word!r} "
            "(tokens never contain whitespace, so such a word could never match)"
        )
    if isinstance(frequency, bool) or not isinstance(frequency, (int, np.integer)):
        raise LexiconError(f"expected an integer frequency for {word!r}, found {frequency!r}")
    if frequency < 1:
        raise LexiconError(f"expected a frequency >= 1 for {word!r}, found {frequency!r}")


def _detect_format(path: Path) -> LexiconFormat:
    """Return "nerkit" for a gzip file, "jieba" when the first line has 3 fields, else "words"."""
    if not path.is_file():
        raise LexiconError(f"lexicon: expected a lexicon file, found no file {path}")
    with open(path, "rb") as handle:
        if handle.read(2) == b"\x1f\x8b":
            return "nerkit"
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        first = next((line.split() for line in handle if line.strip()), [])
    return "jieba" if len(first) == 3 else "words"


def _read_lines(path: Path, frequency_required: bool) -> Iterator[tuple[str, int]]:
    """Yield (word, frequency) from a word list; raise DataFormatError naming `file:line`."""
    if not path.is_file():
        raise LexiconError(f"lexicon: expected a word list file, found no file {path}")
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            if frequency_required and len(fields) < 2:
                raise DataFormatError(
                    path, number, f"expected 'word frequency [tag]', got {line.strip()!r}",
                    hint="a list with one word per line reads with Lexicon.read_text",
                )  # fmt: skip
            if len(fields) > (3 if frequency_required else 2):
                raise DataFormatError(
                    path, number, f"expected a word and a frequency, got {len(fields)} fields",
                    hint="words cannot contain whitespace",
                )  # fmt: skip
            frequency = fields[1] if len(fields) > 1 else "1"
            if not frequency.isdecimal() or int(frequency) < 1:
                raise DataFormatError(
                    path, number, f"expected a positive integer frequency, got {frequency!r}"
                )
            yield fields[0], int(frequency)
