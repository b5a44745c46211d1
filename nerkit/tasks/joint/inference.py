"""Relations of a joint model between entities of texts, and its end-to-end report.

`pair_probabilities` classifies given pairs of given entity spans (the entities a user or
the model's own tagging head found): the texts' rows (`data.pair_rows`) are batched by
length, encoded once each, and every pair of a row is classified from those states.
`extract` is the whole model: its tagging head's entities, then the ordered pairs of them
whose types the schema links, each given its top class unless that is a no-relation class
or a relation the schema does not allow between the two types. `report` scores `extract`
against labelled examples (strict and boundaries triples, entities), as a pipeline is.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from nerkit.data.schema import Schema
from nerkit.data.tokenize import tokenize
from nerkit.encoders.features import Vocabs, featurize
from nerkit.evaluation.end_to_end import EndToEndReport, gold_triples
from nerkit.evaluation.metrics import score_spans
from nerkit.evaluation.triples import Triple, score_triples, untyped
from nerkit.runtime import eval_mode
from nerkit.tasks.joint.config import JointModelConfig
from nerkit.tasks.joint.data import Piece, pair_rows
from nerkit.tasks.joint.model import JointModel, collate_joint
from nerkit.tasks.tagging.scoring import predict_examples
from nerkit.types import Example, Span

__all__ = [
    "candidate_pairs",
    "extract",
    "pair_probabilities",
    "piece_logits",
    "report",
    "top_class",
]


def piece_logits(
    model: JointModel, vocabs: Vocabs, pieces: Sequence[Piece], batch_size: int = 64
) -> list[Tensor]:
    """Return the class scores (pairs, C) of every piece's pairs, pieces batched by length
    (one encoder pass per batch)."""
    found: list[Tensor] = [torch.zeros(0)] * len(pieces)
    order = sorted(range(len(pieces)), key=lambda k: len(pieces[k]))
    with eval_mode(model), torch.no_grad():
        for first in range(0, len(order), batch_size):
            chunk = order[first : first + batch_size]
            batch = collate_joint(
                [featurize(pieces[k].tokens, vocabs, model.config) for k in chunk],
                [pieces[k].pairs for k in chunk],
            )
            sizes = [len(pieces[k].pairs) for k in chunk]
            for k, rows in zip(chunk, model.forward_pairs(batch).split(sizes), strict=True):
                found[k] = rows
    return found


def pair_probabilities(
    model: JointModel,
    vocabs: Vocabs,
    texts: Sequence[str],
    spans: Sequence[Sequence[Span]],
    pairs: Sequence[Sequence[tuple[int, int]]],
    batch_size: int = 64,
) -> list[list[Tensor | None]]:
    """Return per text, per pair (head, tail indices into its spans), the calibrated class
    probabilities (C,), or None for a pair that cannot be classified (an entity off token
    boundaries, or the two farther apart than `max_length` tokens)."""
    config: JointModelConfig = model.config
    tokens = [tokenize(text, config.tokenization) for text in texts]  # type: ignore[arg-type]
    rows = pair_rows(tokens, spans, pairs, model.types, config.max_length)
    found: list[list[Tensor | None]] = [[None] * len(p) for p in pairs]
    temperature = float(model.pair_temperature)
    for row, logits in zip(rows, piece_logits(model, vocabs, rows, batch_size), strict=True):
        probabilities = (logits / temperature).softmax(dim=1)
        for (text, pair), probability in zip(row.keys, probabilities, strict=True):
            found[text][pair] = probability
    return found


def top_class(
    probabilities: Tensor | None, classes: Sequence[str], no_relation: Sequence[str]
) -> tuple[str, float] | None:
    """Return the top class and its probability, or None for a no-relation class."""
    if probabilities is None:
        return None
    score, index = probabilities.max(dim=0)
    label = classes[int(index)]
    return None if label in no_relation else (label, float(score))


def candidate_pairs(spans: Sequence[Span], schema: Schema) -> list[tuple[int, int]]:
    """Return the ordered pairs of distinct spans whose entity types the schema links."""
    return [
        (a, b)
        for a, head in enumerate(spans)
        for b, tail in enumerate(spans)
        if a != b and schema.relations_between(head.label, tail.label)
    ]


def extract(
    model: JointModel, vocabs: Vocabs, schema: Schema, texts: Sequence[str], batch_size: int = 64
) -> list[tuple[list[Span], list[tuple[int, int, str, float]]]]:
    """Return per text its entities and its relations (head index, tail index, label, score)."""
    config = model.config
    entities = predict_examples(model, vocabs, config, [Example(t) for t in texts], batch_size)
    pairs = [candidate_pairs(spans, schema) for spans in entities]
    probabilities = pair_probabilities(model, vocabs, texts, entities, pairs, batch_size)
    results = []
    for spans, text_pairs, rows in zip(entities, pairs, probabilities, strict=True):
        relations = []
        for (a, b), row in zip(text_pairs, rows, strict=True):
            top = top_class(row, model.classes, config.no_relation)
            if top is not None and schema.allows(spans[a].label, top[0], spans[b].label):
                relations.append((a, b, *top))
        results.append((spans, relations))
    return results


def report(
    model: JointModel, vocabs: Vocabs, schema: Schema, examples: Sequence[Example]
) -> EndToEndReport:
    """Return the end-to-end report of the model on labelled examples (from their texts)."""
    found = extract(model, vocabs, schema, [e.text for e in examples])
    no_relation = {*model.config.no_relation, *schema.no_relation}
    gold = [gold_triples(e) for e in examples]
    predicted: list[set[Triple]] = [
        {((s[a].start, s[a].end, s[a].label), (s[b].start, s[b].end, s[b].label), label)
         for a, b, label, _ in relations}
        for s, relations in found
    ]  # fmt: skip
    return EndToEndReport(
        strict=score_triples(gold, predicted, no_relation),
        boundaries=score_triples(
            [untyped(g) for g in gold], [untyped(p) for p in predicted], no_relation
        ),
        attributes=None,
        entities=score_spans([e.spans for e in examples], [spans for spans, _ in found]),
        documents=len(examples),
        pairs_classified=sum(len(candidate_pairs(spans, schema)) for spans, _ in found),
    )
