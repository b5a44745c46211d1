"""Attribute members of a pipeline: an entity tagger, a value tagger and an attribute model
(`model.targets: attributes`, negative pairs) built into one directory; predict finds the
(entity, name, value) triples from raw text, evaluate scores them, extract writes them with
document offsets, the CLI builds and prints them, and bad member sets are refused.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from models.tiny import tiny_config, write_corpus
from typer.testing import CliRunner

import nerkit
from nerkit import api
from nerkit.cli import app
from nerkit.data.formats.deepke import read_deepke_ae
from nerkit.errors import ArtifactError, ConfigError
from nerkit.extract import ExtractOptions, extract
from nerkit.pipeline import build_pipeline
from nerkit.pipeline.directory import check_members
from nerkit.tasks.relations.attributes import VALUE_LABEL, value_examples
from nerkit.types import Example
from relations import test_pipeline as built
from relations.test_attributes import _config, _gold, write_ae

# the session fixtures of test_pipeline.py: a typed NER model and a relation model
members = built.members

runner = CliRunner()


@pytest.fixture(scope="session")
def ae_members(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Return the entity tagger, value tagger and attribute model of the tiny AE rows."""
    directory = tmp_path_factory.mktemp("ae_members")
    rows = write_ae(directory)
    examples = list(read_deepke_ae(rows))
    (directory / "ner_data").mkdir()
    (directory / "value_data").mkdir()
    entities = write_corpus(directory / "ner_data", [Example(e.text, e.spans) for e in examples])
    values = write_corpus(directory / "value_data", value_examples(examples))
    api.train(tiny_config(entities), directory / "ner", progress=False)
    api.train(tiny_config(values), directory / "values", progress=False)
    nerkit.train(_config(rows, negative_pairs=True), str(directory / "ae"), progress=False)
    return {"ner": directory / "ner", "values": directory / "values",
            "attributes": directory / "ae", "rows": rows}  # fmt: skip


@pytest.fixture(scope="session")
def ae_pipeline(ae_members: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("ae_pipeline") / "pipe"
    return build_pipeline(output, ae_members["ner"], values=ae_members["values"],
                          attributes=ae_members["attributes"])  # fmt: skip


def _attribute_members(ae_members: dict[str, Path]) -> dict[str, Path]:
    return {"values": ae_members["values"], "attributes": ae_members["attributes"]}


def _triples(results) -> list[set[tuple[str, str, str]]]:
    return [{(a.entity.text, a.name, a.value.text) for a in r.attributes} for r in results]


def test_attribute_pipeline_finds_entity_name_value_triples_from_raw_text(ae_pipeline, ae_members):
    examples = list(read_deepke_ae(ae_members["rows"]))
    predictor = nerkit.load(ae_pipeline, precision="fp32")
    assert sorted(p.name for p in ae_pipeline.iterdir()) == [
        "attributes", "ner", "pipeline.json", "values"]  # fmt: skip
    assert predictor.relations is None and predictor.relation_labels == []
    assert predictor.attribute_names == ["上映时间", "民族", "身高"]
    info = predictor.info()
    assert info["schema"] is None and set(info["members"]) == {"ner", "values", "attributes"}
    results = predictor.predict([e.text for e in examples])
    assert _triples(results) == _gold(examples)  # crossed pairs of 张三/李四 rejected
    assert all(r.relations == [] for r in results)
    first = results[0].attributes[0]
    assert first.entity is results[0].entities[0]  # the NER entity itself, with its score
    assert first.value.label == VALUE_LABEL and first.value.text == "汉族"
    assert 0 < first.value.score <= 1 and 0 < first.score <= 1
    row = json.loads(json.dumps(results[0].to_dict(), ensure_ascii=False))
    assert row["attributes"][0]["value"]["start"] == 6 and row["attributes"][0]["name"] == "民族"


def test_attribute_pipeline_batched_equals_one_by_one_and_reloads(ae_pipeline, ae_members):
    texts = [e.text for e in read_deepke_ae(ae_members["rows"])]
    predictor = nerkit.load(ae_pipeline, precision="fp32")
    batched = predictor.predict(texts, batch_size=3)
    alone = [predictor.predict([text], batch_size=1)[0] for text in texts]
    assert _triples(batched) == _triples(alone)
    for a, b in zip(batched, alone, strict=True):
        assert [x.score for x in a.attributes] == pytest.approx(
            [x.score for x in b.attributes], abs=1e-5
        )
    again = nerkit.load(ae_pipeline, precision="fp32").predict(texts, batch_size=3)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in batched]


def test_evaluate_scores_attribute_triples(ae_pipeline, ae_members):
    report = api.evaluate(ae_pipeline, ae_members["rows"], format="deepke-ae")
    scores = report.to_dict()
    assert scores["attribute_f1"] == 1.0 and scores["entity_f1"] == 1.0
    assert report.main_score == 1.0 and "triple_f1" not in scores and "strict" not in scores
    assert set(scores["attributes"]["per_label"]) == {"民族", "身高", "上映时间"}
    assert scores["attributes"]["support"] == 9
    # 9 rows; the 张三/李四 sentence has 2 entities x 2 values; the others 1 x 1
    assert scores["pairs_classified"] == 7 + 4
    assert "attribute F1 100.00" in report.format_table()


