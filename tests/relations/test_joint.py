"""The joint task: entities and relations from one encoder (`nerkit.tasks.joint`), through
training, `nerkit.load` (a pipeline predictor of one model), evaluate, the CLI, the server and
bulk extraction."""

from __future__ import annotations

import json

import pytest
import torch
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import nerkit
from nerkit.cli import app
from nerkit.data.schema import infer_schema
from nerkit.data.tokenize import tokenize
from nerkit.errors import ConfigError, NerkitError
from nerkit.extract import ExtractOptions, extract
from nerkit.server import ServerSettings, create_app
from nerkit.tasks import load_config
from nerkit.tasks.joint.data import pair_rows, training_pieces
from nerkit.training.run import prepare
from nerkit.types import Example, Relation, Span
from relations.tiny import NEGATIVES, PAIRS, triples, write_examples

CORPUS = PAIRS[:4] + NEGATIVES  # Chinese, typed; NEGATIVES has schema-linked unrelated pairs
TEXTS = [e.text for e in CORPUS]
runner = CliRunner()


def _config(train, **model):
    return {
        "task": "joint",
        "data": {"train": str(train), "dev": str(train)},
        "model": {
            "tokenization": "char",
            "features": {"token_dim": 24, "bigram_dim": 8, "dropout": 0.0},
            "encoder": {"kind": "bilstm", "hidden_size": 24, "dropout": 0.0},
            "type_dim": 8, "pair_hidden": 32, "pair_dropout": 0.0, **model,
        },
        "train": {"epochs": 40, "lr": 0.02, "batch_size": 4, "patience": 0, "num_threads": 1,
                  "seed": 3},
    }  # fmt: skip


@pytest.fixture(scope="module")
def joint_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("joint")
    train = write_examples(directory, CORPUS, "train")
    nerkit.train(_config(train), str(directory / "model"), progress=False)
    return directory / "model"


def _json_triples(rows: list[list[dict]]) -> list[set[tuple[str, str, str]]]:
    return [{(r["head"]["text"], r["tail"]["text"], r["label"]) for r in row} for row in rows]


def _found(results) -> list[set[tuple[str, str, str]]]:
    return [{(r.head.text, r.tail.text, r.label) for r in result.relations} for result in results]


def test_the_joint_model_finds_the_training_entities_and_relations(joint_dir):
    predictor = nerkit.load(joint_dir, precision="fp32")
    assert predictor.task == "pipeline" and predictor.relations.task == "joint"
    results = predictor.predict(TEXTS)
    assert [{(e.start, e.end, e.label) for e in r.entities} for r in results] == [
        {(s.start, s.end, s.label) for s in e.spans} for e in CORPUS
    ]
    assert _found(results) == triples(CORPUS)
    assert predictor.relation_labels == sorted({r.label for e in CORPUS for r in e.relations})


def test_batched_equals_one_by_one_and_reloading_changes_nothing(joint_dir):
    first = nerkit.load(joint_dir, precision="fp32")
    together = first.predict(TEXTS, batch_size=3)
    alone = [first.predict([text], batch_size=1)[0] for text in TEXTS]
    again = nerkit.load(joint_dir, precision="fp32").predict(TEXTS)
    for a, b, c in zip(together, alone, again, strict=True):
        assert a.entities == c.entities  # reloading: identical
        assert [e.score for e in a.entities] == pytest.approx([e.score for e in b.entities],
                                                              abs=1e-5)  # fmt: skip
        assert [(e.start, e.end, e.label) for e in a.entities] == [
            (e.start, e.end, e.label) for e in b.entities
        ]

        def keys(result):
            return [(r.head.start, r.head.end, r.tail.start, r.tail.end, r.label)
                    for r in result.relations]  # fmt: skip

        assert keys(a) == keys(b) == keys(c) and a.relations == c.relations
        for x, y in zip(a.relations, b.relations, strict=True):
            assert x.score == pytest.approx(y.score, abs=1e-5)


