"""The fast prediction paths give exactly what the plain per-token code gave.

Each fast path (batched collate, bigram ids looked up once, char offsets without Token
objects, one gather per batch for confidence, bisect in the window merge, the O-run skip
in lenient chunking) is checked against a straightforward reference written here. The
models are untrained (seeded random weights), so they predict plenty of odd entities.
"""

from __future__ import annotations

import math
import random
from itertools import pairwise
from pathlib import Path

import pytest
import torch
from models.tiny import EXAMPLES, tiny_config, write_corpus

from nerkit import schemes
from nerkit.artifacts import save_model
from nerkit.data.alignment import merge_window_spans
from nerkit.data.tokenize import tokenize
from nerkit.encoders.features import Instance, bigram_strings, build_vocabs, collate, featurize
from nerkit.predict import load
from nerkit.schemes import Scheme, tags_to_spans
from nerkit.tasks import load_config
from nerkit.tasks.base import Splits
from nerkit.tasks.tagging.data import tagged_sequences
from nerkit.tasks.tagging.inference import tag_sequences
from nerkit.tasks.tagging.predictor import TaggingPredictor, _char_tokens
from nerkit.training.run import prepare
from nerkit.types import Span

TEXTS = [
    "张三在北京工作。",
    "  李四 去了\u3000上海。\n",
    "Bob joined Google in London.",
    "华为总部在深圳，王五是华为的工程师。" * 3,  # longer than one window (max_length 24)
    "",
    " \t ",
    "x",
]


def _predictor(tmp_path: Path, tokenization: str) -> TaggingPredictor:
    """Return the predictor of an untrained (seeded) BiLSTM-CRF saved to `tmp_path`."""
    raw = tiny_config(write_corpus(tmp_path))
    raw["model"]["tokenization"] = tokenization
    raw["model"]["max_length"] = 24
    config = load_config(raw)
    prepared = prepare(config, Splits(list(EXAMPLES), [], []))  # what training starts from
    return load(save_model(tmp_path / tokenization, prepared.model, config, prepared.vocabs))


@pytest.fixture(scope="module", params=["char", "word"])
def predictor(request, tmp_path_factory) -> TaggingPredictor:
    return _predictor(tmp_path_factory.mktemp("speed"), request.param)


def _reference(predictor: TaggingPredictor, text: str) -> list[tuple[int, int, str, float]]:
    """Return (start, end, label, score) of a short text tagged alone, one token at a time."""
    tokens = tokenize(text, predictor.config.model.tokenization)
    if not tokens:
        return []
    model = predictor.model
    batch = collate([featurize([t.text for t in tokens], predictor.vocabs, model.config)])
    (path,), probabilities = model.decode_with_probabilities(batch)
    found = []
    for span in tags_to_spans([model.tags[i] for i in path], predictor.scheme):
        score = min(float(probabilities[0, t, path[t]]) for t in range(span.start, span.end))
        start, end = tokens[span.start].start, tokens[span.end - 1].end
        found.append((start, end, span.label, score))
    return found


def test_predict_matches_the_per_token_reference(predictor):
    short = [text for text in TEXTS if len(text) <= 24]
    predicted = predictor.predict(short, batch_size=3)
    expected = [_reference(predictor, text) for text in short]
    assert sum(map(len, expected)) > 3  # random weights still give entities to compare
    for text, entities, wanted in zip(short, predicted, expected, strict=True):
        assert [(e.start, e.end, e.label) for e in entities] == [w[:3] for w in wanted]
        assert [e.score for e in entities] == pytest.approx([w[3] for w in wanted], abs=2e-6)
        assert all(e.text == text[e.start : e.end] for e in entities)


def test_char_fast_path_equals_predict_tokens(predictor):
    tokens = [tokenize(text, predictor.config.model.tokenization) for text in TEXTS]
    assert predictor.predict(TEXTS, batch_size=2) == predictor.predict_tokens(
        TEXTS, tokens, batch_size=2
    )


def test_batches_side_by_side_on_threads_give_the_one_thread_result(predictor):
    sequences = [list(text.replace(" ", "")) for text in TEXTS * 5]
    arguments = (predictor.model, predictor.vocabs, sequences)
    settings = {"batch_size": 2, "max_length": predictor.config.model.max_length}
    previous = torch.get_num_threads()
    alone = tag_sequences(*arguments, threads=1, **settings)
    assert sum(map(len, alone)) > 3
    assert tag_sequences(*arguments, threads=3, **settings) == alone
    assert torch.get_num_threads() == previous  # the one-intra-op-thread setting is undone


def test_without_confidence_the_spans_stay_and_scores_are_nan(predictor):
    scored = predictor.predict(TEXTS)
    unscored = predictor.predict(TEXTS, confidence=False)
    assert [[(e.start, e.end, e.label) for e in x] for x in unscored] == [
        [(e.start, e.end, e.label) for e in x] for x in scored
    ]
    assert all(math.isnan(e.score) for entities in unscored for e in entities)


def test_confidence_false_works_for_a_scorer_that_is_not_a_torch_module(predictor):
    class LikeOnnx:  # the surface of tasks.tagging.onnx.OnnxTagScorer: no train()/eval()
        def __init__(self, model):
            self.model, self.config, self.tags = model, model.config, model.tags
            self.probabilities_asked = 0

        def decode(self, batch):
            return self.model.decode(batch)

        def decode_with_probabilities(self, batch):
            self.probabilities_asked += 1
            return self.model.decode_with_probabilities(batch)

    sequences = [[t.text for t in tokenize(text, "char")] for text in TEXTS]
    stand_in = LikeOnnx(predictor.model)
    found = tag_sequences(stand_in, predictor.vocabs, sequences, max_length=24, confidence=False)
    expected = tag_sequences(predictor.model, predictor.vocabs, sequences, max_length=24)
    assert [[s.span for s in x] for x in found] == [[s.span for s in x] for x in expected]
    assert stand_in.probabilities_asked == 0  # no posteriors without confidence


