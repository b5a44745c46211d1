"""The NER + relation pipeline directory: build, load, predict, the type rule, pruning, errors.

A tiny tagger (typed PER/LOC/ORG/WORK) and a tiny relation model trained on the same texts
with UNTYPED spans (`ENTITY`, as DeepKE RE is read) are built once per session; the pipeline
gets a typed schema inferred from the typed examples.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from models.tiny import tiny_config, write_corpus

import nerkit
from nerkit import api
from nerkit.data.schema import RelationType, Schema, infer_schema
from nerkit.errors import ArtifactError, ConfigError, NerkitError
from nerkit.pipeline import build_pipeline
from nerkit.pipeline.predictor import PipelinePredictor, PipelineResult, input_label
from nerkit.predict import Predictor
from nerkit.types import Entity, Example, Span
from relations.tiny import PAIRS, tiny_relation_config, triples, write_examples

TEXTS = [e.text for e in PAIRS]


def _untyped(examples: list[Example]) -> list[Example]:
    return [
        replace(e, spans=tuple(Span(s.start, s.end, "ENTITY") for s in e.spans)) for e in examples
    ]


@pytest.fixture(scope="session")
def members(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Return (NER dir, relation dir): a typed tagger and an untyped relation model."""
    directory = tmp_path_factory.mktemp("pipeline_members")
    ner_data = write_corpus(directory, [Example(e.text, e.spans) for e in PAIRS])
    api.train(tiny_config(ner_data), directory / "ner", progress=False)
    re_data = write_examples(directory, _untyped(PAIRS), "re")
    api.train(tiny_relation_config(re_data), directory / "re", progress=False)
    return directory / "ner", directory / "re"


