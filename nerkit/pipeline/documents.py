"""A pipeline over documents cut into pieces: relations within a piece and across nearby pieces.

`nerkit extract` cuts long documents into sentence pieces (`--split-chars`). The NER member
tags each piece once. Relations are then classified in *contexts*: a piece alone (its own
pairs, exactly what `PipelinePredictor.predict` gives for that piece's text), and, with
`window` w > 0, every span of consecutive pieces a..b with 0 < b - a <= w, in which only the
pairs with one entity in piece a and the other in piece b are classified. Each pair is thus
classified once, in the shortest text holding both entities, and the relation model reads
that text (a longer one keeps a window around both entities, `model.max_length`). The
schema prunes the pairs of every context as it does for a single text. Attributes (entity,
value) stay within a piece. All offsets in the results index the document.

The cost of a document with n pieces grows with the schema-allowed pairs of n * (w + 1)
contexts; `window=0` (the default) adds nothing to piece-by-piece prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from nerkit.defaults import BATCH_SIZE
from nerkit.pipeline.predictor import PipelinePredictor, PipelineResult
from nerkit.tasks.relations.predictor import ScoredAttribute, ScoredRelation
from nerkit.types import Entity

__all__ = ["predict_documents"]


@dataclass(frozen=True)
class _Context:
    """Pieces first..last of one document: the text from the first's start to the last's end."""

    document: int
    offset: int  # of the context in the document
    text: str
    entities: list[Entity]  # context offsets: piece `first`'s entities, then piece `last`'s
    split: int  # entities[:split] lie in piece `first`; a cross context pairs across it


def _moved(entity: Entity, offset: int) -> Entity:
    return replace(entity, start=entity.start + offset, end=entity.end + offset)


def _relation_moved(relation: ScoredRelation, offset: int) -> ScoredRelation:
    return replace(relation, head=_moved(relation.head, offset), tail=_moved(relation.tail, offset))


def _attribute_moved(attribute: ScoredAttribute, offset: int) -> ScoredAttribute:
    return replace(attribute, entity=_moved(attribute.entity, offset),
                   value=_moved(attribute.value, offset))  # fmt: skip


def _cross_contexts(
    texts: Sequence[str],
    pieces: Sequence[Sequence[tuple[int, int]]],
    found: list[list[list[Entity]]],
    window: int,
) -> list[_Context]:
    contexts = []
    for d, (text, spans) in enumerate(zip(texts, pieces, strict=True)):
        for a in range(len(spans)):
            for b in range(a + 1, min(len(spans), a + window + 1)):
                if not (found[d][a] and found[d][b]):
                    continue
                start, end = spans[a][0], spans[b][1]
                first = [_moved(e, spans[a][0] - start) for e in found[d][a]]
                last = [_moved(e, spans[b][0] - start) for e in found[d][b]]
                contexts.append(_Context(d, start, text[start:end], first + last, len(first)))
    return contexts


def predict_documents(
    pipeline: PipelinePredictor,
    texts: Sequence[str],
    pieces: Sequence[Sequence[tuple[int, int]]],
    window: int = 0,
    batch_size: int = BATCH_SIZE,
) -> list[PipelineResult]:
    """Return each document's entities, relations and attributes (see the module doc).

    `pieces[d]` are the (start, end) character ranges of document d's pieces, in order;
    `window` is how many pieces apart the two entities of a relation may be.
    """
    if window < 0:
        raise ValueError(f"window must be 0 or more, got {window!r}")
    flat = [(d, start, end) for d, spans in enumerate(pieces) for start, end in spans]
    piece_texts = [texts[d][start:end] for d, start, end in flat]
    per_piece = pipeline.predict(piece_texts, batch_size=batch_size)
    results = [PipelineResult([], [], []) for _ in texts]
    found: list[list[list[Entity]]] = [[] for _ in texts]
    for (d, start, _), piece in zip(flat, per_piece, strict=True):
        found[d].append(piece.entities)
        results[d].entities.extend(_moved(e, start) for e in piece.entities)
        results[d].relations.extend(_relation_moved(r, start) for r in piece.relations)
        results[d].attributes.extend(_attribute_moved(a, start) for a in piece.attributes)
    if window and pipeline.relations is not None:
        contexts = _cross_contexts(texts, pieces, found, window)

        def across(k: int, head: int, tail: int) -> bool:
            split = contexts[k].split
            return (head < split) != (tail < split)

        relations = pipeline.relations_of(
            [c.text for c in contexts], [c.entities for c in contexts], batch_size, keep=across
        )
        for context, found_relations in zip(contexts, relations, strict=True):
            results[context.document].relations.extend(
                _relation_moved(r, context.offset) for r in found_relations
            )
    return results
