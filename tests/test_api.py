"""The Python API: train -> evaluate -> load -> predict, and the default-model error."""

from __future__ import annotations

import json

import pytest
from models.tiny import EXAMPLES, gold_entities, tiny_config, triples, write_corpus

from nerkit import api
from nerkit.errors import ArtifactError, ConfigError


def test_train_evaluate_load_predict(tmp_path):
    corpus = write_corpus(tmp_path)
    config = tiny_config(corpus)
    config["data"]["test"] = str(corpus)
    result = api.train(config, tmp_path / "model", overrides=["train.epochs=40"], progress=False)
    assert result.best_score == 1.0 and result.test["f1"] == 1.0
    metadata = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert metadata["test"]["f1"] == 1.0 and len(metadata["data"]["train"]["sha256"]) == 64
    assert {"nerkit", "torch", "created", "dev"} <= set(metadata)

    report = api.evaluate(tmp_path / "model", corpus)
    assert report.f1 == 1.0 and set(report.per_label) == {"LOC", "ORG", "PER"}
    texts = [example.text for example in EXAMPLES]
    assert [triples(e) for e in api.predict(texts, tmp_path / "model")] == gold_entities()
    assert [triples(e) for e in api.load(tmp_path / "model").predict(texts)] == gold_entities()


def test_config_file_with_overrides(tmp_path):
    corpus = write_corpus(tmp_path)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(tiny_config(corpus)))
    result = api.train(path, tmp_path / "model", overrides=["train.epochs=1"], progress=False)
    assert result.epochs_run == 1


def test_missing_training_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        api.train(tiny_config(tmp_path / "absent.jsonl"), tmp_path / "model", progress=False)


def test_load_without_a_default_model_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(api, "DEFAULT_MODEL_DIR", tmp_path / "nowhere")
    with pytest.raises(ArtifactError, match="no default model is installed"):
        api.load()
