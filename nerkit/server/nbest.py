"""The n best analyses of texts for the server: `predict_nbest` as `Candidate`s.

All the work (CRF k-best paths, their probabilities exp(score - log Z), entity scores
from the marginals, the limits: CRF models only, texts of at most `model.max_length`
tokens) is `TaggingPredictor.predict_nbest`'s; this module only shapes its answer for the
HTTP response, with probabilities rounded to 6 decimals like entity scores.
"""

from __future__ import annotations

from dataclasses import dataclass

from nerkit.tasks.tagging.predictor import TaggingPredictor
from nerkit.types import Entity

__all__ = ["Candidate", "nbest_analyses"]


@dataclass(frozen=True)
class Candidate:
    """One analysis of a text: the probability of its tag path and the entities it implies."""

    probability: float
    entities: list[Entity]


def nbest_analyses(
    predictor: TaggingPredictor, texts: list[str], k: int, batch_size: int = 64
) -> list[list[Candidate]]:
    """Return up to k analyses of each text, most probable first (an empty text has one)."""
    analyses = predictor.predict_nbest(texts, k, batch_size=batch_size)
    return [
        [Candidate(round(probability, 6), entities) for entities, probability in candidates]
        for candidates in analyses
    ]
