"""The n best analyses of texts: the k best CRF tag paths, each with its probability.

`Predictor` returns only the best path; this module reuses its model, vocabularies and
tokenizer to decode the k best paths of each text with `CRF.decode_nbest`. A path's
probability is exp(score - log Z); an entity's score is, as in `Predictor`, the lowest
CRF marginal of the tags the path chose on the entity's tokens.

Limits: CRF models only, and texts of at most `data.max_length` tokens (the n best paths
of overlapping windows do not merge into n best paths of the whole text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from nerkit.data.tokenize import tokenize
from nerkit.errors import NerkitError
from nerkit.models.features import collate, featurize
from nerkit.models.heads import CRFHead
from nerkit.predict import Predictor
from nerkit.schemes import tags_to_spans
from nerkit.types import Entity, Token

__all__ = ["Candidate", "nbest_analyses"]


@dataclass(frozen=True)
class Candidate:
    """One analysis of a text: the probability of its tag path and the entities it implies."""

    probability: float
    entities: list[Entity]


def _check(predictor: Predictor, tokens: list[list[Token]]) -> None:
    if not isinstance(predictor.model.head, CRFHead):
        raise NerkitError(
            "n-best analyses need a CRF model, this one has a softmax head (send nbest=0)"
        )
    max_length = predictor.config.data.max_length
    too_long = [i for i, sentence in enumerate(tokens) if len(sentence) > max_length]
    if too_long:
        raise NerkitError(
            f"n-best analyses need texts of at most {max_length} tokens, texts {too_long[:10]} "
            "are longer (send nbest=0, or split the texts into sentences)"
        )


@torch.no_grad()
def nbest_analyses(
    predictor: Predictor, texts: list[str], k: int, batch_size: int = 64
) -> list[list[Candidate]]:
    """Return up to k analyses of each text, most probable first (an empty text has one)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")
    tokens = [tokenize(text, mode=predictor.config.model.tokenization) for text in texts]
    _check(predictor, tokens)
    results = [[Candidate(1.0, [])] if not sentence else [] for sentence in tokens]
    present = [i for i, sentence in enumerate(tokens) if sentence]
    model = predictor.model
    model.eval()
    for first in range(0, len(present), batch_size):
        chunk = present[first : first + batch_size]
        batch = collate(
            [featurize([t.text for t in tokens[i]], predictor.vocabs, model.config) for i in chunk]
        )
        emissions = model.emissions(batch)  # (B, T, C)
        crf = model.head.crf
        log_z = crf.log_partition(emissions, batch.mask).tolist()
        marginals = crf.marginals(emissions, batch.mask)  # (B, T, C)
        for b, (i, paths) in enumerate(zip(chunk, crf.decode_nbest(emissions, batch.mask, k))):
            for path, score in paths:
                entities = _entities(predictor, texts[i], tokens[i], path, marginals[b])
                results[i].append(Candidate(round(math.exp(score - log_z[b]), 6), entities))
    return results


def _entities(
    predictor: Predictor, text: str, tokens: list[Token], path: list[int], marginals: torch.Tensor
) -> list[Entity]:
    """Return the entities (char offsets) of one tag path over `tokens`."""
    entities = []
    tags = [predictor.model.tags[tag] for tag in path]
    for span in tags_to_spans(tags, predictor.scheme):
        confidence = min(float(marginals[t, path[t]]) for t in range(span.start, span.end))
        start, end = tokens[span.start].start, tokens[span.end - 1].end
        entities.append(Entity(start, end, span.label, text[start:end], round(confidence, 6)))
    return entities
