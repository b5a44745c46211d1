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

from nerkit.lexicon.matcher import LexiconMatcher, LexiconSets, collate_sets
from nerkit.lexicon.words import NONE, NONE_ID, PAD_ID, SETS, Lexicon, LexiconError

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
