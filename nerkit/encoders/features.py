"""Token strings -> id features -> padded batches, and the vocabularies behind them.

The same `featurize` runs in training and in prediction, so the two can never
disagree on normalisation. Features per token: its id in `tokens`; in char mode with
bigrams, the ids of the left (c[i-1]c[i]) and right (c[i]c[i+1]) bigrams; in word mode
with a char encoder, the ids of its characters. With a lexicon (char mode), the SoftLexicon
word sets of every character: `featurize` keeps the token strings and `collate` matches the
whole batch at once (`LexiconMatcher.batch_sets`, about 3x faster per sentence than matching
one sentence at a time, and nothing per sentence is held between epochs).

Shapes: B batch, T padded length, W longest word in characters.
    tokens (B, T) long, mask (B, T) bool, bigrams (B, T, 2) long, chars (B, T, W) long,
    tags (B, T) long (padding holds 0, a valid id)
    pretrained encoders (S sub-words): pieces (B, S) long, piece_tokens (B, S) long, the
    token each sub-word belongs to (-1 on padding)
    lexicon (K entries per set): lexicon_ids (B, T, 4, K) long, lexicon_weights (B, T, 4, K)
    float, the B/M/E/S sets of each token (`nerkit.lexicon`); 0 on padding
    distillation (C tags): soft_tags (B, T, C) float, a target distribution's tag marginals
    (0 on padding), soft_transitions (B, C, C) float, its expected transition counts
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, pairwise, repeat
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from nerkit.encoders.config import TokenModelConfig
from nerkit.lexicon import Lexicon, LexiconMatcher
from nerkit.vocab import Vocabulary

BOS, EOS = "<s>", "</s>"


_MATCHER_LOCK = threading.Lock()


@dataclass
class Vocabs:
    """The vocabularies of one model; `bigrams`, `chars` and `lexicon` exist only when used."""

    tokens: Vocabulary
    bigrams: Vocabulary | None = None
    chars: Vocabulary | None = None
    # a pretrained encoder's tokenizer (nerkit.encoders.pretrained.SubwordTokenizer); it is
    # saved with the encoder, not in vocab.json
    subwords: Any = None
    # SoftLexicon words; saved as its own file of the model directory (nerkit.artifacts),
    # vocab.json records only its size and digest
    lexicon: Lexicon | None = None
    _matcher: LexiconMatcher | None = field(default=None, repr=False, compare=False)

    @property
    def matcher(self) -> LexiconMatcher | None:
        """Return the matcher of `lexicon` (built once: 0.5 s for 84k words), or None.

        Thread-safe: batches tagged side by side (`tag_sequences`) must share one matcher.
        """
        if self.lexicon is None:
            return None
        with _MATCHER_LOCK:
            if self._matcher is None or self._matcher.lexicon is not self.lexicon:
                self._matcher = LexiconMatcher(self.lexicon)
            return self._matcher

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of id-ordered lists (the lexicon: its size and digest)."""
        lists = {
            name: vocab.to_list()
            for name, vocab in [
                ("tokens", self.tokens),
                ("bigrams", self.bigrams),
                ("chars", self.chars),
            ]
            if vocab is not None
        }
        if self.lexicon is not None:
            lists["lexicon"] = {"words": len(self.lexicon), "sha256": lexicon_digest(self.lexicon)}
        return lists

    def sizes(self) -> dict[str, int]:
        """Return the rows each embedding table needs, keyed like `to_dict`."""
        sizes = {"tokens": len(self.tokens)}
        for name, vocab in (("bigrams", self.bigrams), ("chars", self.chars)):
            if vocab is not None:
                sizes[name] = len(vocab)
        if self.lexicon is not None:
            sizes["lexicon"] = len(self.lexicon) + 2  # padding and NONE
        return sizes

    @classmethod
    def from_dict(cls, raw: dict[str, Any], lexicon: Lexicon | None = None) -> Vocabs:
        """Rebuild from `to_dict` output and the lexicon it names; raise ValueError if malformed."""
        if "tokens" not in raw:
            raise ValueError("the 'tokens' vocabulary is missing")
        optional = {
            name: Vocabulary.from_list(raw[name]) for name in ("bigrams", "chars") if name in raw
        }
        recorded = raw.get("lexicon")
        if (recorded is None) != (lexicon is None):
            raise ValueError(
                "expected a lexicon exactly when the vocabularies name one, found "
                f"{'a lexicon' if lexicon is not None else 'none'} for {recorded!r}"
            )
        if lexicon is not None and recorded != {
            "words": len(lexicon), "sha256": lexicon_digest(lexicon)
        }:  # fmt: skip
            raise ValueError(
                f"the lexicon ({len(lexicon)} words) is not the one the vocabularies name "
                f"({recorded!r}); the files come from different runs"
            )
        return cls(tokens=Vocabulary.from_list(raw["tokens"]), lexicon=lexicon, **optional)


