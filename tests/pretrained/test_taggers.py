"""BERT, BERT-BiLSTM, BERT-IDCNN x softmax/CRF through the real `nerkit.api.train` path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from models.tiny import EXAMPLES, gold_entities, tiny_config, triples, write_corpus

from nerkit import api
from nerkit.models.config import load_config
from nerkit.models.features import build_vocabs, collate, featurize
from nerkit.training.data import tag_list, tagged_sequences
from nerkit.training.loop import make_optimizer
from nerkit.training.run import build_model
from nerkit.vocab import LabelSet

KINDS = ["bert", "bert_bilstm", "bert_idcnn"]
TOPS: dict[str, dict[str, Any]] = {
    "bert": {},
    "bert_bilstm": {"bilstm": {"hidden_size": 32, "dropout": 0.0}},
    "bert_idcnn": {"idcnn": {"filters": 32, "num_blocks": 1, "dropout": 0.0}},
}


def bert_config(corpus: Path, encoder_dir: Path, kind: str, head: str, **encoder: Any) -> dict:
    """Return a tiny-corpus config whose encoder is the tiny BERT in `encoder_dir`."""
    config = tiny_config(corpus, "bilstm", head, epochs=40, lr=0.01)
    config["model"]["encoder"] = {
        "kind": kind, "name_or_path": str(encoder_dir), "lr": 0.005, "dropout": 0.0,
        **TOPS[kind], **encoder,
    }  # fmt: skip
    return config


@pytest.mark.parametrize("head", ["crf", "softmax"])
@pytest.mark.parametrize("kind", KINDS)
def test_overfits_round_trips_and_loads_without_the_encoder_dir(
    tmp_path, tiny_bert, monkeypatch, kind, head
):
    encoder_dir = shutil.copytree(tiny_bert, tmp_path / "encoder-src")
    config = bert_config(write_corpus(tmp_path), encoder_dir, kind, head)
    result = api.train(config, tmp_path / "model", progress=False)
    assert result.best_score == 1.0

    texts = [example.text for example in EXAMPLES]
    batched = api.load(tmp_path / "model").predict(texts, batch_size=4)
    assert [triples(entities) for entities in batched] == gold_entities()

    shutil.rmtree(encoder_dir)  # the model directory must be self-contained ...
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # ... and load without a network
    predictor = api.load(tmp_path / "model")
    assert predictor.predict(texts, batch_size=4) == batched
    one_by_one = [predictor.predict([text])[0] for text in texts]
    assert [triples(e) for e in one_by_one] == [triples(e) for e in batched]
    scores = [e.score for entities in one_by_one for e in entities]
    assert scores == pytest.approx([e.score for entities in batched for e in entities], abs=1e-5)


def model_and_batch(tmp_path: Path, encoder_dir: Path, kind: str, head: str, **encoder: Any):
    """Return a fresh tagger and a batch of the whole tiny corpus with gold tags."""
    config = load_config(bert_config(write_corpus(tmp_path), encoder_dir, kind, head, **encoder))
    pieces = tagged_sequences(EXAMPLES, config.model.tokenization, config.model.scheme, 64)
    vocabs = build_vocabs([tokens for tokens, _ in pieces], config.model)
    tags = tag_list(EXAMPLES, config.model.scheme)
    model = build_model(config, vocabs, tags)
    vocabs.subwords = model.subwords
    labels = LabelSet(tags)
    batch = collate([featurize(t, vocabs, config.model, labels.ids(g)) for t, g in pieces])
    return model, batch, config


@pytest.mark.parametrize("head", ["crf", "softmax"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_parameter_gets_a_gradient(tmp_path, tiny_bert, kind, head):
    model, batch, _ = model_and_batch(tmp_path, tiny_bert, kind, head)
    model.loss(batch).backward()
    missing = [name for name, p in model.named_parameters()
               if p.grad is None or not p.grad.abs().sum() > 0]  # fmt: skip
    assert not missing


def test_frozen_parameters_get_no_gradient_and_no_optimizer_slot(tmp_path, tiny_bert):
    model, batch, config = model_and_batch(
        tmp_path, tiny_bert, "bert_bilstm", "crf", freeze_embeddings=True, freeze_layers=1
    )
    model.loss(batch).backward()
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert "encoder.transformer.embeddings.word_embeddings.weight" in frozen
    assert any(name.startswith("encoder.transformer.encoder.layer.0.") for name in frozen)
    assert not any(".layer.1." in name for name in frozen)
    for name, p in model.named_parameters():
        assert (p.grad is None) == (name in frozen), name

    optimizer = make_optimizer(model, config.train)
    lrs = sorted(group["lr"] for group in optimizer.param_groups)
    assert lrs == sorted([config.model.encoder.lr, config.train.lr])
    in_optimizer = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert not any(id(p) in in_optimizer for p in model.parameters() if not p.requires_grad)


def test_encoder_learning_rate_is_its_own_parameter_group(tmp_path, tiny_bert):
    model, _, config = model_and_batch(tmp_path, tiny_bert, "bert_idcnn", "crf", lr=1e-4)
    optimizer = make_optimizer(model, config.train)
    by_lr = {group["lr"]: group["params"] for group in optimizer.param_groups}
    assert set(by_lr) == {1e-4, config.train.lr}
    transformer = {id(p) for p in model.encoder.transformer.parameters()}
    assert {id(p) for p in by_lr[1e-4]} == transformer
    assert not transformer & {id(p) for p in by_lr[config.train.lr]}


@pytest.mark.parametrize("pooling", ["first", "mean"])
def test_padding_does_not_change_emissions(tmp_path, tiny_bert, pooling):
    model, batch, _ = model_and_batch(
        tmp_path, tiny_bert, "bert_bilstm", "crf", subword_pooling=pooling
    )
    model.eval()
    together = model.emissions(batch)
    for b in range(len(batch)):
        length = int(batch.mask[b].sum())
        alone = model.emissions(_row(batch, b))
        torch.testing.assert_close(alone[0, :length], together[b, :length], atol=1e-5, rtol=0)


def _row(batch, b):
    from nerkit.models.features import Batch

    pieces = int((batch.piece_tokens[b] >= 0).sum())
    length = int(batch.mask[b].sum())
    return Batch(
        tokens=batch.tokens[b : b + 1, :length],
        mask=batch.mask[b : b + 1, :length],
        pieces=batch.pieces[b : b + 1, :pieces],
        piece_tokens=batch.piece_tokens[b : b + 1, :pieces],
    )
