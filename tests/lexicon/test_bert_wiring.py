"""Lexicon features on a BERT-style encoder: concatenated to its token states before `top`."""

from __future__ import annotations

import pytest
from models.tiny import EXAMPLES, gold_entities, triples, write_corpus

pytest.importorskip("transformers")

from pretrained.test_taggers import bert_config
from pretrained.tiny_bert import write_tiny_bert

from lexicon.test_wiring import TEXTS, write_lexicon
from nerkit import api
from nerkit.artifacts import LEXICON_FILE, load_model


@pytest.mark.parametrize("kind", ["bert", "bert_bilstm"])
def test_bert_with_a_lexicon_overfits_and_round_trips(tmp_path, kind):
    encoder_dir = write_tiny_bert(tmp_path / "bert")
    config = bert_config(write_corpus(tmp_path), encoder_dir, kind, "crf")
    config["model"]["features"].update(lexicon=str(write_lexicon(tmp_path)), lexicon_dim=8)
    result = api.train(config, tmp_path / "model", progress=False)
    assert result.best_score == 1.0
    assert (tmp_path / "model" / LEXICON_FILE).is_file()
    model = load_model(tmp_path / "model").model
    names = [name for name, _ in model.named_parameters()]
    assert "token_encoder.lexicon.embedding.weight" in names

    predictor = api.load(tmp_path / "model")
    batched = predictor.predict(TEXTS, batch_size=4)
    assert [triples(found) for found in batched[: len(EXAMPLES)]] == gold_entities()
    one_by_one = [predictor.predict([text])[0] for text in TEXTS]
    assert [triples(e) for e in one_by_one] == [triples(e) for e in batched]
    assert api.load(tmp_path / "model").predict(TEXTS, batch_size=4) == batched
