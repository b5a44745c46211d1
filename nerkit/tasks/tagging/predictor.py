"""`TaggingPredictor`: a loaded tagger -> entities with character offsets and confidence.

Texts are tokenized in the model's mode, tagged in length-sorted batches, long texts
in overlapping windows of `model.max_length` tokens merged back into one span list
(`nerkit.data.alignment.merge_window_spans`). Offsets index the ORIGINAL text.

`Entity.score` is the minimum, over the entity's tokens, of the posterior probability
of the tag predicted there: the CRF marginal for a CRF head, the softmax output for
a softmax head (see `nerkit.tasks.tagging.inference`).

`predict_nbest` gives the k most probable analyses of each text (CRF models, texts of
at most `model.max_length` tokens: n-best paths are not defined across windows).

The model is anything with the `TagScorer` decoding methods: a `Tagger`, an averaged
`Ensemble`, or an `OnnxTagScorer` running the exported graph. `nerkit.load` builds it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nerkit.data.tokenize import tokenize
from nerkit.defaults import BATCH_SIZE, PRECISION
from nerkit.encoders.config import is_pretrained
from nerkit.errors import NerkitError
from nerkit.runtime import paused_gc
from nerkit.schemes import parse_scheme, split_tag
from nerkit.tasks.base import LoadedModel, LoadedPredictor, check_texts
from nerkit.tasks.tagging.heads import CRFHead
from nerkit.tasks.tagging.inference import ScoredSpan, nbest_sequences, tag_sequences
from nerkit.tasks.tagging.model import TagScorer
from nerkit.types import Entity, Token

__all__ = ["TaggingPredictor"]

_SPACE = re.compile(r"\s")  # matches exactly the characters for which str.isspace() is True


def _char_tokens(text: str) -> tuple[list[str], list[int]]:
    """Return the tokens and offsets of `tokenize(text, "char")` without building Tokens."""
    if _SPACE.search(text) is None:  # most texts: every character is a token
        return list(text), list(range(len(text)))
    offsets = [i for i, char in enumerate(text) if not char.isspace()]
    return [text[i] for i in offsets], offsets


def _entities(
    text: str, spans: Sequence[ScoredSpan], starts: Sequence[int], ends: Sequence[int]
) -> list[Entity]:
    """Return the entities of scored token spans; token i covers text[starts[i]:ends[i]]."""
    found = []
    for scored in spans:
        start, end = starts[scored.span.start], ends[scored.span.end - 1]
        found.append(Entity(start, end, scored.span.label, text[start:end], round(scored.score, 6)))
    return found


def _bounds(tokens: Sequence[Token]) -> tuple[list[int], list[int]]:
    return [token.start for token in tokens], [token.end for token in tokens]


class TaggingPredictor(LoadedPredictor):
    """A loaded tagger that turns texts into entities (bf16 entities are almost always the
    fp32 ones)."""

    task = "tagging"

    def __init__(self, loaded: LoadedModel, path: Path, precision: str = PRECISION) -> None:
        super().__init__(loaded, path, precision)
        self.scheme = parse_scheme(self.config.model.scheme)

    @property
    def labels(self) -> list[str]:
        """Return the entity labels the model predicts, sorted."""
        return sorted({label for tag in self.model.tags if (label := split_tag(tag)[1])})

    @property
    def tags(self) -> list[str]:
        """Return the model's tag list in id order."""
        return list(self.model.tags)

    def info(self) -> dict[str, Any]:
        """Return a JSON-ready description: name, labels, scheme, encoder, head, scores."""
        return {
            "name": self.name,
            "labels": self.labels,
            "scheme": self.config.model.scheme,
            "tokenization": self.config.model.tokenization,
            "encoder": self.config.model.encoder.kind,
            "head": self.config.model.head,
            "task": self.task,
            "precision": self.precision,
            "dev": self.metadata.get("dev"),
            "test": self.metadata.get("test"),
        }

    @paused_gc()
    def predict(
        self, texts: list[str], batch_size: int = BATCH_SIZE, confidence: bool = True
    ) -> list[list[Entity]]:
        """Return the entities of each text, sorted by position; an empty text gives [].

        `confidence=False` skips the posteriors: faster, and every score is NaN.
        """
        texts = check_texts(texts, batch_size)
        if self.config.model.tokenization != "char":
            tokens = [tokenize(text, mode=self.config.model.tokenization) for text in texts]
            return self.predict_tokens(texts, tokens, batch_size, confidence)
        # char mode: offsets straight from the text (no Token objects on the hot path)
        strings, offsets = zip(*map(_char_tokens, texts)) if texts else ((), ())
        found = self._tag(strings, batch_size, confidence)
        return [
            _entities(text, spans, at, [i + 1 for i in at])
            for text, at, spans in zip(texts, offsets, found, strict=True)
        ]

    @paused_gc()
    def predict_tokens(
        self,
        texts: list[str],
        tokens: list[list[Token]],
        batch_size: int = BATCH_SIZE,
        confidence: bool = True,
    ) -> list[list[Entity]]:
        """Return the entities of texts whose tokens (with char offsets) are already known."""
        found = self._tag(
            [[t.text for t in sentence] for sentence in tokens], batch_size, confidence
        )
        return [
            _entities(text, spans, *_bounds(sentence))
            for text, sentence, spans in zip(texts, tokens, found, strict=True)
        ]

    def _tag(
        self, sequences: Sequence[Sequence[str]], batch_size: int, confidence: bool
    ) -> list[list[ScoredSpan]]:
        # a pretrained encoder's large matrix products use intra-op threads well, and its
        # Hugging Face tokenizer is not safe to call from two threads at once
        pretrained = is_pretrained(self.config.model.encoder)
        return tag_sequences(
            self.model,
            self.vocabs,
            sequences,
            batch_size=batch_size,
            max_length=self.config.model.max_length,
            confidence=confidence,
            threads=1 if pretrained else None,
        )

    def predict_nbest(
        self, texts: list[str], k: int, batch_size: int = BATCH_SIZE
    ) -> list[list[tuple[list[Entity], float]]]:
        """Return up to k analyses of each text, most probable first: (entities, probability).

        The probability of an analysis is that of its CRF tag path, exp(score - log Z); an
        entity's score is the lowest marginal of the tags that path chose on its tokens. The
        first analysis is the one `predict` returns; an empty text has one, ([], 1.0). Raises
        `NerkitError` for a model without a CRF head and for a text longer than one window
        (`model.max_length` tokens): the k best paths of overlapping windows do not combine
        into the k best paths of the whole text, so split such texts into sentences first.
        """
        texts = check_texts(texts, batch_size)
        self._check_nbest()
        tokens = [tokenize(text, mode=self.config.model.tokenization) for text in texts]
        max_length = self.config.model.max_length
        too_long = [i for i, sentence in enumerate(tokens) if len(sentence) > max_length]
        if too_long:
            raise NerkitError(
                f"n-best analyses need texts of at most {max_length} tokens, texts "
                f"{too_long[:10]} are longer (split the texts into sentences, or use predict())"
            )
        found = nbest_sequences(
            self.model, self.vocabs, [[t.text for t in s] for s in tokens], k, batch_size=batch_size
        )
        return [
            [(_entities(text, spans, *_bounds(sentence)), p) for spans, p in analyses]
            for text, sentence, analyses in zip(texts, tokens, found, strict=True)
        ]

    def _check_nbest(self) -> None:
        if not isinstance(self.model, TagScorer):  # an ONNX graph has no torch head
            found = "no torch model (ONNX)"
        elif not isinstance(self.model.head, CRFHead):
            found = "a softmax head"
        else:
            return
        raise NerkitError(
            f"n-best analyses need a CRF model run by torch, this one has {found} "
            "(use predict() for the best analysis, or a model trained with head: crf)"
        )