def test_evaluate_gives_end_to_end_triple_scores(joint_dir, tmp_path):
    gold = write_examples(tmp_path, CORPUS, "gold")
    report = nerkit.evaluate(joint_dir, gold)
    assert report.main_score == 1.0
    scores = report.to_dict()
    assert scores["triple_f1"] == 1.0 and scores["entity_f1"] == 1.0
    result = runner.invoke(app, ["evaluate", str(joint_dir), str(gold), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["strict"]["micro_f1"] == 1.0


def test_the_front_ends_take_a_joint_model(joint_dir, tmp_path):
    result = runner.invoke(app, ["predict", str(joint_dir), TEXTS[0]])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert _json_triples([row["relations"]]) == triples(CORPUS[:1])
    with TestClient(create_app(nerkit.load(joint_dir), ServerSettings())) as client:
        response = client.post("/extract", json={"texts": TEXTS})
        assert response.status_code == 200, response.text
        assert _json_triples(response.json()["relations"]) == triples(CORPUS)
    source = tmp_path / "in.txt"
    source.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    extract(joint_dir, [source], output, ExtractOptions(workers=1, pair_window=1), progress=False)
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert _json_triples([row["relations"] for row in rows]) == triples(CORPUS)


def test_given_entities_are_classified_by_the_relation_member(joint_dir):
    relations = nerkit.load(joint_dir, precision="fp32").relations
    given = [Example(e.text, e.spans) for e in CORPUS]
    found = relations.predict(given)
    assert [{(r.head.text, r.tail.text, r.label) for r in text} for text in found] == triples(
        CORPUS
    )


def test_training_pairs_are_the_annotated_and_the_schema_linked_ones():
    config = load_config(_config("unused.jsonl", max_length=4)).model
    example = NEGATIVES[0]  # 张三和李四住在北京。: 张三 0-2, 李四 3-5, 北京 7-9
    schema = infer_schema(NEGATIVES)
    [whole] = training_pieces([example], load_config(_config("x.jsonl")).model, schema,
                              ["LOC", "PER"])  # fmt: skip
    got = {(p.head, p.tail, p.head_type, p.tail_type, label)
           for p, label in zip(whole.pairs, whole.labels, strict=True)}  # fmt: skip
    assert got == {
        ((0, 2), (7, 9), 2, 1, "居住地"), ((3, 5), (7, 9), 2, 1, "居住地"),
        ((0, 2), (3, 5), 2, 2, "no_relation"), ((3, 5), (0, 2), 2, 2, "no_relation"),
    }  # fmt: skip
    # pieces of 4 characters: 张三和李 | 四住在北 | 京。 -- only 张三's pairs... none fit one piece
    pieces = training_pieces([example], config, schema, ["LOC", "PER"])
    assert [len(p) for p in pieces] == [4, 4, 2]
    assert all(not p.pairs for p in pieces)


def test_long_texts_are_classified_in_windows_around_each_pair():
    text = "甲" * 20 + "张三" + "乙" * 3 + "北京" + "丙" * 20
    spans = [Span(20, 22, "PER"), Span(25, 27, "LOC")]
    tokens = [tokenize(text, "char")]
    [row] = pair_rows(tokens, [spans], [[(0, 1)]], ["LOC", "PER"], 10)
    assert len(row.tokens) == 10 and "".join(row.tokens) == text[19:29]
    assert row.pairs[0].head == (1, 3) and row.pairs[0].tail == (6, 8)
    assert pair_rows(tokens, [spans], [[(0, 1)]], ["LOC", "PER"], 6) == []  # wider than 6


def test_bad_training_data_is_a_one_line_config_error(tmp_path):
    twice = Example("张三出生于北京。", (Span(0, 2, "PER"), Span(5, 7, "LOC")),
                    relations=(Relation(0, 1, "出生地"), Relation(0, 1, "居住地")))  # fmt: skip
    config = load_config(_config(write_examples(tmp_path, [twice, *CORPUS], "twice")))
    with pytest.raises(NerkitError, match=r"twice\.jsonl:1: the pair \(0, 1\) holds two relations"):
        prepare(config)
    bare = [Example(e.text, e.spans) for e in CORPUS]
    with pytest.raises(ConfigError, match="holds no relation"):
        prepare(load_config(_config(write_examples(tmp_path, bare, "bare"))))


def test_the_pair_head_reads_the_context_between_the_entities(joint_dir):
    model = nerkit.load(joint_dir).relations.model
    from nerkit.tasks.joint.model import JointBatch

    states = torch.randn(
        1, 6, model.token_encoder.output_dim, generator=torch.Generator().manual_seed(0)
    )
    spans = torch.tensor([[0, 2, 2, 4], [0, 1, 4, 6]])  # adjacent / two tokens between
    batch = JointBatch(None, torch.tensor([0, 0]), spans, torch.tensor([[1, 2], [1, 2]]))
    changed = states.clone()
    changed[0, 2:4] += 1.0  # the tail of the first pair, between the entities of the second
    with torch.no_grad():
        before, after = model.pair_logits(states, batch), model.pair_logits(changed, batch)
    assert not torch.allclose(before[1], after[1])  # the context counts
