"""A pipeline over documents cut into pieces: relations within a piece and across nearby pieces.

`nerkit extract` cuts long documents into sentence pieces (`--split-chars`). The NER member
tags each piece once. Relations are then classified in *contexts*: a piece alone (its own
pairs; `PipelinePredictor.predict` is this with each text one piece), and, with
`window` w > 0, every span of consecutive pieces a..b with 0 < b - a <= w, in which only the
pairs with one entity in piece a and the other in piece b are classified; attributes the
same way: an entity of piece a with a value of piece b, and the reverse (the value tagger
also reads the pieces near a piece whose entities can carry an attribute). Each pair is
thus classified once, in the shortest text holding both, and the model reads that text (a
longer one keeps a window around both, `model.max_length`). The schema prunes the pairs of
every context as it does for a single text. All offsets in the results index the document.

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

__all__ = ["predict_documents", "says_no_relation"]


def says_no_relation(pipeline: PipelinePredictor) -> bool:
    """Return True when the relation member can leave a pair without a relation (a pipeline
    without one: True). One that cannot (trained without no-relation pairs, the DeepKE
    setting) gives every pair it is shown a relation, so pairs across sentences would all
    get one."""
    return pipeline.relations is None or bool(pipeline.relations.says_no_relation)


@dataclass(frozen=True)
class _Context:
    """Pieces a..b (a < b) of one document: the text from a's start to b's end."""

    document: int
    offset: int  # of the context in the document
    text: str
    first: list[Entity]  # piece a's entities, context offsets
    last: list[Entity]  # piece b's entities
    first_values: dict[tuple[int, int], Entity]  # piece a's candidate values by range
    last_values: dict[tuple[int, int], Entity]


def _moved(entity: Entity, offset: int) -> Entity:
    if not offset:
        return entity
    return replace(entity, start=entity.start + offset, end=entity.end + offset)


def _values_moved(
    values: dict[tuple[int, int], Entity], offset: int
) -> dict[tuple[int, int], Entity]:
    return {(a + offset, b + offset): _moved(v, offset) for (a, b), v in values.items()}


def _relation_moved(relation: ScoredRelation, offset: int) -> ScoredRelation:
    return replace(relation, head=_moved(relation.head, offset), tail=_moved(relation.tail, offset))


def _attribute_moved(attribute: ScoredAttribute, offset: int) -> ScoredAttribute:
    return replace(attribute, entity=_moved(attribute.entity, offset),
                   value=_moved(attribute.value, offset))  # fmt: skip


def _contexts(
    texts: Sequence[str],
    pieces: Sequence[Sequence[tuple[int, int]]],
    entities: list[list[list[Entity]]],
    values: list[list[dict[tuple[int, int], Entity]]],
    window: int,
) -> list[_Context]:
    """Return the contexts of pieces a < b at most `window` apart that hold an entity each
    (or an entity and a value)."""
    contexts = []
    for d, (text, spans) in enumerate(zip(texts, pieces, strict=True)):
        for a in range(len(spans)):
            for b in range(a + 1, min(len(spans), a + window + 1)):
                ea, eb = entities[d][a], entities[d][b]
                if not (ea and (eb or values[d][b])) and not (eb and values[d][a]):
                    continue
                start, end = spans[a][0], spans[b][1]
                shift_a, shift_b = spans[a][0] - start, spans[b][0] - start
                contexts.append(_Context(
                    d, start, text[start:end],
                    [_moved(e, shift_a) for e in ea], [_moved(e, shift_b) for e in eb],
                    _values_moved(values[d][a], shift_a), _values_moved(values[d][b], shift_b),
                ))  # fmt: skip
    return contexts


def _near(flags: list[bool], window: int) -> list[bool]:
    """Return, per piece, whether a flagged piece is at most `window` pieces away."""
    return [any(flags[max(0, k - window) : k + window + 1]) for k in range(len(flags))]


def predict_documents(
    pipeline: PipelinePredictor,
    texts: Sequence[str],
    pieces: Sequence[Sequence[tuple[int, int]]],
    window: int = 0,
    batch_size: int = BATCH_SIZE,
) -> list[PipelineResult]:
    """Return each document's entities, relations and attributes (see the module doc).

    `pieces[d]` are the (start, end) character ranges of document d's pieces, in order;
    `window` is how many pieces apart an entity and what it is paired with may be.
    """
    if window < 0:
        raise ValueError(f"window must be 0 or more, got {window!r}")
    flat = [(d, start, end) for d, spans in enumerate(pieces) for start, end in spans]
    piece_texts = [texts[d][start:end] for d, start, end in flat]
    found = pipeline.ner.predict(piece_texts, batch_size=batch_size)
    relations = pipeline.relations_of(piece_texts, found, batch_size)
    owned: list[list[int]] = [[] for _ in texts]  # the flat indices of each document's pieces
    for k, (d, _, _) in enumerate(flat):
        owned[d].append(k)
    carrying = [any(pipeline.carries(e) for e in entities) for entities in found]
    wanted = [False] * len(flat)  # values are needed up to `window` pieces from a carrier
    for ks in owned:
        for k, near in zip(ks, _near([carrying[k] for k in ks], window), strict=True):
            wanted[k] = near
    values = pipeline.values_of(piece_texts, found, wanted, batch_size)
    attributes = pipeline.attributes_of(piece_texts, found, values, batch_size)
    results = [PipelineResult([], [], []) for _ in texts]
    for k, (d, start, _) in enumerate(flat):
        results[d].entities.extend(_moved(e, start) for e in found[k])
        results[d].relations.extend(_relation_moved(r, start) for r in relations[k])
        results[d].attributes.extend(_attribute_moved(a, start) for a in attributes[k])
    if window:
        entities = [[found[k] for k in ks] for ks in owned]
        piece_values = [[values[k] for k in ks] for ks in owned]
        contexts = _contexts(texts, pieces, entities, piece_values, window)
        _across(pipeline, contexts, results, batch_size)
    return results


def _across(
    pipeline: PipelinePredictor,
    contexts: list[_Context],
    results: list[PipelineResult],
    batch_size: int,
) -> None:
    """Add the relations and attributes of the cross-piece pairs of `contexts` to `results`."""

    def across(k: int, head: int, tail: int) -> bool:
        split = len(contexts[k].first)
        return (head < split) != (tail < split)

    texts = [c.text for c in contexts]
    relations = pipeline.relations_of(
        texts, [c.first + c.last for c in contexts], batch_size, keep=across
    )
    # attributes: piece a's entities with piece b's values, and b's entities with a's values
    attributes = pipeline.attributes_of(
        texts + texts,
        [c.first for c in contexts] + [c.last for c in contexts],
        [c.last_values for c in contexts] + [c.first_values for c in contexts],
        batch_size,
    )
    for k, context in enumerate(contexts):
        found = results[context.document]
        found.relations.extend(_relation_moved(r, context.offset) for r in relations[k])
        for a in attributes[k] + attributes[k + len(contexts)]:
            found.attributes.append(_attribute_moved(a, context.offset))
