"""Span formats (jsonl, cluener, doccano, label-studio, brat): round trips, checks, dispatch."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerkit.data.formats import FORMATS, detect_format, read, write
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Relation, Span

SPAN_FORMATS = ["jsonl", "cluener", "doccano", "label-studio", "brat"]
WITH_RELATIONS = {"jsonl", "doccano", "label-studio", "brat"}
_CHARS = st.sampled_from([*"ab Z9９Ａ中文。，、-é", " ", "\n", "\r\n", "\t", "😀", "𠀀", "\u3000"])


@st.composite
def documents(draw, relations: bool):
    text = "".join(draw(st.lists(_CHARS, max_size=25)))
    spans, i = [], 0
    while i < len(text):
        if draw(st.integers(0, 2)) == 0:
            end = draw(st.integers(i + 1, min(len(text), i + 5)))
            spans.append(Span(i, end, draw(st.sampled_from(["PER", "人名", "B-I"]))))
            i = end
        else:
            i += 1
    rels = ()
    if relations and len(spans) >= 2:
        pairs = st.tuples(st.integers(0, len(spans) - 1), st.integers(0, len(spans) - 1))
        rels = tuple(Relation(h, t, "rel") for h, t in draw(st.lists(pairs, max_size=3)))
    return Example(text, tuple(spans), None, rels, draw(st.sampled_from(["d1", "42"])))


def _round_trip(example: Example, format: str) -> list[Example]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / ("out" if format == "brat" else "out.json")
        assert write([example], path, format) == 1
        return list(read(path, format))


@pytest.mark.parametrize("format", SPAN_FORMATS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_documents_round_trip_exactly(format, data):
    example = data.draw(documents(relations=format in WITH_RELATIONS))
    assert _round_trip(example, format) == [example]


@pytest.mark.parametrize("format", SPAN_FORMATS)
def test_empty_document_and_overlaps_are_kept(format):
    nested = Example("北京大学", (Span(0, 2, "LOC"), Span(0, 4, "ORG")), id="7")
    empty = Example("", id="8")
    (back,) = _round_trip(nested, format)
    assert back == nested and back.meta["overlaps"] is True
    assert _round_trip(empty, format) == [empty]


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_cluener_inclusive_ends_and_mention_check(tmp_path):
    good = {"text": "浙商银行叶老桂", "label": {"company": {"浙商银行": [[0, 3]]}}}
    bad = {"text": "浙商银行叶老桂", "label": {"name": {"叶老桂": [[4, 5]]}}}
    lines = json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(bad, ensure_ascii=False)
    path = _write(tmp_path, "train.json", lines)
    with pytest.raises(DataFormatError, match=r"train\.json:2: span \[4, 6\) name covers '叶老'"):
        list(read(path, "cluener"))
    assert next(iter(read(path, "cluener"))).spans == (Span(0, 4, "company"),)


@pytest.mark.parametrize(
    ("format", "line", "message"),
    [
        ("jsonl", '{"text": "abc", "spans": [[1, 9, "X"]]}', r"span offsets \[1, 9\) out of range"),
        ("jsonl", '{"text": "abc", "spans": [[1, 9', "invalid JSON"),
        ("jsonl", '{"spans": []}', 'expected an object with a "text" string'),
        ("doccano", '{"text": "ab", "label": [[0, 1]]}', r"expected \"label\" as \[\[start"),
        ("doccano", '{"text": "ab", "entities": [], "relations": [{"from_id": 1, "to_id": 2, '
         '"type": "r"}]}', "relation .* names an entity id that is not in this line"),
    ],
)  # fmt: skip
def test_malformed_lines_report_file_and_line(tmp_path, format, line, message):
    path = _write(tmp_path, "data.jsonl", '{"text": ""}\n' + line + "\n")
    with pytest.raises(DataFormatError, match=r"data\.jsonl:2: " + message):
        list(read(path, format))


def test_bom_crlf_and_invalid_bytes(tmp_path):
    path = _write(tmp_path, "a.jsonl", '\ufeff{"text": "ab", "spans": [[0, 1, "X"]]}\r\n'.encode())
    assert list(read(path, "jsonl")) == [Example("ab", (Span(0, 1, "X"),))]
    path = _write(tmp_path, "b.jsonl", b'{"text": ""}\n{"text": "\xff"}\n')
    with pytest.raises(DataFormatError, match=r"b\.jsonl:2: expected UTF-8"):
        list(read(path, "jsonl"))
    assert list(read(path, "jsonl", errors="replace"))[1].text == "\ufffd"


def test_jsonl_accepts_entities_objects(tmp_path):
    record = {"text": "Ada", "entities": [{"start": 0, "end": 3, "label": "PER"}], "id": 5}
    path = _write(tmp_path, "e.jsonl", json.dumps(record))
    assert list(read(path, "jsonl")) == [Example("Ada", (Span(0, 3, "PER"),), id="5")]


LS_TASKS = [
    {
        "id": 3,
        "data": {"text": "张三在北京"},
        "annotations": [
            {"completed_by": 1, "updated_at": "2024-01-02", "result": [
                {"id": "a", "type": "labels", "from_name": "label", "to_name": "text",
                 "value": {"start": 0, "end": 2, "text": "张三", "labels": ["PER"]}},
                {"id": "b", "type": "labels", "from_name": "label", "to_name": "text",
                 "value": {"start": 3, "end": 5, "text": "北京", "labels": ["LOC"]}},
                {"type": "relation", "from_id": "a", "to_id": "b", "labels": ["in"]},
            ]},
            {"completed_by": 2, "updated_at": "2024-01-01", "result": []},
        ],
        "predictions": [{"result": [
            {"id": "p", "type": "labels", "value": {"start": 0, "end": 1, "labels": ["X"]}}]}],
    }
]  # fmt: skip


def test_label_studio_latest_annotation_annotator_and_predictions(tmp_path):
    path = _write(tmp_path, "export.json", json.dumps(LS_TASKS, ensure_ascii=False, indent=1))
    (latest,) = read(path, "label-studio")
    assert latest.spans == (Span(0, 2, "PER"), Span(3, 5, "LOC"))
    assert latest.relations == (Relation(0, 1, "in"),) and latest.id == "3"
    assert next(iter(read(path, "label-studio", annotator=2))).spans == ()
    assert next(iter(read(path, "label-studio", use_predictions=True))).spans == (Span(0, 1, "X"),)


def test_label_studio_mention_mismatch_names_the_task_line(tmp_path):
    tasks = [
        {"data": {"text": "x"}},
        {
            "data": {"text": "😀ab"},
            "annotations": [
                {
                    "result": [
                        {
                            "type": "labels",
                            "value": {"start": 2, "end": 3, "text": "a", "labels": ["L"]},
                        }
                    ]
                }
            ],
        },
    ]
    path = _write(tmp_path, "ls.json", json.dumps(tasks, indent=1))
    with pytest.raises(DataFormatError, match=r"ls\.json:7: span \[2, 3\) L covers 'b'.*UTF-16"):
        list(read(path, "label-studio"))


def test_brat_discontinuous_relations_and_other_lines(tmp_path):
    (tmp_path / "d.txt").write_text("New-York and Paris", encoding="utf-8")
    ann = (
        "T1\tLOC 0 3;4 8\tNew York\nT2\tLOC 13 18\tParis\n"
        "R1\tnear Arg1:T2 Arg2:T1\n#1\tNote T2\tx\n"
    )
    (tmp_path / "d.ann").write_text(ann, encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"d\.ann:1: .*pass discontinuous='merge'"):
        list(read(tmp_path, "brat"))
    (merged,) = read(tmp_path / "d.txt", "brat", discontinuous="merge")
    assert merged.spans == (Span(0, 8, "LOC"), Span(13, 18, "LOC"))
    assert merged.relations == (Relation(1, 0, "near"),)
    assert merged.meta["brat_other"] == ["#1\tNote T2\tx"]
    (split,) = read(tmp_path, "brat", discontinuous="split")
    assert [s.end for s in split.spans] == [3, 8, 18]
    out = tmp_path / "out"
    write([merged], out, "brat")
    assert (out / "d.ann").read_text(encoding="utf-8").endswith("#1\tNote T2\tx\n")


def test_brat_mention_check(tmp_path):
    (tmp_path / "d.txt").write_text("abc", encoding="utf-8")
    (tmp_path / "d.ann").write_text("T1\tX 0 2\tabc\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"d\.ann:1: span \[0, 2\) covers 'ab'"):
        list(read(tmp_path, "brat"))


def test_detect_format(tmp_path):
    cases = {
        "a.conll": "EU B-ORG\nrejects O\n",
        "b.json": '{"text": "x", "label": {}}\n',
        "c.jsonl": '{"text": "x", "spans": []}\n',
        "d.jsonl": '{"text": "x", "label": [[0, 1, "X"]]}\n',
        "e.json": '[{"data": {"text": "x"}}]',
    }
    expected = ["conll", "cluener", "jsonl", "doccano", "label-studio"]
    for (name, content), fmt in zip(cases.items(), expected, strict=True):
        assert detect_format(_write(tmp_path, name, content)) == fmt, name
    (tmp_path / "br").mkdir()
    with pytest.raises(NerkitError, match=r"holds no brat \.txt/\.ann files"):
        detect_format(tmp_path / "br")  # R16: an empty directory is not taken for brat
    (tmp_path / "br" / "x.txt").write_text("x", encoding="utf-8")
    assert detect_format(tmp_path / "br") == "brat"
    with pytest.raises(NerkitError, match=r"cannot tell the format.*conll, cluener"):
        detect_format(_write(tmp_path, "f.txt", "just prose\n"))
    with pytest.raises(NerkitError, match="unknown data format 'xml'"):
        read(tmp_path / "a.conll", "xml")
    assert len(FORMATS) == 10  # + deepke-re, deepke-ae, finre, semeval (tests/relations_data)


_BOM_CRLF_FILES = {
    "jsonl": '{"text": "张三", "spans": [[0, 2, "PER"]]}',
    "cluener": '{"text": "张三", "label": {"PER": {"张三": [[0, 1]]}}}',
    "doccano": '{"text": "张三", "label": [[0, 2, "PER"]]}',
    "label-studio": '[\r\n{"data": {"text": "张三"}, "annotations": [{"result": [{"type": "labels",'
    ' "value": {"start": 0, "end": 2, "text": "张三", "labels": ["PER"]}}]}]}\r\n]',
}


@pytest.mark.parametrize("format", sorted(_BOM_CRLF_FILES))
def test_every_json_format_accepts_bom_and_crlf(tmp_path, format):
    path = _write(tmp_path, "bom.json", ("\ufeff" + _BOM_CRLF_FILES[format] + "\r\n").encode())
    assert [e.spans for e in read(path, format)] == [(Span(0, 2, "PER"),)]


@pytest.mark.parametrize("format", [*sorted(_BOM_CRLF_FILES), "brat"])
def test_every_format_names_the_line_of_an_invalid_byte(tmp_path, format):
    content = b'{"text": ""}\n\xff\n' if format != "label-studio" else b"[\n\n\xff]"
    if format == "brat":
        _write(tmp_path, "d.txt", "ab")
        path = _write(tmp_path, "d.ann", b"T1\tX 0 1\ta\nT2\tX 1 2\t\xff\n")
    else:
        path = _write(tmp_path, "bad.json", content)
    with pytest.raises(DataFormatError, match=rf"{path.name}:[23]: expected UTF-8"):
        list(read(path, format))


def test_brat_keeps_crlf_in_the_text_so_offsets_stay_valid(tmp_path):
    (tmp_path / "d.txt").write_bytes("\ufeffa\r\nBerlin".encode())
    (tmp_path / "d.ann").write_bytes(b"T1\tLOC 3 9\tBerlin\r\n")
    (example,) = read(tmp_path / "d.ann", "brat")
    assert example.text == "a\r\nBerlin" and example.spans == (Span(3, 9, "LOC"),)
