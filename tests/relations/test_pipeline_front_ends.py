"""A pipeline directory through the front ends: CLI build/predict/evaluate, /extract, extract."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

import nerkit
from nerkit.cli import app
from nerkit.errors import NerkitError
from nerkit.extract import ExtractOptions, extract
from nerkit.server import ServerSettings, create_app
from relations import test_pipeline as built
from relations.test_pipeline import TEXTS
from relations.tiny import PAIRS, triples

# the session fixtures of test_pipeline.py (one tiny NER + relation model for both files)
members, pipeline_dir, gold_file = built.members, built.pipeline_dir, built.gold_file

runner = CliRunner()


def _relations(rows: list[dict]) -> list[set[tuple[str, str, str]]]:
    return [{(r["head"]["text"], r["tail"]["text"], r["label"]) for r in row} for row in rows]


def test_cli_builds_a_pipeline_with_a_schema_inferred_from_typed_data(members, gold_file, tmp_path):
    ner, relations = members
    output = tmp_path / "pipe"
    result = runner.invoke(app, ["pipeline", "build", "--ner", str(ner), "--relations",
                                 str(relations), "--output", str(output), "--schema-from",
                                 str(gold_file)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4 entity types, 4 relations" in result.output
    assert nerkit.load(output).typed
    again = runner.invoke(app, ["pipeline", "build", "--ner", str(ner), "--relations",
                                str(relations), "--output", str(output)])  # fmt: skip
    assert isinstance(again.exception, NerkitError)
    assert "exists and is not empty" in str(again.exception)
    assert "\n" not in str(again.exception)
    wrong = runner.invoke(app, ["pipeline", "build", "--ner", str(relations), "--relations",
                                str(relations), "--output", str(tmp_path / "x")])  # fmt: skip
    assert isinstance(wrong.exception, NerkitError) and "expected a tagging model" in str(
        wrong.exception
    )


def test_cli_predict_prints_entities_and_relations(pipeline_dir):
    result = runner.invoke(app, ["predict", str(pipeline_dir), *TEXTS[:2]])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["text"] for row in rows] == TEXTS[:2]
    assert _relations([row["relations"] for row in rows]) == triples(PAIRS[:2])
    assert all(set(row) == {"text", "entities", "relations", "attributes"} for row in rows)
    table = runner.invoke(app, ["predict", str(pipeline_dir), TEXTS[0], "--format", "table"])
    assert table.exit_code == 0, table.output
    assert "  0\t2\tPER\t张三\t" in table.output
    assert "张三 (PER) -[出生地]-> 北京 (LOC)\t" in table.output


def test_cli_evaluate_json_gives_triple_scores(pipeline_dir, gold_file):
    result = runner.invoke(app, ["evaluate", str(pipeline_dir), str(gold_file), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["triple_f1"] == 1.0 and scores["entity_f1"] == 1.0
    assert set(scores) >= {"strict", "boundaries", "entities", "triple_precision", "triple_recall"}
    assert set(scores["strict"]["per_label"]["出生地"]) >= {"precision", "recall", "f1", "support"}
    table = runner.invoke(app, ["evaluate", str(pipeline_dir), str(gold_file)])
    assert "strict triple F1 100.00" in table.output


def test_server_extract_returns_relations_and_attributes(pipeline_dir):
    predictor = nerkit.load(pipeline_dir)
    with TestClient(create_app(predictor, ServerSettings())) as client:
        response = client.post("/extract", json={"texts": TEXTS})
        assert response.status_code == 200, response.text
        body = response.json()
        assert _relations(body["relations"]) == triples(PAIRS)
        assert body["attributes"] == [[] for _ in TEXTS]
        assert body["entities"] == [[e.to_dict() for e in r.entities]
                                    for r in predictor.predict(TEXTS)]  # fmt: skip
        assert client.post("/extract", json={"texts": TEXTS, "nbest": 2}).status_code == 422
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
        assert {"RelationOut", "AttributeOut"} <= set(schemas)
        assert {"relations", "attributes"} <= set(schemas["ExtractResponse"]["properties"])
        model = client.get("/model").json()
        assert model["task"] == "pipeline" and model["info"]["relations"] == [
            "出生地", "国籍", "导演", "毕业院校"
        ]  # fmt: skip


def test_extract_writes_relations_with_document_offsets(pipeline_dir, tmp_path):
    source = tmp_path / "in.txt"
    document = TEXTS[0] + TEXTS[1]  # split into two sentences: offsets shift back
    source.write_text(document + "\n" + TEXTS[2] + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    options = ExtractOptions(workers=1, split_chars=12, shard_lines=1)
    summary = extract(pipeline_dir, [source], output, options, progress=False)
    assert summary.documents == 2 and summary.sentences == 3
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert _relations([row["relations"] for row in rows]) == [
        triples(PAIRS[:1])[0] | triples(PAIRS[1:2])[0],
        triples(PAIRS[2:3])[0],
    ]
    for relation in rows[0]["relations"]:
        for entity in (relation["head"], relation["tail"]):
            assert document[entity["start"] : entity["end"]] == entity["text"]
    assert all(row["attributes"] == [] for row in rows)
