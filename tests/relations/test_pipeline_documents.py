"""A pipeline over documents cut into sentence pieces: relations across nearby pieces.

`predict_documents` with window 0 is piece-by-piece prediction moved to document offsets;
with window 1 it also classifies the pairs whose entities sit in neighbouring pieces, once
each, in the text of those two pieces; `nerkit extract --pair-window` writes them.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import nerkit
from nerkit.cli import app
from nerkit.data.sentences import split_sentences
from nerkit.errors import NerkitError
from nerkit.extract import ExtractOptions, extract
from nerkit.pipeline.documents import predict_documents, says_no_relation
from relations import test_pipeline as built
from relations.test_pipeline import TEXTS

members, pipeline_dir = built.members, built.pipeline_dir  # the session fixtures

# 张三 (PER) 北京 (LOC) | 李四 (PER) 清华大学 (ORG) | 王五 (PER) 中国 (LOC)
DOCUMENT = TEXTS[0] + TEXTS[1] + TEXTS[2]


def _rows(relations) -> set[tuple[int, int, int, int, str]]:
    return {(r.head.start, r.head.end, r.tail.start, r.tail.end, r.label) for r in relations}


def test_window_zero_is_piece_by_piece_prediction_at_document_offsets(pipeline_dir):
    pipeline = nerkit.load(pipeline_dir)
    pieces = split_sentences(DOCUMENT)
    assert len(pieces) == 3
    [result] = predict_documents(pipeline, [DOCUMENT], [pieces])
    alone = pipeline.predict([DOCUMENT[a:b] for a, b in pieces])
    moved = {
        (r.head.start + a, r.head.end + a, r.tail.start + a, r.tail.end + a, r.label)
        for (a, _), piece in zip(pieces, alone, strict=True)
        for r in piece.relations
    }
    assert _rows(result.relations) == moved and len(moved) == 3
    assert [(e.start, e.end) for e in result.entities] == [
        (e.start + a, e.end + a) for (a, _), piece in zip(pieces, alone) for e in piece.entities
    ]
    for entity in result.entities:
        assert DOCUMENT[entity.start : entity.end] == entity.text


def test_window_one_adds_the_pairs_of_neighbouring_pieces_once_each(pipeline_dir):
    pipeline = nerkit.load(pipeline_dir)
    pieces = split_sentences(DOCUMENT)
    [within] = predict_documents(pipeline, [DOCUMENT], [pieces])
    before = pipeline.pairs_classified
    [across] = predict_documents(pipeline, [DOCUMENT], [pieces], window=1)
    cross_pairs = pipeline.pairs_classified - before - 3  # less the three within-piece pairs
    # the typed schema allows PER -> LOC and PER -> ORG: 张三 -> 清华大学, 李四 -> 北京,
    # 李四 -> 中国, 王五 -> 清华大学; never 张三 -> 中国 (two pieces apart)
    assert cross_pairs == 4
    assert _rows(within.relations) <= _rows(across.relations)
    new = [r for r in across.relations if _rows([r]) - _rows(within.relations)]
    assert new and len(new) <= cross_pairs
    piece_of = [
        next(k for k, (a, b) in enumerate(pieces) if a <= e < b) for e in range(len(DOCUMENT))
    ]
    for relation in new:
        assert abs(piece_of[relation.head.start] - piece_of[relation.tail.start]) == 1
        for entity in (relation.head, relation.tail):
            assert DOCUMENT[entity.start : entity.end] == entity.text
    [wide] = predict_documents(pipeline, [DOCUMENT], [pieces], window=2)
    assert len(_rows(wide.relations)) >= len(_rows(across.relations))
    with pytest.raises(ValueError, match="window"):
        predict_documents(pipeline, [DOCUMENT], [pieces], window=-1)


def test_extract_pair_window_writes_relations_across_sentences(
    pipeline_dir, members, tmp_path, caplog
):
    source = tmp_path / "in.txt"
    source.write_text(DOCUMENT + "\n", encoding="utf-8")

    def run(window: int, name: str) -> list[dict]:
        options = ExtractOptions(workers=1, split_chars=12, pair_window=window)
        extract(pipeline_dir, [source], tmp_path / name, options, progress=False)
        return [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]

    pipeline = nerkit.load(pipeline_dir)
    pieces = split_sentences(DOCUMENT)
    [expected] = predict_documents(pipeline, [DOCUMENT], [pieces], window=1)
    with caplog.at_level("WARNING"):
        [row] = run(1, "across.jsonl")
    # the tiny relation model has no no-relation class: every cross pair gets a relation
    assert "trained without no-relation pairs" in caplog.text and not says_no_relation(pipeline)
    assert {(r["head"]["start"], r["head"]["end"], r["tail"]["start"], r["tail"]["end"],
             r["label"]) for r in row["relations"]} == _rows(expected.relations)  # fmt: skip
    assert len(row["relations"]) > len(run(0, "within.jsonl")[0]["relations"])
    result = CliRunner().invoke(app, ["extract", str(pipeline_dir), str(source), "-o",
                                      str(tmp_path / "cli.jsonl"), "--workers", "1",
                                      "--split-chars", "12", "--pair-window", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "cli.jsonl").read_text())["relations"] == row["relations"]
    with pytest.raises(NerkitError, match="pair_window is for pipelines"):
        extract(members[0], [source], tmp_path / "x.jsonl",
                ExtractOptions(workers=1, pair_window=1), progress=False)  # fmt: skip
    with pytest.raises(NerkitError, match="pair_window must be 0 or more"):
        ExtractOptions(pair_window=-1)


def test_with_workers_the_pair_window_is_checked_once_by_the_parent(
    pipeline_dir, members, tmp_path, caplog
):
    from nerkit.extract import run

    source = tmp_path / "in.txt"
    source.write_text(DOCUMENT + "\n", encoding="utf-8")
    options = ExtractOptions(workers=2, split_chars=12, pair_window=1)
    warning = "trained without no-relation pairs"
    with caplog.at_level("WARNING"):
        extract(pipeline_dir, [source], tmp_path / "out.jsonl", options, progress=False)
    assert caplog.text.count(warning) == 1  # the parent's (workers log elsewhere)
    caplog.clear()
    with caplog.at_level("WARNING"):  # what each worker process runs at its start
        run._init_worker(pipeline_dir, tmp_path / "parts", options)
    assert warning not in caplog.text and "error" not in run._WORKER
    run._WORKER.clear()
    with pytest.raises(NerkitError, match="pair_window is for pipelines"):  # before the pool
        extract(members[0], [source], tmp_path / "x.jsonl", options, progress=False)
