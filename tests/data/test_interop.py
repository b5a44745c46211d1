"""The shapes other tools write (I1-I13 of ../shared/research/interop-check.md), as small
fixtures of our own; tests/data/test_interop_shared.py reads the tools' own files (slow).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nerkit.cli import app
from nerkit.data.formats import detect_format, read, write
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Attribute, Example, Relation, Span

runner = CliRunner()


def _write(path: Path, content: object) -> Path:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def _region(rid: str, start: int, end: int, text: str, *labels: str) -> dict:
    value = {"start": start, "end": end, "text": text, "labels": list(labels)}
    return {"id": rid, "from_name": "l", "to_name": "text", "type": "labels", "value": value}


def _task(text: str, *result: dict, key: str = "annotations") -> dict:
    return {"id": 1, "data": {"text": text}, key: [{"result": list(result)}]}


def test_i1_label_studio_escaped_line_breaks_in_the_mention_are_accepted(tmp_path):
    text = "🐱 Warning:\n🐱 This is\r\na test"
    end = len(text)
    task = _task(text, _region("r", 2, end, "Warning:\\n🐱 This is\\n\\na test", "region"))
    (example,) = read(_write(tmp_path / "ls.json", [task]), "label-studio")
    assert example.spans == (Span(2, end, "region"),)
    wrong = _task("ab\ncd", _region("r", 0, 5, "ab\\ncx", "X"))
    with pytest.raises(DataFormatError, match=r"covers 'ab\\ncd'.*end-exclusive code-point"):
        list(read(_write(tmp_path / "bad.json", [wrong]), "label-studio"))


def test_i2_label_studio_relation_direction_and_missing_or_several_labels(tmp_path):
    regions = [_region("a", 0, 1, "A", "X"), _region("b", 2, 3, "B", "Y")]
    links = [
        {"type": "relation", "from_id": "a", "to_id": "b", "direction": "right", "labels": []},
        {"type": "relation", "from_id": "a", "to_id": "b", "direction": "left", "labels": ["p"]},
        {"type": "relation", "from_id": "a", "to_id": "b", "direction": "bi", "labels": ["q", "r"]},
    ]
    path = _write(tmp_path / "ls.json", [_task("A B", *regions, *links)])
    (example,) = read(path, "label-studio")
    assert example.relations == (
        Relation(0, 1, "relation"),
        Relation(1, 0, "p"),
        Relation(0, 1, "q"),
        Relation(1, 0, "q"),
        Relation(0, 1, "r"),
        Relation(1, 0, "r"),
    )
    (named,) = read(path, "label-studio", relation_label="linked")
    assert named.relations[0].label == "linked"
    write([example], tmp_path / "back.json", "label-studio")
    result = json.loads((tmp_path / "back.json").read_text(encoding="utf-8"))[0]
    directions = [r["direction"] for r in result["annotations"][0]["result"] if "direction" in r]
    assert directions == ["right", "right", "bi", "bi"]  # a relation and its reverse are "bi"
    assert next(iter(read(tmp_path / "back.json", "label-studio"))) == example


def test_i2_a_region_with_several_labels_gives_one_span_each(tmp_path):
    path = _write(tmp_path / "ls.json", [_task("Ada", _region("a", 0, 3, "Ada", "PER", "X"))])
    assert next(iter(read(path, "label-studio"))).spans == (Span(0, 3, "PER"), Span(0, 3, "X"))


RELATED = Example("ab", (Span(0, 1, "X"), Span(1, 2, "Y")), relations=(Relation(0, 1, "r"),))
ATTRIBUTED = Example("ab", (Span(0, 1, "X"),), attributes=(Attribute(0, "colour", 1, 2),))


@pytest.mark.parametrize("format", ["conll", "cluener"])
def test_i3_writers_that_cannot_hold_relations_refuse_unless_told_to_drop(tmp_path, format):
    target = tmp_path / "out"
    options = {"tokenize_mode": "char"} if format == "conll" else {}
    with pytest.raises(NerkitError, match=rf"has 1 relations, which the {format} format cannot"):
        write([RELATED], target, format, **options)
    assert not target.exists()
    assert write([RELATED], target, format, drop_unsupported=True, **options) == 1
    (back,) = read(target, format)
    assert [s.label for s in back.spans] == ["X", "Y"] and back.relations == ()


@pytest.mark.parametrize("format", ["conll", "cluener", "doccano", "label-studio", "brat"])
def test_i3_attributes_are_refused_too_and_kept_by_jsonl(tmp_path, format):
    with pytest.raises(NerkitError, match="has 1 attributes"):
        write([ATTRIBUTED], tmp_path / "out", format)
    write([ATTRIBUTED], tmp_path / "a.jsonl", "jsonl")
    assert next(iter(read(tmp_path / "a.jsonl", "jsonl"))).attributes == ATTRIBUTED.attributes


def test_i3_cli_convert_refuses_then_drops(tmp_path):
    write([RELATED], tmp_path / "r.jsonl", "jsonl")
    args = ["convert", str(tmp_path / "r.jsonl"), str(tmp_path / "r.json"), "--to", "cluener"]
    assert "--drop-unsupported" in str(runner.invoke(app, args).exception)
    assert runner.invoke(app, [*args, "--drop-unsupported"]).exit_code == 0


def test_i4_cli_reads_label_studio_predictions_and_one_annotator(tmp_path, caplog):
    predicted = _task("Ada", _region("p", 0, 3, "Ada", "PER"), key="predictions")
    path = _write(tmp_path / "tasks.json", [predicted])
    with caplog.at_level(logging.WARNING):
        assert [e.spans for e in read(path, "label-studio")] == [()]
    assert "1 tasks have predictions but no annotation" in caplog.text
    result = runner.invoke(app, ["stats", str(path), "--use-predictions", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["entities"] == 1
    task = _task("Ada", _region("a", 0, 3, "Ada", "PER"))
    task["annotations"][0]["completed_by"] = {"id": 7, "email": "x@y"}
    path = _write(tmp_path / "two.json", [task])
    for who, entities in (("x@y", 1), ("8", 0)):
        result = runner.invoke(app, ["stats", str(path), "--annotator", who, "--json"])
        assert json.loads(result.output)["entities"] == entities


@pytest.mark.parametrize(
    ("text", "span", "tags"),
    [
        ("We gave Jane Smith the ball.", Span(7, 18, "P"), "O O B-P I-P O O O"),  # ' Jane Smith'
        ("We gave Jane Smith the ball.", Span(8, 19, "P"), "O O B-P I-P O O O"),  # 'Jane Smith '
        ("We gave Jane Smith the ball.", Span(9, 12, "P"), "O O B-P O O O O"),  # 'ane'
    ],
)
def test_i5_snap_spans_trims_and_widens_as_label_studio_converter_does(tmp_path, text, span, tags):
    target = tmp_path / "out.conll"
    with pytest.raises(NerkitError, match="--snap-spans"):
        write([Example(text, (span,))], target, "conll")
    write([Example(text, (span,))], target, "conll", snap_spans=True)
    lines = target.read_text(encoding="utf-8").split("\n\n")[0].split("\n")
    assert " ".join(line.split()[-1] for line in lines) == tags


def test_i6_brat_fragments_split_at_line_breaks_are_one_span_and_written_as_brat_does(tmp_path):
    (tmp_path / "d.txt").write_text("This is\nan example", encoding="utf-8")
    (tmp_path / "d.ann").write_text("T1\tToken 5 7;8 10\tis an\n", encoding="utf-8")
    (example,) = read(tmp_path, "brat")  # no discontinuous= needed: only whitespace between
    assert example.spans == (Span(5, 10, "Token"),)
    out = tmp_path / "out"
    write([Example("This is\nan\texample", (Span(5, 18, "Token"),), id="d")], out, "brat")
    assert (out / "d.ann").read_text(
        encoding="utf-8"
    ) == "T1\tToken 5 7;8 10;11 18\tis an example\n"
    assert next(iter(read(out, "brat"))).spans == (Span(5, 18, "Token"),)


def test_i6_split_fragments_keep_their_t_line_and_the_event_lines(tmp_path):
    (tmp_path / "d.txt").write_text("New-York and Paris", encoding="utf-8")
    ann = "T1\tLOC 0 3;4 8\tNew York\nT2\tMove 9 12\tand\nE1\tMove:T2 To:T1\n"
    (tmp_path / "d.ann").write_text(ann, encoding="utf-8")
    (split,) = read(tmp_path, "brat", discontinuous="split")
    assert split.spans == (Span(0, 3, "LOC"), Span(4, 8, "LOC"), Span(9, 12, "Move"))
    write([split], tmp_path / "out", "brat")
    assert (tmp_path / "out" / "d.ann").read_text(encoding="utf-8") == ann


def test_i6_cli_passes_discontinuous(tmp_path):
    (tmp_path / "d.txt").write_text("New-York", encoding="utf-8")
    (tmp_path / "d.ann").write_text("T1\tLOC 0 3;4 8\tNew York\n", encoding="utf-8")
    failed = runner.invoke(app, ["stats", str(tmp_path)])
    assert "--discontinuous merge|split" in str(failed.exception)
    result = runner.invoke(app, ["stats", str(tmp_path), "--discontinuous", "split", "--json"])
    assert json.loads(result.output)["entities"] == 2


DOCCANO_SHAPES = {
    # I7a: the first record has nothing to tell; the second does
    "rel_after_empty.jsonl": [
        {"text": "x", "entities": [], "relations": []},
        {"text": "ab", "entities": [{"id": 4, "start_offset": 0, "end_offset": 1, "label": "X"}],
         "relations": []},
    ],
    # I7b: doccano <= 1.6 (and flair's fixture): the text under "data"
    "data_key.jsonl": [{"id": 101319, "data": "This is New Berlin", "label": [[8, 18, "LOC"]]}],
    # I7c: intent/slot export
    "intent.jsonl": [{"text": "Find Tacoma", "entities": [[5, 11, "City"]], "cats": ["flight"]}],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DOCCANO_SHAPES))
def test_i7_doccano_shapes_are_detected_and_read(tmp_path, name):
    records = DOCCANO_SHAPES[name]
    path = _write(tmp_path / name, "".join(json.dumps(r) + "\n" for r in records))
    assert detect_format(path) == "doccano"
    examples = list(read(path, "doccano"))
    assert len(examples) == len(records) and sum(len(e.spans) for e in examples) == 1
    if name == "intent.jsonl":
        write(examples, tmp_path / "back.jsonl", "doccano")
        assert json.loads((tmp_path / "back.jsonl").read_text())["cats"] == ["flight"]


def test_i8_doccano_writer_uses_the_label_shape_unless_something_has_relations(tmp_path):
    plain = Example("ab", (Span(0, 1, "X"),))
    write([plain], tmp_path / "a.jsonl", "doccano")
    assert json.loads((tmp_path / "a.jsonl").read_text()) == {"text": "ab", "label": [[0, 1, "X"]]}
    write([plain, RELATED], tmp_path / "b.jsonl", "doccano")
    assert all("entities" in json.loads(line) for line in (tmp_path / "b.jsonl").open())
    with pytest.raises(NerkitError, match="label-shape format cannot hold"):
        write([RELATED], tmp_path / "c.jsonl", "doccano", shape="label")


def test_i9_conll_for_doccano_two_tab_separated_columns(tmp_path):
    source = tmp_path / "in.conll"
    source.write_text("EU NNP B-ORG\nrejects VBZ O\n", encoding="utf-8")
    target = tmp_path / "out.conll"
    args = ["convert", str(source), str(target), "--to", "conll", "--delimiter", "tab"]
    assert runner.invoke(app, [*args, "--no-keep-columns"]).exit_code == 0
    assert target.read_text(encoding="utf-8") == "EU\tB-ORG\nrejects\tO\n\n"
    assert runner.invoke(app, args).exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("EU\tNNP\tB-ORG\n")


def test_i10_skip_invalid_reads_the_good_records_and_logs_the_bad(tmp_path, caplog):
    lines = ['{"text": "a", "label": [[0, 1, "X"]]}', '{"label": []}', "{oops", '{"text": "b"}']
    path = _write(tmp_path / "d.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"d\.jsonl:2: expected an object with a \"text\""):
        list(read(path, "doccano"))
    with caplog.at_level(logging.WARNING):
        assert [e.text for e in read(path, "doccano", skip_invalid=True)] == ["a", "b"]
    assert "d.jsonl: skipped 2 invalid records" in caplog.text
    result = runner.invoke(app, ["stats", str(path), "--skip-invalid", "--json"])
    assert json.loads(result.output)["documents"] == 2


def test_i11_brat_relation_ids_are_kept(tmp_path):
    (tmp_path / "d.txt").write_text("a b", encoding="utf-8")
    ann = (
        "T1\tX 0 1\ta\nT2\tX 2 3\tb\nR2\tr Arg1:T1 Arg2:T2\nR1\tr Arg1:T2 Arg2:T1\n#1\tNote R1\tn\n"
    )
    (tmp_path / "d.ann").write_text(ann, encoding="utf-8")
    write(read(tmp_path, "brat"), tmp_path / "out", "brat")
    assert (tmp_path / "out" / "d.ann").read_text(encoding="utf-8") == ann


def test_i12_one_task_object_another_data_key_and_hypertext_regions(tmp_path, caplog):
    single = _write(tmp_path / "1.json", _task("Ada", _region("a", 0, 3, "Ada", "PER")))
    assert detect_format(single) == "label-studio"
    assert next(iter(read(single, "label-studio"))).spans == (Span(0, 3, "PER"),)
    region = _region("a", 0, 3, "Ada", "P")
    task = {"data": {"ner": "Ada", "n": 1}, "annotations": [{"result": [region]}]}
    path = _write(tmp_path / "ner.json", [task])
    assert next(iter(read(path, "label-studio"))).text == "Ada"  # the one string in data
    task["data"]["other"] = "x"
    _write(path, [task])
    with pytest.raises(DataFormatError, match=r"data\['text'\].*--data-key"):
        list(read(path, "label-studio"))
    assert next(iter(read(path, "label-studio", data_key="ner"))).spans == (Span(0, 3, "P"),)
    value = {"start": "/p[1]", "end": "/p[1]", "startOffset": 0, "endOffset": 3, "text": "Ada"}
    hyper = {"id": "h", "type": "hypertextlabels", "value": {**value, "hypertextlabels": ["X"]}}
    with caplog.at_level(logging.WARNING):
        (example,) = read(_write(tmp_path / "h.json", [_task("<p>Ada</p>", hyper)]), "label-studio")
    assert example.spans == () and example.meta["skipped_regions"] == 1
    assert "skipped a HyperText region" in caplog.text


def test_i12_label_studio_0x_completions(tmp_path):
    task = {"data": {"text": "Ada"}, "completions": [{"result": [_region("a", 0, 3, "Ada", "P")]}]}
    assert next(iter(read(_write(tmp_path / "c.json", task), "label-studio"))).spans
    assert detect_format(tmp_path / "c.json") == "label-studio"


def test_i13_tag_column_from_the_cli_and_detection_of_another_column(tmp_path):
    path = tmp_path / "column.txt"
    path.write_text("George B-PER +\nWashington I-PER -\nwent O +\n", encoding="utf-8")
    assert detect_format(path) == "conll"
    failed = runner.invoke(app, ["stats", str(path)])
    assert "--tag-column" in str(failed.exception)
    result = runner.invoke(app, ["stats", str(path), "--tag-column", "1", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["entities_per_label"] == {"PER": 1}