@pytest.fixture(scope="session")
def pipeline_dir(members: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a pipeline directory with the schema of the typed examples."""
    output = tmp_path_factory.mktemp("pipeline") / "pipe"
    return build_pipeline(output, *members, schema=infer_schema(PAIRS))


@pytest.fixture(scope="session")
def gold_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the typed examples with their relations as JSON lines."""
    return write_examples(tmp_path_factory.mktemp("pipeline_gold"), PAIRS, "gold")


def _dicts(results: list[PipelineResult]) -> list[dict]:
    return [r.to_dict() for r in results]


def test_build_load_predict_finds_typed_entities_and_their_relations(pipeline_dir):
    predictor = nerkit.load(pipeline_dir)
    assert isinstance(predictor, PipelinePredictor) and isinstance(predictor, Predictor)
    assert predictor.task == "pipeline" and predictor.input_label == "ENTITY" and predictor.typed
    results = predictor.predict(TEXTS)
    assert [{(e.start, e.end, e.label) for e in r.entities} for r in results] == [
        {(s.start, s.end, s.label) for s in e.spans} for e in PAIRS
    ]
    assert [{(r.head.text, r.tail.text, r.label) for r in x.relations} for x in results] == triples(
        PAIRS
    )
    relation = results[0].relations[0]
    assert relation.head is results[0].entities[0]  # the NER entity itself: typed, NER score
    assert relation.head.label == "PER" and 0 < relation.score <= 1
    assert all(r.attributes == [] for r in results)
    assert set(json.loads(json.dumps(results[0].to_dict()))) == {
        "entities",
        "relations",
        "attributes",
    }


def test_pipeline_directory_is_self_contained_and_reloads_identically(pipeline_dir, tmp_path):
    assert sorted(p.name for p in pipeline_dir.iterdir()) == ["ner", "pipeline.json", "relations"]
    assert not (pipeline_dir / "ner" / "checkpoint.pt").exists()
    moved = tmp_path / "moved"
    shutil.copytree(pipeline_dir, moved)
    first = _dicts(nerkit.load(pipeline_dir).predict(TEXTS))
    assert _dicts(nerkit.load(moved).predict(TEXTS)) == first
    assert _dicts(nerkit.load(pipeline_dir).predict(TEXTS)) == first


def test_batched_prediction_equals_one_by_one(pipeline_dir):
    predictor = nerkit.load(pipeline_dir)
    batched = _dicts(predictor.predict(TEXTS, batch_size=3))
    single = [predictor.predict([text], batch_size=1)[0].to_dict() for text in TEXTS]
    assert _strip(batched) == _strip(single)


def _strip(rows: list[dict]) -> list[dict]:
    """Return the rows with scores rounded (batch padding moves floats in the last digits)."""
    text = json.dumps(rows, ensure_ascii=False)
    return json.loads(text, parse_float=lambda x: round(float(x), 4))


def test_schema_prunes_pairs_before_the_relation_model(pipeline_dir, members, tmp_path):
    typed = nerkit.load(pipeline_dir)
    untyped = nerkit.load(build_pipeline(tmp_path / "untyped", *members))  # the model's schema
    assert not untyped.typed
    text = "张三和李四住在北京。"
    entities = [Entity(0, 2, "PER", "张三", 1.0), Entity(3, 5, "PER", "李四", 1.0),
                Entity(7, 9, "LOC", "北京", 1.0)]  # fmt: skip
    pairs = typed.candidates(text, entities).relations
    assert {(p.head, p.tail) for p in pairs} == {(0, 2), (1, 2)}  # PER -> LOC only
    assert {s.label for s in typed.candidates(text, entities).spans} == {"ENTITY"}
    assert len(untyped.candidates(text, entities).relations) == 6  # every ordered pair

    calls = []
    original = typed.relations.predict

    def counting(inputs, **options):
        calls.append(sum(len(x.relations) for x in inputs))
        return original(inputs, **options)

    typed.relations.predict = counting
    results = typed.predict(TEXTS)
    expected = sum(len(typed.candidates(t, r.entities).relations) for t, r in zip(TEXTS, results))
    assert calls == [expected] and typed.pairs_classified == expected  # one batched call
    assert expected == len(TEXTS)  # the gold pair of each text; its reverse is pruned


def test_labels_the_typed_schema_forbids_are_dropped(members, tmp_path):
    schema = Schema(("PER", "LOC", "ORG"), (
        RelationType("出生地", frozenset({("PER", "LOC")})),
        RelationType("毕业院校", frozenset({("PER", "ORG")})),
    ))  # fmt: skip
    narrow = nerkit.load(build_pipeline(tmp_path / "narrow", *members, schema=schema))
    wide = nerkit.load(build_pipeline(tmp_path / "wide", *members, schema=infer_schema(PAIRS)))
    text = ["王五的国籍是中国。"]  # PER -> LOC: a candidate pair, but 国籍 is not in the schema
    assert [r.label for r in wide.predict(text)[0].relations] == ["国籍"]
    assert narrow.predict(text)[0].relations == [] and narrow.pairs_classified == 1
    assert narrow.predict(["《星河》的导演是赵六。"])[0].relations == []  # no WORK pair: pruned
    assert narrow.pairs_classified == 1


def test_input_label_rule():
    assert input_label(["LOC", "PER"], ("ENTITY",)) == "ENTITY"  # untyped relation model
    assert input_label(["LOC", "PER"], ("PER", "LOC")) is None  # typed: keep the NER types
    assert input_label(["LOC", "PER"], ("PER",)) is None


def test_evaluate_gives_strict_boundaries_and_entity_scores(pipeline_dir, gold_file, tmp_path):
    report = api.evaluate(pipeline_dir, gold_file)
    scores = report.to_dict()
    assert scores["triple_f1"] == 1.0 and scores["boundaries_f1"] == 1.0
    assert scores["entity_f1"] == 1.0 and report.main_score == 1.0
    assert set(scores["strict"]["per_label"]) == {"出生地", "毕业院校", "国籍", "导演"}
    assert scores["strict"]["support"] == 6 and scores["pairs_classified"] == 6
    # gold read without types: the triples are right up to the types only
    untyped = write_examples(tmp_path, _untyped(PAIRS), "untyped")
    scores = api.evaluate(pipeline_dir, untyped).to_dict()
    assert scores["triple_f1"] == 0.0 and scores["boundaries_f1"] == 1.0
    assert scores["entity_f1"] == 0.0
    assert "strict triple F1 100.00" in api.evaluate(pipeline_dir, gold_file).format_table()


def test_build_refuses_bad_members_and_schemas(members, pipeline_dir, tmp_path):
    ner, relations = members
    with pytest.raises(ArtifactError, match="is a relations model, expected a tagging model"):
        build_pipeline(tmp_path / "a", relations, relations)
    with pytest.raises(ArtifactError, match="is a pipeline"):
        build_pipeline(tmp_path / "b", pipeline_dir, relations)
    with pytest.raises(ArtifactError, match="does not exist"):
        build_pipeline(tmp_path / "c", tmp_path / "missing", relations)
    unknown = Schema(("X",), (RelationType("出生地", frozenset({("X", "PER")})),))
    with pytest.raises(ConfigError, match=r"entity types \['X'\] are not labels"):
        build_pipeline(tmp_path / "d", ner, relations, schema=unknown)
    foreign = Schema(("PER",), (RelationType("配偶", frozenset({("PER", "PER")})),))
    with pytest.raises(ConfigError, match="not predicted by the relation model"):
        build_pipeline(tmp_path / "e", ner, relations, schema=foreign)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(NerkitError, match="exists and is not empty"):
        build_pipeline(tmp_path / "full", ner, relations)
    assert build_pipeline(tmp_path / "full", ner, relations, overwrite=True).is_dir()
    assert not (tmp_path / "full" / "x").exists()


def test_load_refuses_a_changed_or_broken_pipeline(pipeline_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(pipeline_dir, copy)
    metadata = copy / "relations" / "metadata.json"
    metadata.write_text(metadata.read_text(encoding="utf-8").replace("{", "{ ", 1))
    with pytest.raises(ArtifactError, match="has changed since the pipeline was built"):
        nerkit.load(copy)
    manifest = copy / "pipeline.json"
    manifest.write_text(json.dumps({"format": "nerkit-pipeline/9"}))
    with pytest.raises(ArtifactError, match="is not supported"):
        nerkit.load(copy)
    manifest.write_text("{")
    with pytest.raises(ArtifactError, match="cannot be read"):
        nerkit.load(copy)


def test_predict_checks_its_inputs(pipeline_dir):
    predictor = nerkit.load(pipeline_dir)
    with pytest.raises(TypeError, match="wrap a single text in a list"):
        predictor.predict("张三出生于北京。")
    with pytest.raises(ValueError, match="batch_size"):
        predictor.predict(TEXTS, batch_size=0)
    assert [r.to_dict() for r in predictor.predict(["", "   "])] == [
        {"entities": [], "relations": [], "attributes": []}
    ] * 2
