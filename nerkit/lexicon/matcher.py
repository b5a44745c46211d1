"""A multi-pattern word matcher and SoftLexicon B/M/E/S word sets (see `nerkit.lexicon`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import chain
from typing import Literal, NamedTuple

import numpy as np

from nerkit.lexicon.words import NONE_ID, Lexicon, LexiconError

logger = logging.getLogger(__name__)

__all__ = ["Backend", "LexiconMatcher", "LexiconSets", "collate_sets"]

Backend = Literal["auto", "daachorse", "python"]


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
