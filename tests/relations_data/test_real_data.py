"""Slow: read the RE/AE corpora in ../shared/data and check the counts of each SOURCE.md.

Skipped when the shared data directory is absent. Run with ``pytest -m slow tests/relations_data``.
Mentions are checked against the raw files, parsed here independently of the readers.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict

import pytest

from nerkit.data.formats.deepke import (
    read_deepke_ae,
    read_deepke_re,
    read_deepke_schema,
    write_deepke_ae,
    write_deepke_re,
)
from nerkit.data.formats.finre import read_finre, write_finre
from nerkit.data.formats.semeval import official_label, read_semeval, write_semeval
from nerkit.data.schema import infer_schema, validate

pytestmark = pytest.mark.slow

SPLITS = ("train", "valid", "test")
# SOURCE.md: relation rows per split, and per-relation counts
DEEPKE_RE = {
    "train": {"出生地": 401, "连载网站": 400, "导演": 400, "国籍": 400, "毕业院校": 400,
              "所属专辑": 400, "出品公司": 326, "主持人": 123, "祖籍": 95, "所在城市": 55},
    "valid": {"所在城市": 345, "祖籍": 305, "主持人": 277, "出品公司": 73},
    "test": {name: 100 for name in ("导演", "国籍", "祖籍", "主持人", "出生地", "所在城市",
                                    "所属专辑", "连载网站", "出品公司", "毕业院校")},
}  # fmt: skip
# SOURCE.md: per-attribute counts and entity_offset = -1 rows; examples measured here
DEEPKE_AE = {
    "train": ({"民族": 6389, "字": 1558, "朝代": 1896, "身高": 1632, "创始人": 348,
               "上映时间": 1992}, 18, 12_636),
    "valid": ({"民族": 1436, "字": 339, "朝代": 419, "身高": 393, "创始人": 81,
               "上映时间": 463}, 2, 2_860),
    "test": ({"民族": 2776, "字": 658, "朝代": 851, "身高": 644, "创始人": 151,
              "上映时间": 841}, 4, 5_373),
}  # fmt: skip
# SOURCE.md: lines, sentences, labels used, unknown, multi-label pairs, of them with unknown;
# measured here: exact duplicate lines, ambiguous head/tail mentions, and for the "first"
# policy overlapping and self pairs ("nearest" has none of either)
FINRE_KEYS = ("lines", "sentences", "labels", "unknown", "multi", "multi_unknown",
              "duplicates", "ambiguous", "overlapping", "self_pairs")  # fmt: skip
FINRE = {
    "train": dict(zip(FINRE_KEYS, (13_486, 6_140, 44, 3_613, 1_150, 284, 6, 3_714, 728, 6))),
    "valid": dict(zip(FINRE_KEYS, (1_489, 677, 42, 384, 134, 30, 0, 420, 100, 1))),
    "test": dict(zip(FINRE_KEYS, (3_727, 1_677, 44, 1_005, 360, 88, 2, 1_012, 216, 1))),
}
SEMEVAL_CLASSES = {  # SOURCE.md, direction ignored: (train + val, test)
    "Cause-Effect": (1003, 328), "Component-Whole": (941, 312), "Content-Container": (540, 192),
    "Entity-Destination": (845, 292), "Entity-Origin": (716, 258),
    "Instrument-Agency": (504, 156), "Member-Collection": (690, 233),
    "Message-Topic": (634, 261), "Product-Producer": (717, 231), "Other": (1410, 454),
}  # fmt: skip


def raw_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


@pytest.mark.parametrize("split", SPLITS)
def test_deepke_re_counts_and_mentions(shared_data, split):
    folder = shared_data / "deepke_re_zh"
    types = folder / "relation.csv"
    examples = list(read_deepke_re(folder / f"{split}.csv", types=types))
    relations = [(e, r) for e in examples for r in e.relations]
    assert len(examples) == len(relations) == sum(DEEPKE_RE[split].values())
    assert Counter(r.label for _, r in relations) == DEEPKE_RE[split]
    rows = raw_csv(folder / f"{split}.csv")
    found = [
        [e.text, r.label, e.mention(head := e.spans[r.head]), str(head.start),
         e.mention(tail := e.spans[r.tail]), str(tail.start)]
        for e, r in relations
    ]  # fmt: skip
    assert found == rows
    schema = read_deepke_schema(types)
    assert validate(examples, schema, path=folder / f"{split}.csv") == len(examples)


@pytest.mark.parametrize("split", SPLITS)
def test_deepke_ae_counts_and_mentions(shared_data, split):
    path = shared_data / "deepke_ae_zh" / f"{split}.csv"
    per_name, searched, n_examples = DEEPKE_AE[split]
    examples = list(read_deepke_ae(path))
    assert len(examples) == n_examples
    assert Counter(a.name for e in examples for a in e.attributes) == per_name
    assert sum(e.meta.get("searched_offsets", 0) for e in examples) == searched
    rows = raw_csv(path)
    found = [(e.text, a.name, e.mention(e.spans[a.entity]), e.attribute_value(a), a.start)
             for e in examples for a in e.attributes]  # fmt: skip
    assert len(found) == len(rows)
    for (text, name, entity, value, start), row in zip(found, rows, strict=True):
        assert (text, name, value, start) == (row[0], row[1], row[4], int(row[5]))
        # the entity is the file's string, up to letter case where the file says -1
        assert entity == row[2] if row[3] != "-1" else entity.casefold() == row[2].casefold()
    assert {a.name: a.value_type for a in infer_schema(examples).attributes}["身高"] == "number"


def finre_lines(path):
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n").split("\t") for line in handle if line.strip()]


@pytest.mark.parametrize("policy", ["nearest", "first"])
@pytest.mark.parametrize("split", SPLITS)
def test_finre_counts_ambiguity_and_mentions(shared_data, split, policy):
    path = shared_data / "finre" / f"{split}.txt"
    want = FINRE[split]
    examples = list(read_finre(path, offsets=policy))
    assert len(examples) == want["sentences"]
    meta: Counter[str] = Counter()
    for example in examples:
        meta.update({k: v for k, v in example.meta.items() if isinstance(v, int) and k != "line"})
    assert sum(len(e.relations) for e in examples) == want["lines"] - want["duplicates"]
    assert meta["duplicate_rows"] == want["duplicates"]
    assert meta["ambiguous_mentions"] == want["ambiguous"]
    assert meta["overlapping_pairs"] == (want["overlapping"] if policy == "first" else 0)
    assert meta["self_pairs"] == (want["self_pairs"] if policy == "first" else 0)
    labels = Counter(r.label for e in examples for r in e.relations)
    assert len(labels) == want["labels"] and labels["unknown"] == want["unknown"]
    pair_labels = defaultdict(set)
    for k, example in enumerate(examples):
        for r in example.relations:
            pair_labels[k, r.head, r.tail].add(r.label)
    assert sum(len(v) > 1 for v in pair_labels.values()) == want["multi"]
    assert sum(len(v) > 1 and "unknown" in v for v in pair_labels.values()) == want["multi_unknown"]
    found = {(e.mention(e.spans[r.head]), e.mention(e.spans[r.tail]), r.label, e.text)
             for e in examples for r in e.relations}  # fmt: skip
    assert found == {tuple(line) for line in finre_lines(path)}


def test_semeval_counts_labels_and_mentions(shared_data):
    folder = shared_data / "semeval2010_task8"
    classes: dict[str, Counter[str]] = {"train": Counter(), "test": Counter()}
    for split, name in (("train", "train"), ("val", "train"), ("test", "test")):
        examples = list(read_semeval(folder / f"{split}.txt"))
        with open(folder / f"{split}.txt", encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle if line.strip()]
        assert len(examples) == len(records)
        for example, record in zip(examples, records, strict=True):
            (relation,) = example.relations
            assert official_label(example, relation) == record["relation"]
            assert [example.mention(s) for s in example.spans] == [
                record["h"]["name"], record["t"]["name"]
            ]  # fmt: skip
        classes[name].update(e.relations[0].label for e in examples)
        if split in ("train", "val"):
            directed = {official_label(e, e.relations[0]) for e in examples}
            assert len(directed) == (18 if split == "train" else 19)
    assert sum(classes["train"].values()) == 8000 and sum(classes["test"].values()) == 2717
    assert classes["train"] == {k: v[0] for k, v in SEMEVAL_CLASSES.items()}
    assert classes["test"] == {k: v[1] for k, v in SEMEVAL_CLASSES.items()}


@pytest.mark.parametrize(
    ("name", "read", "write"),
    [
        ("deepke_re_zh/test.csv", read_deepke_re, write_deepke_re),
        ("deepke_ae_zh/train.csv", read_deepke_ae, write_deepke_ae),
        ("finre/train.txt", read_finre, write_finre),
        ("semeval2010_task8/test.txt", read_semeval, write_semeval),
    ],
)
def test_real_files_round_trip(shared_data, tmp_path, name, read, write):
    examples = list(read(shared_data / name))
    assert write(examples, tmp_path / "out") == len(examples)
    assert list(read(tmp_path / "out")) == examples
