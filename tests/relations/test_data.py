"""Pair instances and entity markers: pair orders, negatives pruned by the schema, typed
markers from the input's own span labels, nested and far-apart entities."""

from __future__ import annotations

from nerkit.tasks.relations.config import RelationModelConfig
from nerkit.tasks.relations.data import marked_tokens, pair_instances
from nerkit.tasks.relations.task import model_schema
from nerkit.types import Example, Relation, Span
from relations.tiny import MULTI, NEGATIVES, SEMEVAL

EXAMPLE = Example("张三出生于北京", (Span(0, 2, "PER"), Span(5, 7, "LOC")), relations=(
    Relation(0, 1, "出生地"),))  # fmt: skip


def test_markers_surround_head_and_tail_in_either_order():
    config = RelationModelConfig()
    marked = marked_tokens(EXAMPLE, 0, 1, config)
    assert marked.tokens == ["<e1>", "张", "三", "</e1>", "出", "生", "于", "<e2>", "北", "京",
                             "</e2>"]  # fmt: skip
    assert (marked.head, marked.tail) == ((0, 3), (7, 10))
    reverse = marked_tokens(EXAMPLE, 1, 0, config)
    assert reverse.tokens[0] == "<e2>" and reverse.head == (7, 10)


def test_typed_markers_carry_the_span_labels_of_the_input():
    marked = marked_tokens(EXAMPLE, 0, 1, RelationModelConfig(markers="typed"))
    assert marked.tokens[0] == "<e1:PER>" and marked.tokens[7] == "<e2:LOC>"
    assert marked.tokens[3] == "</e1:PER>"


def test_symbol_markers_put_dollars_around_the_head_and_hashes_around_the_tail():
    marked = marked_tokens(EXAMPLE, 0, 1, RelationModelConfig(markers="symbols"))
    assert marked.tokens == ["$", "张", "三", "$", "出", "生", "于", "#", "北", "京", "#"]
    assert (marked.head, marked.tail) == ((0, 3), (7, 10))  # pooled at the opening symbol
    reverse = marked_tokens(EXAMPLE, 1, 0, RelationModelConfig(markers="symbols"))
    assert reverse.tokens[0] == "#" and reverse.tokens[7] == "$" and reverse.head == (7, 10)


def test_nested_and_identical_spans_keep_markers_well_nested():
    nested = Example("北京大学", (Span(0, 4, "ORG"), Span(0, 2, "LOC")))
    marked = marked_tokens(nested, 0, 1, RelationModelConfig())
    assert marked.tokens == ["<e1>", "<e2>", "北", "京", "</e2>", "大", "学", "</e1>"]
    same = marked_tokens(nested, 0, 0, RelationModelConfig())
    assert same.tokens[:2] == ["<e1>", "<e2>"] and same.tokens[-2:] == ["</e2>", "</e1>"]


def test_a_long_text_keeps_both_start_markers_within_max_length():
    text = "甲" + "中" * 40 + "乙"
    example = Example(text, (Span(0, 1, "X"), Span(41, 42, "X")))
    marked = marked_tokens(example, 1, 0, RelationModelConfig(max_length=10))
    assert len(marked.tokens) <= 10
    assert marked.tokens[marked.head[0]] == "<e1>" and marked.tokens[marked.tail[0]] == "<e2>"
    assert marked.tokens[marked.head[0] + 1] == "乙" and marked.tokens[marked.tail[0] + 1] == "甲"


def test_text_order_puts_the_direction_into_the_label():
    instances = pair_instances(SEMEVAL, RelationModelConfig(pair_order="text"))
    assert [i.labels for i in instances] == [
        ("Component-Whole(e1,e2)",),
        ("Component-Whole(e2,e1)",),
        ("Cause-Effect(e2,e1)",),
        ("Cause-Effect(e1,e2)",),
        ("Other",),
    ]
    assert all(i.head == 0 and i.tail == 1 for i in instances)  # e1 is the first span


def test_negative_pairs_are_the_unannotated_pairs_the_schema_allows():
    config = RelationModelConfig(negative_pairs=True)
    schema = model_schema(NEGATIVES, config)
    instances = pair_instances(NEGATIVES, config, schema, "no_relation")
    first = {(i.head, i.tail): i.labels for i in instances if i.example == 0}
    # the schema links PER -> LOC (居住地) and PER -> PER (会见); LOC -> PER pairs are pruned
    assert first == {(0, 2): ("居住地",), (1, 2): ("居住地",), (0, 1): ("no_relation",),
                     (1, 0): ("no_relation",)}  # fmt: skip
    second = {(i.head, i.tail): i.labels for i in instances if i.example == 1}
    assert second == {(0, 2): ("会见",), (2, 0): ("no_relation",), (0, 1): ("no_relation",),
                      (2, 1): ("no_relation",)}  # fmt: skip


def test_multi_label_keeps_every_label_and_drops_no_relation_ones():
    instances = pair_instances(MULTI, RelationModelConfig(multi_label=True))
    assert [i.labels for i in instances] == [("收购", "控股"), ("收购",), ("控股",), ()]
