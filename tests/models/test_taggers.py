"""Every encoder x head: overfit a tiny corpus, save -> load is identical, batch == one by one."""

from __future__ import annotations

import pytest
import torch

from models.tiny import ENCODERS, EXAMPLES, gold_entities, tiny_config, triples, write_corpus
from nerkit import api
from nerkit.encoders.features import Batch
from nerkit.tasks import load_config
from nerkit.tasks.base import Splits
from nerkit.training.run import prepare

COMBINATIONS = [(encoder, head) for encoder in ENCODERS for head in ("crf", "softmax")]


@pytest.mark.parametrize(("encoder", "head"), COMBINATIONS)
def test_overfits_and_round_trips(tmp_path, encoder, head):
    corpus = write_corpus(tmp_path)
    result = api.train(tiny_config(corpus, encoder, head), tmp_path / "model", progress=False)
    assert result.best_score == 1.0

    predictor = api.load(tmp_path / "model", precision="fp32")  # float32: batching moves no score
    texts = [example.text for example in EXAMPLES]
    batched = predictor.predict(texts, batch_size=4)
    assert [triples(entities) for entities in batched] == gold_entities()
    assert all(0.0 < e.score <= 1.0 and e.text == t[e.start : e.end]
               for t, entities in zip(texts, batched) for e in entities)  # fmt: skip

    one_by_one = [predictor.predict([text])[0] for text in texts]
    assert [triples(e) for e in one_by_one] == [triples(e) for e in batched]
    scores = [e.score for entities in one_by_one for e in entities]
    assert scores == pytest.approx([e.score for entities in batched for e in entities], abs=1e-5)

    assert api.load(tmp_path / "model", precision="fp32").predict(texts, batch_size=4) == batched


def _model_and_batch(tmp_path, encoder, head, **features):
    config = load_config(tiny_config(write_corpus(tmp_path), encoder, head))
    if features:
        config = load_config(config, [f"model.features.{k}={v}" for k, v in features.items()])
    # the model and batches `nerkit train` would build (batch_size 8: one batch holds all 6)
    prepared = prepare(config, Splits(list(EXAMPLES), [], []))
    batches = prepared.batches(torch.Generator().manual_seed(0))
    assert len(batches) == 1 and len(batches[0]) == len(EXAMPLES)
    return prepared.model, batches[0]


@pytest.mark.parametrize(("encoder", "head"), COMBINATIONS)
def test_every_parameter_gets_a_gradient(tmp_path, encoder, head):
    model, batch = _model_and_batch(tmp_path, encoder, head)
    model.loss(batch).backward()
    missing = [name for name, p in model.named_parameters()
               if p.grad is None or not p.grad.abs().sum() > 0]  # fmt: skip
    assert not missing


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_padding_does_not_change_emissions(tmp_path, encoder):
    model, batch = _model_and_batch(tmp_path, encoder, "crf")
    model.eval()
    together = model.emissions(batch)
    for b in range(len(batch)):
        length = int(batch.mask[b].sum())
        alone = model.emissions(collate_one(batch, b, length))
        torch.testing.assert_close(alone[0], together[b, :length], atol=1e-5, rtol=1e-4)


def collate_one(batch, b, length):
    """Return row b of a batch, unpadded."""
    return Batch(
        tokens=batch.tokens[b : b + 1, :length],
        mask=batch.mask[b : b + 1, :length],
        bigrams=None if batch.bigrams is None else batch.bigrams[b : b + 1, :length],
    )


@pytest.mark.parametrize("char_encoder", ["cnn", "lstm"])
def test_word_tokenization_with_char_features_overfits(tmp_path, char_encoder):
    corpus = write_corpus(tmp_path)
    config = tiny_config(corpus)
    config["model"]["tokenization"] = "word"
    config["model"]["features"] = {"token_dim": 16, "char_encoder": char_encoder,
                                   "char_dim": 8, "char_hidden": 16, "dropout": 0.0}  # fmt: skip
    result = api.train(config, tmp_path / "model", progress=False)
    assert result.best_score == 1.0
    predictor = api.load(tmp_path / "model")
    assert [triples(e) for e in predictor.predict([e.text for e in EXAMPLES])] == gold_entities()


def test_pretrained_vectors_initialise_the_token_embeddings(tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("2 4\n张 0.5 0.5 0.5 0.5\nAlice 1 2 3 4\n", encoding="utf-8")
    corpus = write_corpus(tmp_path)
    config = tiny_config(corpus, epochs=1, lr=1e-9)
    config["model"]["features"] = {"token_dim": 4, "pretrained": str(vectors),
                                   "freeze_pretrained": True}  # fmt: skip
    api.train(config, tmp_path / "model", progress=False)
    predictor = api.load(tmp_path / "model")
    weight = predictor.model.token_encoder.embedder.tokens.weight
    index = predictor.vocabs.tokens.id("张")
    assert weight[index].tolist() == [0.5, 0.5, 0.5, 0.5]
    assert "Alice" in predictor.vocabs.tokens  # pretrained tokens join the vocabulary