def lexicon_digest(lexicon: Lexicon) -> str:
    """Return the sha256 of a lexicon's words and frequencies, in id order."""
    digest = hashlib.sha256()
    for word, frequency in zip(lexicon.words, lexicon.frequencies[2:].tolist(), strict=True):
        digest.update(f"{word}\t{frequency}\n".encode())
    return digest.hexdigest()


class LexiconText(NamedTuple):
    """The token strings of an instance and the matcher that finds their words at collate time."""

    tokens: tuple[str, ...]
    matcher: LexiconMatcher


@dataclass(frozen=True)
class Instance:
    """One sequence as ids, ready to batch."""

    tokens: list[int]
    # bigram ids at the T + 1 token boundaries: entry i is tokens i-1 and i (BOS/EOS at the
    # ends), so token i's left and right bigrams are entries i and i + 1
    bigrams: list[int] | None = None
    chars: list[list[int]] | None = None
    tags: list[int] | None = None
    pieces: list[int] | None = None
    piece_tokens: list[int] | None = None
    soft_tags: Tensor | None = None  # (T, C), set by distillation
    soft_transitions: Tensor | None = None  # (C, C)
    lexicon: LexiconText | None = None  # matched in `collate`, a whole batch at once

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass
class Batch:
    """Padded tensors of a list of instances (see module docstring for shapes)."""

    tokens: Tensor
    mask: Tensor
    bigrams: Tensor | None = None
    chars: Tensor | None = None
    tags: Tensor | None = None
    pieces: Tensor | None = None
    piece_tokens: Tensor | None = None
    soft_tags: Tensor | None = None
    soft_transitions: Tensor | None = None
    lexicon_ids: Tensor | None = None
    lexicon_weights: Tensor | None = None

    def __len__(self) -> int:
        return self.tokens.size(0)


def normalise(token: str, config: TokenModelConfig) -> str:
    """Return the form of a token that the vocabularies store."""
    return token.lower() if config.features.lowercase else token


def bigram_strings(tokens: Sequence[str]) -> list[tuple[str, str]]:
    """Return the (left, right) bigram of each token, with sentence boundary symbols."""
    padded = [BOS, *tokens, EOS]
    return [(padded[i] + padded[i + 1], padded[i + 1] + padded[i + 2]) for i in range(len(tokens))]


def build_vocabs(
    sentences: Iterable[Sequence[str]], config: TokenModelConfig, extra_tokens: Iterable[str] = ()
) -> Vocabs:
    """Return vocabularies counted over training sentences (token strings)."""
    features = config.features
    token_counts: Counter[str] = Counter()
    bigram_counts: Counter[str] = Counter()
    char_counts: Counter[str] = Counter()
    for sentence in sentences:
        forms = [normalise(token, config) for token in sentence]
        token_counts.update(forms)
        if features.bigram_dim and config.tokenization == "char":
            bigram_counts.update(left for left, _ in bigram_strings(forms))
            if forms:
                bigram_counts[forms[-1] + EOS] += 1
        if features.char_encoder != "none":
            char_counts.update(char for token in sentence for char in token)
    tokens = Vocabulary.from_counts(token_counts, features.min_count)
    for token in extra_tokens:
        tokens.add(token)
    vocabs = Vocabs(tokens=tokens)
    if features.bigram_dim and config.tokenization == "char":
        threshold = features.bigram_min_count or features.min_count
        vocabs.bigrams = Vocabulary.from_counts(bigram_counts, threshold)
    if features.char_encoder != "none":
        vocabs.chars = Vocabulary.from_counts(char_counts)
    return vocabs