@pytest.mark.parametrize(
    "text", ["", "abc", " a b ", "\u3000张\xa0三\u2028\u2029x\r\n", "\t\x1c\x1d\x1e\x1f\x85y"]
)
def test_char_tokens_equal_char_tokenize(text):
    tokens = tokenize(text, "char")
    assert _char_tokens(text) == ([t.text for t in tokens], [t.start for t in tokens])
    assert all(t.end == t.start + 1 for t in tokens)


def _collate_reference(instances: list[Instance]) -> dict[str, torch.Tensor]:
    size, length = len(instances), max(len(instance) for instance in instances)
    tokens = torch.zeros(size, length, dtype=torch.long)
    mask = torch.zeros(size, length, dtype=torch.bool)
    bigrams = torch.zeros(size, length, 2, dtype=torch.long)
    tags = torch.zeros(size, length, dtype=torch.long)
    for b, instance in enumerate(instances):
        tokens[b, : len(instance)] = torch.tensor(instance.tokens, dtype=torch.long)
        mask[b, : len(instance)] = True
        bounds = instance.bigrams  # token i's bigrams are boundaries i and i + 1
        bigrams[b, : len(instance)] = torch.tensor(list(pairwise(bounds)), dtype=torch.long)
        tags[b, : len(instance)] = torch.tensor(instance.tags, dtype=torch.long)
    return {"tokens": tokens, "mask": mask, "bigrams": bigrams, "tags": tags}


def test_collate_equals_per_instance_padding():
    rng = random.Random(3)
    instances = []
    for _ in range(7):
        n = rng.randint(1, 9)
        instances.append(
            Instance(
                tokens=[rng.randint(0, 50) for _ in range(n)],
                bigrams=[rng.randint(1, 50) for _ in range(n + 1)],
                tags=[rng.randint(0, 5) for _ in range(n)],
            )
        )
    batch = collate(instances)
    for name, expected in _collate_reference(instances).items():
        got = getattr(batch, name)
        assert got.dtype == expected.dtype and torch.equal(got, expected), name


def test_featurize_bigrams_equal_the_pairwise_lookup(tmp_path):
    config = load_config(tiny_config(write_corpus(tmp_path))).model
    pieces = tagged_sequences(EXAMPLES, "char", config.scheme, 64)
    vocabs = build_vocabs([tokens for tokens, _ in pieces], config)
    assert vocabs.bigrams is not None
    for tokens in [["张"], list("张三在北京"), list("没见过的字"), []]:
        expected = [
            (vocabs.bigrams.id(left), vocabs.bigrams.id(right))
            for left, right in bigram_strings(tokens)
        ]
        bounds = featurize(tokens, vocabs, config).bigrams
        assert bounds is not None and list(pairwise(bounds)) == expected
        if tokens:
            assert collate([featurize(tokens, vocabs, config)]).bigrams[0].tolist() == [
                list(pair) for pair in expected
            ]


def _merge_reference(bounds, spans):
    low, high = min(s for s, _ in bounds), max(e for _, e in bounds)
    candidates = []
    for k, ((w_start, w_end), found) in enumerate(zip(bounds, spans)):
        for span in found:
            left = math.inf if w_start == low else span.start - w_start
            right = math.inf if w_end == high else w_end - span.end
            candidates.append((-min(left, right), -(span.end - span.start), k, span))
    kept = []
    for *_, span in sorted(candidates, key=lambda c: c[:3]):
        if all(span.end <= k.start or k.end <= span.start for k in kept):
            kept.append(span)
    return sorted(kept)


def test_merge_window_spans_equals_the_quadratic_scan():
    rng = random.Random(11)
    for _ in range(300):
        bounds = [(start, start + 10) for start in range(0, rng.randint(1, 5) * 7, 7)]
        spans = []
        for start, end in bounds:
            found = set()
            for _ in range(rng.randint(0, 5)):
                a = rng.randrange(start, end)
                found.add(Span(a, rng.randint(a + 1, end), rng.choice("AB")))
            spans.append(sorted(found))
        assert merge_window_spans(bounds, spans) == _merge_reference(bounds, spans)


def _lenient_reference(tags: list[str], scheme: Scheme) -> list[Span]:
    internal = schemes._internal_all(tags, scheme)
    spans, begin, prev = [], 0, schemes._OUTSIDE
    for i, cur in enumerate([*internal, schemes._OUTSIDE]):
        if schemes._lenient_end(prev, cur):
            spans.append(Span(begin, i, prev[1] or ""))
        if schemes._lenient_start(prev, cur):
            begin = i
        prev = cur
    return spans


@pytest.mark.parametrize("scheme", list(Scheme))
def test_lenient_chunking_with_the_o_skip_equals_the_full_scan(scheme):
    rng = random.Random(5)
    inventory = schemes.tag_inventory(["X", "Y"], scheme)
    for _ in range(300):
        tags = rng.choices(inventory, k=rng.randint(0, 12))
        assert tags_to_spans(tags, scheme) == _lenient_reference(tags, scheme)
