"""Lexicons, a multi-pattern word matcher, and SoftLexicon B/M/E/S word sets (Ma et al. 2020).

A `Lexicon` is a set of words with positive integer frequencies. Word ids are fixed: id 0 is
padding, id 1 the special NONE word that fills an empty set, and the words follow from id 2
in lexicon order. `LexiconMatcher` finds every lexicon word in a sentence and turns the
matches into the four SoftLexicon sets of each token. Torch-free (numpy only).

Sentences are lists of token strings (one character per token for Chinese, from
`nerkit.data.tokenize`). A word matches the tokens ``tokens[i:j]`` when their concatenation
equals the word, so a match never starts or ends inside a token and all offsets are token
offsets (an astral emoji, a keycap sequence, a run of Latin letters are each one token).
Matching is exact: spell the lexicon as the tokens are spelt (full-width ``１`` is not ``1``).

SoftLexicon sets of token t, for every match ``[i, j)`` (end exclusive):
    B  words that Begin at t       i == t and j - i > 1
    M  words with t in the Middle  i < t < j - 1
    E  words that End at t         j - 1 == t and j - i > 1
    S  Single-token words at t     i == t and j - i == 1
A set holds one entry per match (two occurrences of a word both around t are two entries);
an empty set of a real token holds NONE. The weight of an entry is z(w) / Z(t), with z the
word frequency (NONE counts `none_frequency`) and Z(t) the sum of z over the 4 sets of t, so
the weights of a token sum to 1. The paper also multiplies by 4; a linear layer absorbs that.

Shapes: B batch, T tokens (padded length), K entries per set (the most in the batch), 4 sets.
    ids      (B, T, 4, K) int64    word ids; 0 on padding
    weights  (B, T, 4, K) float32  z(w) / Z(t); 0 on padding
`LexiconMatcher.sets` returns the (T, 4, K) arrays of one sentence.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

from nerkit.errors import DataFormatError, NerkitError

logger = logging.getLogger(__name__)

__all__ = [
    "NONE",
    "NONE_ID",
    "PAD_ID",
    "SETS",
    "Lexicon",
    "LexiconError",
    "LexiconMatcher",
    "LexiconSets",
    "collate_sets",
]

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


class LexiconSets(NamedTuple):
    """SoftLexicon word ids and weights, (T, 4, K) for a sentence or (B, T, 4, K) for a batch."""

    ids: np.ndarray
    weights: np.ndarray


def collate_sets(sets: Sequence[LexiconSets]) -> LexiconSets:
    """Return per-sentence (T, 4, K) sets padded into one (B, T, 4, K) batch.

    Equal to `LexiconMatcher.batch_sets` of the sentences: for sets computed once per
    sentence (training data) and batched later.
    """
    width = max((item.ids.shape[0] for item in sets), default=0)
    k = max((item.ids.shape[2] for item in sets), default=1)
    ids = np.zeros((len(sets), width, 4, k), dtype=np.int64)
    weights = np.zeros((len(sets), width, 4, k), dtype=np.float32)
    for b, item in enumerate(sets):
        length, _, size = item.ids.shape
        ids[b, :length, :, :size] = item.ids
        weights[b, :length, :, :size] = item.weights
    return LexiconSets(ids, weights)


class LexiconMatcher:
    """Find every lexicon word in token sequences and build their SoftLexicon sets.

    Args:
        lexicon: The words to find; ids are the lexicon's (see the module docstring).
        backend: "daachorse" (a double-array Aho-Corasick automaton in Rust, the fastest),
            "python" (a dict of word prefixes, no dependency; 3x slower sets on MSRA) or
            "auto" (daachorse when it is installed). Both give identical results.
        none_frequency: The frequency z that NONE counts in the weights of its token.
    """

    def __init__(
        self, lexicon: Lexicon, backend: Backend = "auto", none_frequency: float = 1.0
    ) -> None:
        if len(lexicon) == 0:
            raise LexiconError(
                "expected a lexicon with at least one word, found an empty one "
                "(if pruning emptied it, keep more: most_frequent > 0)"
            )
        if none_frequency <= 0:
            raise ValueError(f"none_frequency must be > 0, got {none_frequency}")
        if backend == "auto":
            backend = "daachorse" if _has_daachorse() else "python"
        if backend not in ("daachorse", "python"):
            raise ValueError(f"backend must be 'auto', 'daachorse' or 'python', got {backend!r}")
        self.lexicon, self.backend, self.none_frequency = lexicon, backend, none_frequency
        self._frequency = lexicon.frequencies.astype(np.float64)
        self._frequency[NONE_ID] = none_frequency
        if backend == "daachorse":
            import daachorse

            self._automaton = daachorse.CharwiseDoubleArrayAhoCorasick(lexicon.words)
            self._id_offset = 2  # daachorse numbers the patterns from 0
        else:
            self._prefixes = _prefix_table(lexicon.words)
            self._id_offset = 0

    def __reduce__(self) -> tuple[type[LexiconMatcher], tuple[Lexicon, str, float]]:
        # pickled as its lexicon and settings, the automaton rebuilt on unpickling (0.5 s for
        # 84k words): the pickle then holds no daachorse-version-specific bytes
        return (LexiconMatcher, (self.lexicon, self.backend, self.none_frequency))

    def find(self, tokens: Sequence[str]) -> list[tuple[int, int, int]]:
        """Return every match as (start, end, word id) in token offsets, end exclusive.

        Sorted by start, then end.
        """
        offset = self._id_offset
        return sorted((start, end, found + offset) for start, end, found in self._raw(tokens))

    def _raw(self, tokens: Sequence[str]) -> list[tuple[int, int, int]]:
        """Return the matches unsorted, with word id - `_id_offset` as the third value."""
        if "" in tokens:
            raise ValueError(f"token {list(tokens).index('')} is an empty string")
        if self.backend == "python":
            return _find_prefixes(self._prefixes, tokens)
        text = "".join(tokens)
        found = self._automaton.find_overlapping(text)  # (start, end, pattern) in characters
        return found if len(text) == len(tokens) else _to_token_offsets(found, tokens)

    def sets(self, tokens: Sequence[str]) -> LexiconSets:
        """Return the SoftLexicon sets of one sentence, each array (T, 4, K).

        `batch_sets` is about 3x faster per sentence on batches of 64 (numpy's fixed costs
        are paid once per batch).
        """
        ids, weights = self.batch_sets([tokens])
        return LexiconSets(ids[0], weights[0])

    def batch_sets(self, sentences: Sequence[Sequence[str]]) -> LexiconSets:
        """Return the SoftLexicon sets of sentences padded to the longest, each (B, T, 4, K)."""
        lengths = np.array([len(tokens) for tokens in sentences], dtype=np.int64)
        matches = [self._raw(tokens) for tokens in sentences]
        counts = np.array([len(found) for found in matches], dtype=np.int64)
        total = int(counts.sum())
        # chain in C: a Python generator over every value would cost more than the matching
        values = chain.from_iterable(chain.from_iterable(matches))
        flat = np.fromiter(values, dtype=np.int64, count=3 * total).reshape(total, 3)
        flat[:, 2] += self._id_offset
        sentence = np.repeat(np.arange(len(sentences)), counts)
        return _build_sets(flat, sentence, lengths, self._frequency)


def _has_daachorse() -> bool:
    try:
        import daachorse  # noqa: F401
    except ImportError:
        logger.info("daachorse is not installed: lexicon matching uses the pure-Python backend")
        return False
    return True


def _prefix_table(words: Sequence[str]) -> dict[str, int]:
    """Return every prefix of every word -> its word id, or 0 for a prefix that is no word."""
    table: dict[str, int] = {}
    for index, word in enumerate(words):
        for length in range(1, len(word)):
            table.setdefault(word[:length], 0)
        table[word] = index + 2
    return table


def _find_prefixes(table: dict[str, int], tokens: Sequence[str]) -> list[tuple[int, int, int]]:
    """Return the matches of `LexiconMatcher.find`, walking the prefix table from each token."""
    found = []
    get, n = table.get, len(tokens)
    for start in range(n):
        text = ""
        for end in range(start, n):
            text += tokens[end]
            word_id = get(text)
            if word_id is None:
                break  # no word continues this prefix
            if word_id:
                found.append((start, end + 1, word_id))
    return found


def _to_token_offsets(
    found: list[tuple[int, int, int]], tokens: Sequence[str]
) -> list[tuple[int, int, int]]:
    """Keep the character-offset matches that start and end on token boundaries, re-indexed."""
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    offset = 0
    for index, token in enumerate(tokens):
        starts[offset] = index
        offset += len(token)
        ends[offset] = index + 1
    return [
        (starts[start], ends[end], pattern)
        for start, end, pattern in found
        if start in starts and end in ends
    ]


def _build_sets(
    matches: np.ndarray, sentence: np.ndarray, lengths: np.ndarray, frequency: np.ndarray
) -> LexiconSets:
    """Scatter (M, 3) matches of a batch into padded (B, T, 4, K) ids and weights.

    `matches` rows are (start, end, word id) of sentence `sentence`, in any order: the
    entries of each set are sorted by (start, end), whatever the backend found first.
    """
    batch, width = len(lengths), int(lengths.max(initial=0))
    start, end, word = matches[:, 0], matches[:, 1], matches[:, 2]
    span = end - start
    # one entry per (match, covered token): its token, its set and its word
    owner = np.repeat(np.arange(len(matches)), span)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(span) - span, span)
    size = span[owner]
    role = np.where(size == 1, 3, np.where(step == 0, 0, np.where(step == size - 1, 2, 1)))
    cell = (sentence[owner] * width + start[owner] + step) * 4 + role  # flat (B * T * 4)
    # one sort by (cell, start, end); the key is unique since a span is at most one word
    span_key = start * (width + 1) + end
    order = np.argsort(cell * (width + 1) ** 2 + span_key[owner])
    cell = cell[order]
    per_cell = np.bincount(cell, minlength=batch * width * 4)
    k = max(1, int(per_cell.max(initial=0)))
    slot = np.arange(len(cell)) - (np.cumsum(per_cell) - per_cell)[cell]
    entry_word = word[owner[order]]
    empty = np.flatnonzero((per_cell == 0) & np.repeat(_real(lengths, width), 4))
    ids = np.zeros((batch * width * 4, k), dtype=np.int64)
    ids[cell, slot] = entry_word
    ids[empty, 0] = NONE_ID
    # Z of each token: only entries and NONE cells carry weight, padding stays 0
    entry_z, none_z = frequency[entry_word], frequency[NONE_ID]
    tokens = batch * width
    total = np.bincount(cell // 4, weights=entry_z, minlength=tokens)
    total = total + none_z * np.bincount(empty // 4, minlength=tokens)  # float64 even if empty
    weights = np.zeros((batch * width * 4, k), dtype=np.float32)
    weights[cell, slot] = entry_z / total[cell // 4]
    weights[empty, 0] = none_z / total[empty // 4]
    shape = (batch, width, 4, k)
    return LexiconSets(ids.reshape(shape), weights.reshape(shape))


def _real(lengths: np.ndarray, width: int) -> np.ndarray:
    """Return the flat (B * T,) mask of real tokens."""
    return (np.arange(width) < lengths[:, None]).ravel()