def featurize(
    tokens: Sequence[str], vocabs: Vocabs, config: TokenModelConfig, tags: list[int] | None = None
) -> Instance:
    """Return the id features of one token sequence."""
    # `normalise` for the whole sequence at once (this runs once per token of a corpus)
    forms = [token.lower() for token in tokens] if config.features.lowercase else list(tokens)
    bigrams = None
    if vocabs.bigrams is not None:
        # the right bigram of token i is the left bigram of token i + 1: look each up once
        padded = [BOS, *forms, EOS]
        bigrams = vocabs.bigrams.ids([a + b for a, b in pairwise(padded)])
    chars = None
    if vocabs.chars is not None:
        chars = [vocabs.chars.ids(list(token)) or [1] for token in tokens]
    pieces = piece_tokens = None
    if vocabs.subwords is not None:
        pieces, piece_tokens = vocabs.subwords.encode(tokens)
    matcher = vocabs.matcher
    # an empty token (a classifier's empty text) cannot be matched; " " matches no word either
    lexicon = None
    if matcher is not None:
        strings = tuple(tokens) if all(tokens) else tuple(t or " " for t in tokens)
        lexicon = LexiconText(strings, matcher)
    return Instance(
        tokens=vocabs.tokens.ids(forms), bigrams=bigrams, chars=chars, tags=tags,
        pieces=pieces, piece_tokens=piece_tokens, lexicon=lexicon,
    )  # fmt: skip


def collate(instances: Sequence[Instance]) -> Batch:
    """Pad a list of instances into a `Batch` (every instance needs at least one token)."""
    length = max(len(instance) for instance in instances)
    lengths = torch.tensor([len(instance) for instance in instances])
    mask = torch.arange(length) < lengths.unsqueeze(1)  # (B, T)
    batch = Batch(tokens=padded_rows([x.tokens for x in instances], length), mask=mask)
    if instances[0].bigrams is not None:
        bounds = padded_rows([x.bigrams or [] for x in instances], length + 1)  # (B, T + 1)
        # the left bigram of the first padding position is a real boundary: zero it
        left = bounds[:, :-1].masked_fill(~mask, 0)
        batch.bigrams = torch.stack((left, bounds[:, 1:]), dim=2)
    if instances[0].chars is not None:
        width = max(len(word) for instance in instances for word in instance.chars or [])
        batch.chars = torch.zeros(len(instances), length, width, dtype=torch.long)
        for b, instance in enumerate(instances):
            for t, word in enumerate(instance.chars or []):
                batch.chars[b, t, : len(word)] = torch.tensor(word, dtype=torch.long)
    if instances[0].tags is not None:
        batch.tags = padded_rows([x.tags or [] for x in instances], length)
    if instances[0].pieces is not None:
        _collate_pieces(batch, instances)
    if instances[0].soft_tags is not None:
        _collate_soft_targets(batch, instances)
    if instances[0].lexicon is not None:
        _collate_lexicon(batch, instances)
    return batch


def padded_rows(rows: Sequence[Sequence[int]], length: int) -> Tensor:
    """Return the (len(rows), length) long tensor of the rows padded with 0.

    One flat `np.fromiter` pass: about 10x faster than `torch.tensor` on nested lists.
    """
    flat = chain.from_iterable(chain(row, repeat(0, length - len(row))) for row in rows)
    array = np.fromiter(flat, dtype=np.int64, count=len(rows) * length)
    return torch.from_numpy(array).view(len(rows), length)


def _collate_lexicon(batch: Batch, instances: Sequence[Instance]) -> None:
    matcher = instances[0].lexicon.matcher  # type: ignore[union-attr]
    texts = [instance.lexicon for instance in instances]
    if any(text is None or text.matcher is not matcher for text in texts):
        raise ValueError("either every instance of a batch has one lexicon matcher or none has")
    sets = matcher.batch_sets([text.tokens for text in texts])  # type: ignore[union-attr]
    batch.lexicon_ids = torch.from_numpy(sets.ids)
    batch.lexicon_weights = torch.from_numpy(sets.weights)


def _collate_pieces(batch: Batch, instances: Sequence[Instance]) -> None:
    width = max(len(instance.pieces or []) for instance in instances)
    batch.pieces = torch.zeros(len(instances), width, dtype=torch.long)
    batch.piece_tokens = torch.full((len(instances), width), -1, dtype=torch.long)
    for b, instance in enumerate(instances):
        count = len(instance.pieces or [])
        batch.pieces[b, :count] = torch.tensor(instance.pieces, dtype=torch.long)
        batch.piece_tokens[b, :count] = torch.tensor(instance.piece_tokens, dtype=torch.long)


def _collate_soft_targets(batch: Batch, instances: Sequence[Instance]) -> None:
    unary = [instance.soft_tags for instance in instances]
    counts = [instance.soft_transitions for instance in instances]
    if any(u is None for u in unary) or any(c is None for c in counts):
        raise ValueError("either every instance of a batch has soft targets or none has")
    batch.soft_tags = torch.nn.utils.rnn.pad_sequence(unary, batch_first=True)  # type: ignore[arg-type]
    batch.soft_transitions = torch.stack(counts)  # type: ignore[arg-type]
