"""SemEval-2010 Task 8 JSON lines: token positions to offsets, direction, Other, errors."""

from __future__ import annotations

import json

import pytest

from nerkit.data.formats.semeval import (
    official_label,
    read_semeval,
    split_label,
    to_record,
    write_semeval,
)
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Relation, Span, Token

E = "ENTITY"
RECORDS = [
    {"token": ["the", "crane", "arm", "raises", "."], "h": {"name": "crane", "pos": [1, 2]},
     "t": {"name": "arm", "pos": [2, 3]}, "relation": "Component-Whole(e2,e1)"},
    {"token": ["a", "big", "storm", "caused", "a", "flood"], "h": {"name": "big storm",
     "pos": [1, 3]}, "t": {"name": "flood", "pos": [5, 6]}, "relation": "Cause-Effect(e1,e2)"},
    {"token": ["ada", "met", "bob"], "h": {"name": "ada", "pos": [0, 1]},
     "t": {"name": "bob", "pos": [2, 3]}, "relation": "Other"},
]  # fmt: skip


def write(tmp_path, records, name="train.txt"):
    path = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_token_positions_become_exact_character_offsets(tmp_path):
    crane, storm, other = read_semeval(write(tmp_path, RECORDS))
    assert crane.text == "the crane arm raises ."
    assert crane.spans == (Span(4, 9, E), Span(10, 13, E))
    assert crane.tokens[2] == Token("arm", 10, 13)
    assert storm.spans == (Span(2, 11, E), Span(21, 26, E))
    assert storm.mention(storm.spans[0]) == "big storm"
    assert other.meta == {"line": 3}


def test_direction_is_kept_in_head_and_tail_and_other_as_in_the_file(tmp_path):
    crane, storm, other = read_semeval(write(tmp_path, RECORDS))
    assert crane.relations == (Relation(1, 0, "Component-Whole"),)  # arm is part of the crane
    assert storm.relations == (Relation(0, 1, "Cause-Effect"),)
    assert other.relations == (Relation(0, 1, "Other"),)
    labels = [official_label(e, e.relations[0]) for e in (crane, storm, other)]
    assert labels == [r["relation"] for r in RECORDS]


def test_split_label():
    assert split_label("Entity-Origin(e2,e1)") == ("Entity-Origin", True)
    assert split_label("Other") == ("Other", False)
    with pytest.raises(ValueError, match=r"found 'Other\(e1,e2\)'"):
        split_label("Other(e1,e2)")


def test_write_then_read_gives_the_same_examples_and_file(tmp_path):
    path = write(tmp_path, RECORDS)
    examples = list(read_semeval(path))
    assert write_semeval(examples, tmp_path / "out.txt") == 3
    assert list(read_semeval(tmp_path / "out.txt")) == examples
    assert [to_record(e) for e in examples] == RECORDS


def bad(record, **change):
    return json.dumps({**record, **change})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (bad(RECORDS[0], h={"name": "crane", "pos": [1, 9]}), r'"h" token positions \[1, 9\] out'),
        (bad(RECORDS[0], t={"name": "army", "pos": [2, 3]}), r'"t" tokens \[2, 3\] are .arm. but'),
        (bad(RECORDS[0], relation="Part-Of(e1,e2)x"), r"expected 'Other' or 'Name\(e1,e2\)'"),
        (bad(RECORDS[0], h={"name": "arm", "pos": [2, 3]}, t={"name": "crane", "pos": [1, 2]}),
         r"expected e1 \(h\) .* to end before e2 \(t\)"),
        (bad(RECORDS[0], token=["the", ""]), r'expected "token" as a non-empty list'),
        (bad(RECORDS[0], h="crane"), r'expected "h" as'),
        (bad(RECORDS[0], token={"the": 1}), r'expected "token" as a non-empty list'),
        ('{"token": [', r"invalid JSON"),
        ("[1, 2]", r"expected a JSON object per line"),
    ],
)  # fmt: skip
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path, [RECORDS[0], "", line], name="test.txt")
    with pytest.raises(DataFormatError, match=r"test\.txt:3: " + message):
        list(read_semeval(path))


def test_writing_more_than_one_relation_is_refused(tmp_path):
    example = Example("a b", (Span(0, 1, E), Span(2, 3, E)),
                      relations=(Relation(0, 1, "Other"), Relation(1, 0, "Other")))  # fmt: skip
    with pytest.raises(NerkitError, match=r"two entities and one relation.*2 relations"):
        write_semeval([example], tmp_path / "out.txt")
