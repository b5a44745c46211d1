"""BERT, BERT-BiLSTM, BERT-IDCNN x softmax/CRF through the real `nerkit.api.train` path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from models.tiny import EXAMPLES, gold_entities, tiny_config, triples, write_corpus

from nerkit import api
from nerkit.encoders.config import BertConfig, BiLSTMConfig, IDCNNConfig
from nerkit.encoders.features import Batch
from nerkit.errors import NerkitError
from nerkit.tasks import load_config
from nerkit.tasks.base import Splits
from nerkit.training.optim import make_optimizer
from nerkit.training.run import prepare

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
    # the model and batches `nerkit train` would build (batch_size 8: one batch holds all 6)
    prepared = prepare(config, Splits(list(EXAMPLES), [], []))
    batches = prepared.batches(torch.Generator().manual_seed(0))
    assert len(batches) == 1 and len(batches[0]) == len(EXAMPLES)
    return prepared.model, batches[0], config


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
    transformer = "token_encoder.encoder.transformer."
    assert transformer + "embeddings.word_embeddings.weight" in frozen
    assert any(name.startswith(transformer + "encoder.layer.0.") for name in frozen)
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
    transformer = {id(p) for p in model.token_encoder.encoder.transformer.parameters()}
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
    pieces = int((batch.piece_tokens[b] >= 0).sum())
    length = int(batch.mask[b].sum())
    return Batch(
        tokens=batch.tokens[b : b + 1, :length],
        mask=batch.mask[b : b + 1, :length],
        pieces=batch.pieces[b : b + 1, :pieces],
        piece_tokens=batch.piece_tokens[b : b + 1, :pieces],
    )


@pytest.mark.parametrize("kind", ["bert_bilstm", "bert_idcnn"])
def test_bert_with_a_top_kind_is_an_alias_of_bert_with_top(tmp_path, tiny_bert, kind):
    raw = bert_config(write_corpus(tmp_path), tiny_bert, kind, "crf")
    encoder = load_config(raw).model.encoder
    assert isinstance(encoder, BertConfig) and encoder.kind == "bert"
    expected = {
        "bert_bilstm": BiLSTMConfig(hidden_size=32, dropout=0.0),
        "bert_idcnn": IDCNNConfig(filters=32, num_blocks=1, dropout=0.0),
    }[kind]
    assert encoder.top == expected
    plain = {k: v for k, v in raw["model"]["encoder"].items() if k not in ("bilstm", "idcnn")}
    section = kind.removeprefix("bert_")
    top = {"kind": section, **raw["model"]["encoder"][section]}
    same = {**raw, "model": {**raw["model"], "encoder": {**plain, "kind": "bert", "top": top}}}
    assert load_config(same) == load_config(raw)
    # the alias' defaults are those of the former bert_bilstm / bert_idcnn configs
    default = load_config({"data": {"train": "t"}, "model": {"encoder": {
        "kind": kind, "name_or_path": str(tiny_bert)}}}).model.encoder.top  # fmt: skip
    assert (
        default
        == {
            "bert_bilstm": BiLSTMConfig(hidden_size=128, dropout=0.1),
            "bert_idcnn": IDCNNConfig(filters=128, num_blocks=2, dropout=0.1),
        }[kind]
    )
    model, _, _ = model_and_batch(tmp_path, tiny_bert, kind, "crf")
    assert model.token_encoder.top is not None
    assert model.token_encoder.output_dim == model.token_encoder.top.output_dim


def test_exporting_a_bert_model_is_a_one_line_nerkit_error(tmp_path, tiny_bert):
    pytest.importorskip("onnx")
    from nerkit.export import export_onnx

    config = bert_config(write_corpus(tmp_path), tiny_bert, "bert", "crf")
    config["train"]["epochs"] = 1
    api.train(config, tmp_path / "model", progress=False)
    with pytest.raises(NerkitError, match=r"^ONNX export does not cover pretrained encoders") as e:
        export_onnx(tmp_path / "model")
    assert "\n" not in str(e.value)
    assert not (tmp_path / "model" / "model.onnx").exists()
