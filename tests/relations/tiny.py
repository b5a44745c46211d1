"""Tiny hand-made relation corpora (Chinese and English) and configs that overfit in a second."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nerkit.types import Example, Relation, Span


def _example(text: str, mentions: list[tuple[str, str]], relations: list[tuple[int, int, str]]):
    spans = []
    for mention, label in mentions:
        start = text.index(mention)
        spans.append(Span(start, start + len(mention), label))
    return Example(text, tuple(spans), relations=tuple(Relation(*r) for r in relations))


# annotated pair order: the head and tail are given, the model names the relation
PAIRS = [
    _example("张三出生于北京。", [("张三", "PER"), ("北京", "LOC")], [(0, 1, "出生地")]),
    _example("李四毕业于清华大学。", [("李四", "PER"), ("清华大学", "ORG")], [(0, 1, "毕业院校")]),
    _example("王五的国籍是中国。", [("王五", "PER"), ("中国", "LOC")], [(0, 1, "国籍")]),
    _example("《星河》的导演是赵六。", [("星河", "WORK"), ("赵六", "PER")], [(0, 1, "导演")]),
    _example("Ada was born in London .", [("Ada", "PER"), ("London", "LOC")], [(0, 1, "出生地")]),
    _example("Bob studied at MIT .", [("Bob", "PER"), ("MIT", "ORG")], [(0, 1, "毕业院校")]),
]

# one pair holds two relations (FinRE-style multi-label), one only `unknown`
MULTI = [
    _example(
        "甲公司收购并控股乙公司",
        [("甲公司", "ORG"), ("乙公司", "ORG")],
        [(0, 1, "收购"), (0, 1, "控股")],
    ),
    _example("丙公司收购丁公司", [("丙公司", "ORG"), ("丁公司", "ORG")], [(0, 1, "收购")]),
    _example("戊公司控股己公司", [("戊公司", "ORG"), ("己公司", "ORG")], [(0, 1, "控股")]),
    _example("庚公司和辛公司", [("庚公司", "ORG"), ("辛公司", "ORG")], [(0, 1, "unknown")]),
]

# SemEval-style: the direction must be predicted (pair_order: text)
SEMEVAL = [
    _example(
        "the engine of the car failed .",
        [("engine", "E"), ("car", "E")],
        [(0, 1, "Component-Whole")],
    ),
    _example(
        "the car has a big engine .", [("car", "E"), ("engine", "E")], [(1, 0, "Component-Whole")]
    ),
    _example(
        "the smoke came from the fire .", [("smoke", "E"), ("fire", "E")], [(1, 0, "Cause-Effect")]
    ),
    _example(
        "the fire caused a lot of smoke .",
        [("fire", "E"), ("smoke", "E")],
        [(0, 1, "Cause-Effect")],
    ),
    _example("a man and a dog walked .", [("man", "E"), ("dog", "E")], [(0, 1, "Other")]),
]

# three entities, one annotated pair: with negative_pairs the others are no_relation
NEGATIVES = [
    _example(
        "张三和李四住在北京。",
        [("张三", "PER"), ("李四", "PER"), ("北京", "LOC")],
        [(0, 2, "居住地"), (1, 2, "居住地")],
    ),
    _example(
        "王五在上海见到赵六。",
        [("王五", "PER"), ("上海", "LOC"), ("赵六", "PER")],
        [(0, 2, "会见")],
    ),
]


def write_examples(directory: Path, examples: list[Example], name: str = "t") -> Path:
    """Write examples as nerkit JSON lines; return the file."""
    path = directory / f"{name}.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for e in examples:
            record = {"text": e.text, "spans": [[s.start, s.end, s.label] for s in e.spans],
                      "relations": [[r.head, r.tail, r.label] for r in e.relations]}  # fmt: skip
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def tiny_relation_config(
    train: Path, encoder: dict[str, Any] | None = None, **model: Any
) -> dict[str, Any]:
    """Return a relations config that overfits `train` (dev = train) quickly."""
    return {
        "task": "relations",
        "data": {"train": str(train), "dev": str(train), "format": "jsonl"},
        "model": {
            "features": {"token_dim": 16, "dropout": 0.0},
            "encoder": encoder or {"kind": "bilstm", "hidden_size": 16, "dropout": 0.0},
            "dropout": 0.0,
            **model,
        },
        "train": {"epochs": 30, "lr": 0.02, "batch_size": 4, "patience": 0, "num_threads": 1,
                  "seed": 3},
    }  # fmt: skip


def bare(examples: list[Example]) -> list[Example]:
    """Return the examples without their relations (what a user passes to predict)."""
    return [Example(e.text, e.spans) for e in examples]


def triples(examples: list[Example]) -> list[set[tuple[str, str, str]]]:
    """Return each example's relations as (head text, tail text, label), no-relation excluded."""
    skip = {"Other", "unknown", "no_relation"}
    return [
        {(e.mention(e.spans[r.head]), e.mention(e.spans[r.tail]), r.label)
         for r in e.relations if r.label not in skip}
        for e in examples
    ]  # fmt: skip


def predicted_triples(found: list[list[Any]]) -> list[set[tuple[str, str, str]]]:
    """Return the predictor's relations as (head text, tail text, label) sets."""
    return [{(r.head.text, r.tail.text, r.label) for r in relations} for relations in found]
