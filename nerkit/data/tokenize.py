"""Text -> tokens with character offsets, for Chinese, English and mixed text.

Two modes:

- ``char``: every non-whitespace character is a token (character-level Chinese taggers).
- ``word``: every CJK character (Han ideographs, CJK and full-width punctuation, kana, hangul,
  bopomofo) is its own token; a run of letters/digits (any script: Latin, Cyrillic, Greek,
  full-width alphanumerics such as ``１０Ａ``...) is one token, combining marks stay with the
  letter they follow; every other character (ASCII punctuation, symbols, emoji) is its own token.

Offsets are Python ``str`` indices (code points, so an astral emoji is one index) and are
end-exclusive. Whitespace is never part of a token. Nothing here knows about tags or models.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from typing import Literal

from nerkit.types import Token

__all__ = ["TokenizeMode", "is_cjk", "is_wide", "tokenize"]

TokenizeMode = Literal["char", "word"]

# Code point ranges tokenised one character at a time in "word" mode.
_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals supplement, Kangxi radicals
    (0x2FF0, 0x303F),  # ideographic description, CJK symbols and punctuation
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x3190, 0x31FF),  # Kanbun, Bopomofo ext, CJK strokes, Katakana ext
    (0x3200, 0x33FF),  # enclosed CJK letters, CJK compatibility
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE10, 0xFE1F),  # vertical forms
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFE50, 0xFE6F),  # small form variants
    (0xFF00, 0xFF0F),  # full-width punctuation (before the digits)
    (0xFF1A, 0xFF20),  # full-width punctuation (between digits and capitals)
    (0xFF3B, 0xFF40),  # full-width punctuation (between capitals and small letters)
    (0xFF5B, 0xFFEF),  # full-width punctuation, half-width katakana and hangul, signs
    (0x1B000, 0x1B16F),  # kana supplement / extended
    (0x20000, 0x3134F),  # CJK extensions B-G, compatibility supplement
)
# Full-width digits and Latin letters: letters/digits (word runs), but "wide" when joining.
_FULLWIDTH_ALNUM = ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))


_CJK_STARTS = [low for low, _ in _CJK_RANGES]
_WIDE_RANGES = tuple(sorted(_CJK_RANGES + _FULLWIDTH_ALNUM))
_WIDE_STARTS = [low for low, _ in _WIDE_RANGES]


def _in_ranges(code: int, starts: list[int], ranges: tuple[tuple[int, int], ...]) -> bool:
    # binary search over sorted, disjoint ranges: this runs once per character of a corpus
    index = bisect_right(starts, code) - 1
    return index >= 0 and code <= ranges[index][1]


def is_cjk(char: str) -> bool:
    """Return True for a character that ``word`` mode makes a token on its own."""
    code = ord(char)
    return code >= 0x1100 and _in_ranges(code, _CJK_STARTS, _CJK_RANGES)


def is_wide(char: str) -> bool:
    """Return True for a CJK or full-width character (no space is needed next to another one)."""
    code = ord(char)
    return code >= 0x1100 and _in_ranges(code, _WIDE_STARTS, _WIDE_RANGES)


def _is_word_char(char: str) -> bool:
    return char.isalnum() and not is_cjk(char)


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def tokenize(text: str, mode: TokenizeMode = "word") -> list[Token]:
    """Return the tokens of `text` with end-exclusive character offsets (see the module doc)."""
    if mode == "char":
        return [Token(c, i, i + 1) for i, c in enumerate(text) if not c.isspace()]
    if mode != "word":
        raise ValueError(f"tokenize mode must be 'char' or 'word', got {mode!r}")
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        end = i + 1
        if _is_word_char(char):
            while end < n and (_is_word_char(text[end]) or _is_mark(text[end])):
                end += 1
        else:
            # a symbol keeps its combining marks (e.g. a keycap sequence's U+20E3)
            while end < n and _is_mark(text[end]) and not is_cjk(char):
                end += 1
        tokens.append(Token(text[i:end], i, end))
        i = end
    return tokens