def test_extract_writes_attributes_with_document_offsets(ae_pipeline, tmp_path):
    document = "前言。" * 80 + "张冬梅，女，汉族，1968年生"
    source = tmp_path / "docs.txt"
    source.write_text(document + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl.gz"
    extract(ae_pipeline, [source], output, ExtractOptions(workers=1, split_chars=50),
            progress=False)  # fmt: skip
    with gzip.open(output, "rt", encoding="utf-8") as handle:
        (record,) = [json.loads(line) for line in handle]
    (attribute,) = record["attributes"]
    value = attribute["value"]
    assert document[value["start"] : value["end"]] == "汉族" and attribute["name"] == "民族"
    entity = attribute["entity"]
    assert document[entity["start"] : entity["end"]] == "张冬梅"


def test_cli_builds_and_prints_an_attribute_pipeline(ae_members, tmp_path):
    output = tmp_path / "pipe"
    options = ["--ner", ae_members["ner"], "--values", ae_members["values"],
               "--attributes", ae_members["attributes"], "--output", output]  # fmt: skip
    result = runner.invoke(app, ["pipeline", "build", *map(str, options)])
    assert result.exit_code == 0, result.output
    assert "1 entity types, 3 attributes" in result.output
    table = runner.invoke(app, ["predict", str(output), "李明，男，回族", "--format", "table",
                                "--precision", "fp32"])  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "李明 (ENTITY) .民族 = 回族\t" in table.output


def test_all_four_members_give_relations_and_attributes(members, ae_members, tmp_path):
    ner, relations = members
    schema = built.infer_schema(built.PAIRS)
    attributes = _attribute_members(ae_members)
    path = build_pipeline(tmp_path / "four", ner, relations, schema, **attributes)
    predictor = nerkit.load(path, precision="fp32")
    assert set(predictor.info()["members"]) == {"ner", "relations", "values", "attributes"}
    results = predictor.predict([e.text for e in built.PAIRS])
    assert [{(r.head.text, r.tail.text, r.label) for r in x.relations} for x in results] == (
        built.triples(built.PAIRS)
    )  # the relation member works as in a two-member pipeline


def test_bad_member_sets_are_refused(members, ae_members, tmp_path):
    ner, relations = members
    with pytest.raises(ConfigError, match="both a value tagger"):
        build_pipeline(tmp_path / "a", ner, attributes=ae_members["attributes"])
    with pytest.raises(ConfigError, match="both a value tagger"):
        build_pipeline(tmp_path / "b", ner, relations, values=ae_members["values"])
    with pytest.raises(ConfigError, match="needs a relation model"):
        build_pipeline(tmp_path / "c", ner)
    with pytest.raises(ArtifactError, match=r"must have model\.targets: attributes"):
        build_pipeline(tmp_path / "d", ner, values=ae_members["values"], attributes=relations)
    with pytest.raises(ArtifactError, match=r"must have model\.targets: relations"):
        build_pipeline(tmp_path / "e", ner, ae_members["attributes"])
    with pytest.raises(ArtifactError, match="expected a tagging model"):
        build_pipeline(tmp_path / "f", ner, values=relations, attributes=ae_members["attributes"])
    with pytest.raises(ConfigError, match="it needs --relations"):
        build_pipeline(tmp_path / "g", ner, schema=built.infer_schema(built.PAIRS),
                       **_attribute_members(ae_members))  # fmt: skip
    with pytest.raises(ConfigError, match="unknown pipeline members"):
        check_members({"ner", "relations", "extra"})


def test_a_manifest_with_a_bad_member_set_is_refused(ae_pipeline, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(ae_pipeline, copy)
    manifest = json.loads((copy / "pipeline.json").read_text(encoding="utf-8"))
    del manifest["members"]["values"]
    (copy / "pipeline.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ArtifactError, match="both a value tagger"):
        nerkit.load(copy)


def test_server_extract_returns_the_attributes(ae_pipeline):
    from fastapi.testclient import TestClient

    from nerkit.server import ServerSettings, create_app

    predictor = nerkit.load(ae_pipeline, precision="fp32")
    with TestClient(create_app(predictor, ServerSettings())) as client:
        response = client.post("/extract", json={"texts": ["李明，男，回族", ""]})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["relations"] == [[], []] and body["attributes"][1] == []
        (attribute,) = body["attributes"][0]
        assert (attribute["entity"]["text"], attribute["name"]) == ("李明", "民族")
        assert attribute["value"]["text"] == "回族" and 0 < attribute["score"] <= 1
        model = client.get("/model").json()
        assert model["info"]["attributes"] == ["上映时间", "民族", "身高"]
        assert model["info"]["schema"] is None


def test_attributes_pair_entities_and_values_of_neighbouring_pieces(ae_pipeline):
    from nerkit.data.sentences import split_sentences
    from nerkit.pipeline.documents import predict_documents

    predictor = nerkit.load(ae_pipeline, precision="fp32")
    document = "王刚身高180厘米\n李明，男，回族"  # two pieces: split at the line break
    pieces = split_sentences(document)
    counts = []
    results = []
    for window in (0, 1):
        before = predictor.pairs_classified
        results += predict_documents(predictor, [document], [pieces], window=window)
        counts.append(predictor.pairs_classified - before)
    within, across = results
    assert _triples([within]) == [{("王刚", "身高", "180厘米"), ("李明", "民族", "回族")}]
    # 王刚 with 回族 and 李明 with 180厘米: two more pairs, classified once each
    assert counts == [2, 4]
    assert _triples([within])[0] <= _triples([across])[0]
    for found in across.attributes:
        for span in (found.entity, found.value):
            assert document[span.start : span.end] == span.text
