"""The fast paths of pretrained encoders: split frozen prefix, its cache, bf16 autocast."""

from __future__ import annotations

import shutil

import pytest
import torch
from models.tiny import EXAMPLES, gold_entities, triples, write_corpus

from nerkit import api
from pretrained.test_taggers import bert_config, model_and_batch

FROZEN = {"freeze_embeddings": True, "freeze_layers": 1}


def _windows(model, batch):
    """Return (ids, attention) of the windows the encoder would run for `batch`."""
    encoder = model.token_encoder.encoder
    seen = {}

    def grab(module, args, kwargs):
        seen.update(kwargs)

    handle = encoder._split[0].register_forward_pre_hook(grab, with_kwargs=True)
    try:
        encoder.eval()
        encoder._subword_states(batch.pieces, batch.piece_tokens)
    finally:
        handle.remove()
    return seen["input_ids"], seen["attention_mask"]


def test_split_frozen_prefix_gives_the_same_emissions_as_the_whole_model(tmp_path, tiny_bert):
    model, batch, _ = model_and_batch(tmp_path, tiny_bert, "bert_bilstm", "crf", **FROZEN)
    assert model.token_encoder.encoder._split is not None
    model.eval()
    split = model.emissions(batch)
    model.token_encoder.encoder._split = None
    torch.testing.assert_close(model.emissions(batch), split, atol=1e-5, rtol=0)


def test_no_split_unless_embeddings_and_layers_are_frozen(tmp_path, tiny_bert):
    for encoder in ({}, {"freeze_layers": 1}, {"freeze_embeddings": True}):
        model, _, _ = model_and_batch(tmp_path, tiny_bert, "bert", "crf", **encoder)
        assert model.token_encoder.encoder._split is None, encoder


def test_frozen_states_are_cached_in_training_only_and_reused(tmp_path, tiny_bert):
    model, batch, _ = model_and_batch(tmp_path, tiny_bert, "bert", "crf", **FROZEN)
    encoder = model.token_encoder.encoder
    ids, attention = _windows(model, batch)
    fresh = encoder._frozen_states(ids, attention)
    assert not encoder._cache  # eval mode: nothing kept
    encoder.train()
    assert not encoder._split[0].training  # the frozen prefix stays in eval mode
    first = encoder._frozen_states(ids, attention)
    assert len(encoder._cache) == len({tuple(r[a.bool()].tolist()) for r, a in zip(ids, attention)})
    again = encoder._frozen_states(ids, attention)
    torch.testing.assert_close(first, fresh)
    lengths = attention.sum(dim=1)
    for r, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(again[r, :n], fresh[r, :n])


def test_zero_cache_budget_keeps_nothing(tmp_path, tiny_bert):
    model, batch, _ = model_and_batch(
        tmp_path, tiny_bert, "bert", "crf", frozen_cache_mb=0, **FROZEN
    )
    model.train()
    model.loss(batch).backward()
    assert not model.token_encoder.encoder._cache


@pytest.mark.bf16
def test_bf16_emissions_are_close_to_fp32(tmp_path, tiny_bert):
    model, batch, _ = model_and_batch(tmp_path, tiny_bert, "bert_idcnn", "crf")
    model.eval()
    full = model.emissions(batch)
    encoder = model.token_encoder.encoder
    encoder.config = encoder.config.model_copy(update={"precision": "bf16"})
    half = model.emissions(batch)
    assert half.dtype == torch.float32
    assert (half - full).abs().max() < 0.05 * full.abs().max()


@pytest.mark.parametrize("kind", ["bert", "bert_bilstm"])
@pytest.mark.bf16
def test_bf16_cached_training_overfits_and_round_trips(tmp_path, tiny_bert, kind):
    encoder_dir = shutil.copytree(tiny_bert, tmp_path / "encoder-src")
    config = bert_config(
        write_corpus(tmp_path), encoder_dir, kind, "crf", precision="bf16", **FROZEN
    )
    result = api.train(config, tmp_path / "model", progress=False)
    assert result.best_score == 1.0
    texts = [example.text for example in EXAMPLES]
    predicted = api.load(tmp_path / "model").predict(texts, batch_size=4)
    assert [triples(entities) for entities in predicted] == gold_entities()
