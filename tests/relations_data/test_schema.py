"""nerkit.data.schema: inference, allows, pruning, JSON round trip and validation errors."""

from __future__ import annotations

import json

import pytest

from nerkit.data.formats.deepke import read_deepke_re
from nerkit.data.schema import (
    AttributeType,
    RelationType,
    Schema,
    SchemaError,
    infer_schema,
    validate,
)
from nerkit.errors import ConfigError, DataFormatError
from nerkit.types import Attribute, Example, Relation, Span

BORN = Example(
    "张三生于北京，李四是他的朋友",
    (Span(0, 2, "PER"), Span(4, 6, "LOC"), Span(7, 9, "PER")),
    relations=(Relation(0, 1, "出生地"), Relation(0, 2, "朋友"), Relation(2, 0, "朋友"),
               Relation(2, 1, "unknown")),
)  # fmt: skip
HEIGHT = Example(
    "姚明，汉族，身高226厘米，2002年加盟",
    (Span(0, 2, "PER"),),
    attributes=(Attribute(0, "民族", 3, 5), Attribute(0, "身高", 8, 13),
                Attribute(0, "加盟", 14, 19)),
)  # fmt: skip


def test_infer_schema_collects_types_pairs_direction_and_value_types():
    schema = infer_schema([BORN, HEIGHT])
    assert schema.entity_types == ("PER", "LOC")
    born, friend, unknown = schema.relations
    assert born == RelationType("出生地", frozenset({("PER", "LOC")}), directed=True)
    assert friend == RelationType("朋友", frozenset({("PER", "PER")}), directed=False)
    assert unknown.name == "unknown" and schema.no_relation == ("unknown",)
    assert {a.name: a.value_type for a in schema.attributes} == {
        "民族": "text", "身高": "number", "加盟": "date"
    }  # fmt: skip
    assert schema.attributes[0].entity_types == frozenset({"PER"})


def test_allows_follows_direction_and_types():
    schema = infer_schema([BORN])
    assert schema.allows("PER", "出生地", "LOC")
    assert not schema.allows("LOC", "出生地", "PER")  # directed
    assert not schema.allows("PER", "出生地", "PER")
    assert not schema.allows("PER", "国籍", "LOC")  # unknown relation
    assert schema.allows("LOC", "unknown", "LOC")  # no-relation goes anywhere
    undirected = Schema(("A", "B"), (RelationType("near", frozenset({("A", "B")}), False),))
    assert undirected.allows("B", "near", "A")


def test_relations_between_prunes_candidate_pairs():
    schema = infer_schema([BORN])
    assert schema.relations_between("PER", "LOC") == ("出生地",)
    assert schema.relations_between("PER", "PER") == ("朋友",)
    assert schema.relations_between("LOC", "LOC") == ()  # unknown is not proposed


def test_an_empty_pair_set_means_any_types():
    assert RelationType("r").allows("X", "Y")
    assert Schema(attributes=(AttributeType("a"),)).allows_attribute("ANY", "a")


def test_json_round_trip():
    schema = infer_schema([BORN, HEIGHT])
    data = json.loads(json.dumps(schema.to_dict(), ensure_ascii=False))
    assert Schema.from_dict(data) == schema
    assert Schema.from_dict(data).to_dict() == schema.to_dict()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"entity_type": []}, r"unknown schema key\(s\) \['entity_type'\]"),
        ({"relations": [{"name": "r", "pair": []}]}, r"unknown schema relation key"),
        ({"relations": [{"pairs": []}]}, r"lacks the key\(s\) \['name'\]"),
        ({"relations": [{"name": "r", "pairs": [["A"]]}]}, r"expected pairs as \[\[subject"),
        ({"relations": [{"name": "r", "directed": "yes"}]}, r"directed must be true or false"),
        ({"attributes": [{"name": "a", "value_type": "int"}]}, r"value type 'int'; expected"),
        ({"relations": [{"name": "r"}, {"name": "r"}]}, r"each relation once.*\['r'\]"),
        ({"relations": {}}, r"expected schema 'relations' as a list"),
        ([], r"expected the schema as a JSON object"),
    ],
)
def test_from_dict_rejects_malformed_schemas(data, message):
    with pytest.raises(ConfigError, match=message):
        Schema.from_dict(data)


def test_validate_accepts_the_training_data_and_counts_examples():
    assert validate([BORN, HEIGHT], infer_schema([BORN, HEIGHT])) == 2


@pytest.mark.parametrize(
    ("example", "message"),
    [
        (Example("x", (Span(0, 1, "ORG"),)), r"entity type 'ORG' is not in the schema \(PER, L"),
        (Example("xy", (Span(0, 1, "PER"), Span(1, 2, "LOC")),
                 relations=(Relation(0, 1, "国籍"),)), r"relation '国籍' is not in the schema"),
        (Example("xy", (Span(0, 1, "PER"), Span(1, 2, "LOC")),
                 relations=(Relation(1, 0, "出生地"),)),
         r"relation '出生地' may not link a 'LOC' to a 'PER' entity"),
        (Example("xy", (Span(0, 1, "LOC"),), attributes=(Attribute(0, "民族", 1, 2),)),
         r"attribute '民族' is not allowed on a 'LOC' entity"),
    ],
)  # fmt: skip
def test_validate_without_a_file_names_the_example(example, message):
    with pytest.raises(SchemaError, match=r"example 2 \(id None\): " + message):
        validate([BORN, example], infer_schema([BORN, HEIGHT]))


def test_validate_names_file_and_line_of_the_offending_row(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text(
        "sentence,relation,head,head_offset,tail,tail_offset\n"
        "张三生于北京,出生地,张三,0,北京,4\n"
        "张三生于北京,国籍,张三,0,北京,4\n",
        encoding="utf-8",
    )
    schema = Schema(("ENTITY",), (RelationType("出生地"),))
    with pytest.raises(DataFormatError, match=r"test\.csv:3: relation '国籍' is not in the schema"):
        validate(read_deepke_re(path), schema, path=path)
