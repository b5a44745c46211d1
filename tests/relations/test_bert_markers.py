"""Entity markers over a BERT-style encoder: each marker is ONE new piece of the tokenizer.

Without that, "<e1>" and "<e2>" split into pieces that start alike ("<"), so the start marker
states the pair is pooled from cannot tell head from tail.
"""

from __future__ import annotations

import shutil

import pytest
import torch

pytest.importorskip("transformers")

from pretrained.tiny_bert import write_tiny_bert

import nerkit
from nerkit.encoders.added_pieces import AddedPieces
from nerkit.encoders.config import PretrainedConfig
from nerkit.encoders.pretrained import PretrainedEncoder
from relations.tiny import (
    PAIRS,
    bare,
    predicted_triples,
    tiny_relation_config,
    triples,
    write_examples,
)

MARKERS = ["<e1>", "</e1>", "<e2>", "</e2>"]


def _encoder(bert, **options) -> PretrainedEncoder:
    return PretrainedEncoder(PretrainedConfig(kind="bert", name_or_path=str(bert), **options))


def test_added_markers_are_one_new_piece_each_starting_from_their_old_pieces(tmp_path):
    bert = write_tiny_bert(tmp_path / "bert")
    encoder = _encoder(bert, dropout=0.0)
    rows = encoder.transformer.get_input_embeddings().num_embeddings
    old = {marker: encoder.subwords.pieces(marker) for marker in MARKERS}
    base = encoder.transformer.get_input_embeddings().weight.detach().clone()
    assert encoder.add_tokens([*MARKERS, "<e1>", "在"]) == MARKERS  # known tokens stay

    table = encoder.transformer.get_input_embeddings()
    assert isinstance(table, AddedPieces)
    ids = [encoder.subwords.pieces(marker) for marker in MARKERS]
    assert ids == [[rows], [rows + 1], [rows + 2], [rows + 3]]
    for marker, [index] in zip(MARKERS, ids, strict=True):
        expected = base[torch.tensor(old[marker])].mean(dim=0)
        assert torch.allclose(table(torch.tensor([index]))[0], expected)
    known = torch.tensor([[0, 5, rows - 1]])
    assert torch.equal(table(known), base[known])
    # a marker inside a token sequence is one piece too
    pieces, owners = encoder.subwords.encode(["张三", "<e1>", "在", "</e1>"])
    assert pieces.count(rows) == 1 and owners[pieces.index(rows)] == 1


def test_added_pieces_train_unless_the_embeddings_run_in_a_frozen_prefix(tmp_path):
    bert = write_tiny_bert(tmp_path / "bert")
    free = _encoder(bert, freeze_embeddings=True)
    free.add_tokens(MARKERS)
    table = free.transformer.get_input_embeddings()
    assert table.added.requires_grad and not table.base.weight.requires_grad
    cached = _encoder(bert, freeze_embeddings=True, freeze_layers=1)
    cached.add_tokens(MARKERS)
    assert not cached.transformer.get_input_embeddings().added.requires_grad


def test_a_bert_relation_model_learns_its_markers_and_loads_without_the_encoder(tmp_path):
    bert = write_tiny_bert(tmp_path / "bert")
    encoder = {"kind": "bert", "name_or_path": str(bert), "lr": 1e-3, "dropout": 0.0,
               "freeze_embeddings": True}  # fmt: skip
    config = tiny_relation_config(write_examples(tmp_path, PAIRS), encoder=encoder)
    nerkit.train(config, str(tmp_path / "m"), progress=False)
    predictor = nerkit.load(str(tmp_path / "m"), precision="fp32")
    found = predictor.predict(bare(PAIRS))
    assert predicted_triples(found) == triples(PAIRS)
    assert set(predictor.model.token_encoder.subwords.added) == set(MARKERS)
    trained = predictor.model.token_encoder.encoder.transformer.get_input_embeddings()
    untrained = _encoder(bert)
    untrained.add_tokens(MARKERS)
    assert not torch.allclose(trained.added, untrained.transformer.get_input_embeddings().added)
    shutil.rmtree(bert)  # the model directory holds the markers' pieces and their rows
    again = nerkit.load(str(tmp_path / "m"), precision="fp32").predict(bare(PAIRS))
    assert again == found
