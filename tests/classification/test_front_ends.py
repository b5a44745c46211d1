"""A classifier through every front end: CLI train/evaluate/predict, the server, bulk
extraction, and a BERT-style encoder (a tiny random BERT, nothing downloaded)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import nerkit
from classification.tiny import TEXTS, tiny_classifier_config, write_texts
from nerkit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("classifier")
    config = tiny_classifier_config(write_texts(directory))
    nerkit.train(config, str(directory / "model"), progress=False)
    return directory / "model"


def test_cli_trains_evaluates_and_predicts(tmp_path):
    import yaml

    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(tiny_classifier_config(write_texts(tmp_path))))
    result = runner.invoke(app, ["train", str(config_path), "--output", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "best dev score" in result.output
    result = runner.invoke(
        app, ["evaluate", str(tmp_path / "m"), str(tmp_path / "t.jsonl"), "--json"]
    )
    scores = json.loads(result.output)
    assert scores["accuracy"] == 1.0
    assert set(scores) >= {"accuracy", "macro_f1", "micro_f1", "per_label"}
    assert set(scores["per_label"]["pos"]) >= {"precision", "recall", "f1"}
    result = runner.invoke(
        app, ["predict", str(tmp_path / "m"), "物流很快，好评", "--format", "table"]
    )
    assert result.exit_code == 0
    assert "pos\t" in result.output
    result = runner.invoke(app, ["predict", str(tmp_path / "m"), "质量太差了，退货"])
    record = json.loads(result.output)
    assert record["labels"][0]["label"] == "neg" and 0.5 < record["labels"][0]["score"] <= 1


def test_server_classifies_and_documents_the_route(model_dir):
    from fastapi.testclient import TestClient

    from nerkit.server import create_app

    with TestClient(create_app(nerkit.load(str(model_dir)))) as client:
        response = client.post("/classify", json={"texts": [TEXTS[0][0], TEXTS[1][0]]})
        assert response.status_code == 200
        labels = response.json()["labels"]
        assert [found[0]["label"] for found in labels] == ["pos", "neg"]
        assert client.post("/extract", json={"texts": ["x"]}).status_code == 404
        assert client.post("/classify", json={"texts": "x"}).status_code == 422
        schema = client.get("/openapi.json").json()
        assert "/classify" in schema["paths"] and "/extract" not in schema["paths"]
        info = client.get("/model").json()
        assert info["task"] == "classification" and info["labels"] == ["neg", "pos"]


def test_bulk_extraction_writes_labels(model_dir, tmp_path):
    from nerkit.extract import ExtractOptions, extract

    source = tmp_path / "in.txt"
    source.write_text("\n".join(text for text, _ in TEXTS) + "\n", encoding="utf-8")
    summary = extract(model_dir, [source], tmp_path / "out.jsonl", ExtractOptions(workers=1))
    assert summary.documents == len(TEXTS)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["labels"][0]["label"] for row in rows] == [label for _, label in TEXTS]


def test_a_bert_style_encoder_classifies(tmp_path):
    pytest.importorskip("transformers")
    from pretrained.tiny_bert import write_tiny_bert

    bert = write_tiny_bert(tmp_path / "bert")
    encoder = {"kind": "bert", "name_or_path": str(bert), "lr": 1e-3, "dropout": 0.0}
    config = tiny_classifier_config(write_texts(tmp_path), encoder=encoder, pooling="mean")
    config["train"]["epochs"] = 25
    nerkit.train(config, str(tmp_path / "m"), progress=False)
    predictor = nerkit.load(str(tmp_path / "m"))
    found = predictor.predict([text for text, _ in TEXTS])
    assert [labels[0].label for labels in found] == [label for _, label in TEXTS]
    # the directory is self-contained: it loads with the original encoder gone
    import shutil

    shutil.rmtree(bert)
    assert nerkit.load(str(tmp_path / "m")).predict([TEXTS[0][0]]) == predictor.predict(
        [TEXTS[0][0]]
    )
