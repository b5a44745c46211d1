"""The reader and convert/stats defects of the reliability probe (R1-R18), one test each.

Ids refer to ../shared/research/reliability-probe.md. Every user error must be a `NerkitError`
(one ``error:`` line and exit code 2 at the CLI) naming ``file:line`` where there is one, and no
failed or crashed conversion may touch an existing file.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nerkit.cli import app
from nerkit.data.formats import detect_format, read, write
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Span

runner = CliRunner()
GOOD = '{"text": "张三在北京", "spans": [[0, 2, "PER"]]}\n'


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _cli_error(args: list[str]) -> str:
    """Run the real entry point; assert one `error:` line and exit code 2; return the line."""
    code = "from nerkit.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_r1_convert_onto_its_own_source_is_refused_and_the_file_kept(tmp_path):
    same = _write(tmp_path / "same.jsonl", GOOD)
    for args in (["--from", "jsonl", "--to", "jsonl"], ["--to", "conll", "--tokenize", "char"]):
        result = runner.invoke(app, ["convert", str(same), str(same), *args])
        assert result.exit_code != 0 and "is the input file" in str(result.exception)
    assert same.read_text(encoding="utf-8") == GOOD


def test_r2_a_failed_convert_leaves_an_existing_target_untouched(tmp_path):
    source = _write(tmp_path / "fail_mid.bmes", "张\tB-PER\n三\tI-PER\n\n男\n")
    target = _write(tmp_path / "existing_target.jsonl", "PRECIOUS CONTENT\n")
    line = _cli_error(["convert", str(source), str(target), "--from", "conll"])
    assert "fail_mid.bmes:4: expected a token and a tag" in line
    assert target.read_text(encoding="utf-8") == "PRECIOUS CONTENT\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing_target.jsonl", "fail_mid.bmes"]


def test_r3_a_crash_inside_a_writer_leaves_no_half_file(tmp_path):
    def exploding():
        yield Example("ab", (Span(0, 2, "X"),))
        raise RuntimeError("a bug half-way")

    for format in ("jsonl", "cluener", "doccano", "label-studio", "conll"):
        target = tmp_path / f"new.{format}"
        with pytest.raises(RuntimeError, match="half-way"):
            write(exploding(), target, format)
        assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file either


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ('{"text": "张三在北京", "spans": [[0, 2, "PER", "张三"]]}', (Span(0, 2, "PER"),)),
        ('{"text": "Ada Lovelace x", "spans": [[0, 12, "PER", "Ada Lovelace"]]}',
         (Span(0, 12, "PER"),)),
    ],
)  # fmt: skip
def test_r4_the_documented_four_element_span_is_read_and_its_mention_checked(
    tmp_path, record, expected
):
    (example,) = read(_write(tmp_path / "j4.jsonl", record + "\n"), "jsonl")
    assert example.spans == expected
    bad = _write(tmp_path / "bad.jsonl", '{"text": "ab", "spans": [[0, 1, "X", "b"]]}\n')
    with pytest.raises(DataFormatError, match=r"bad\.jsonl:1: span \[0, 1\) X covers 'a'"):
        list(read(bad, "jsonl"))


def _ls(value: object) -> str:
    result = {"type": "labels", "value": value}
    return json.dumps([{"data": {"text": "Ada"}, "annotations": [{"result": [result]}]}])


# file content -> (format, the expected message); R5-R9 and R18
SHAPE_ERRORS = {
    "ls_labels_as_string": ("label-studio", _ls({"start": 0, "end": 1, "labels": "PER"}),
                            r':1: expected "labels" as a non-empty list of strings'),
    "cl_posint": ("cluener", '{"text": "浙商银行", "label": {"company": {"浙商银行": 3}}}',
                  r":1: expected \[\[start, end_inclusive\], ...\] for '浙商银行', found 3"),
    "cl_label_list": ("cluener", '{"text": "ab", "label": {"X": [[0, 1]]}}', r":1: expected"),
    "rel_int": ("jsonl", '{"text": "ab", "spans": [], "relations": 1}',
                r":1: expected relations as a list, found 1"),
    "rel_label_int": ("jsonl", '{"text": "ab", "spans": [[0,1,"X"]], "relations": [[0,0,2]]}',
                      r":1: expected a non-empty string relation label, found 2"),
    "ls_data_not_dict": ("label-studio", '[{"data": "x"}]', r':1: expected a task with a "data"'),
    "ls_annotations_int": ("label-studio", '[{"data": {"text": "a"}, "annotations": 1}]',
                           r':1: expected "annotations" as a list, found 1'),
    "ls_result_item_not_dict": ("label-studio",
                                '[{"data": {"text": "a"}, "annotations": [{"result": [1]}]}]',
                                r':1: expected "result" as a list of objects'),
    "ls_value_not_dict": ("label-studio", _ls(1), r':1: expected "value" as an object, found 1'),
    "ls_from_id_list": ("label-studio", json.dumps([{"data": {"text": "a"}, "annotations": [
        {"result": [{"id": "r", "type": "labels", "value": {"start": 0, "end": 1, "labels": ["X"]}},
                    {"type": "relation", "from_id": ["r"], "to_id": "r"}]}]}]),
                        r":1: expected a region id \(a string\), found \['r'\]"),
    "doccano_type_int": ("doccano", json.dumps({"text": "ab", "entities": [
        {"id": 1, "start_offset": 0, "end_offset": 1, "label": "X"}],
        "relations": [{"from_id": 1, "to_id": 1, "type": 2}]}),
                         r":1: expected a non-empty string relation type, found 2"),
    "doccano_intent_bad": ("doccano", '{"text": "ab", "entities": [[0, 1]]}',
                           r':1: expected "entities" as \[\[start, end, label\]\]'),
    "jsonl_entity_key": ("jsonl", '{"text": "ab", "entities": [{"start": 0, "end": 1}]}',
                         r":1: expected the key 'label'"),
    "json_deep": ("jsonl", "[" * 100_000, r":1: (invalid|unreadable) JSON"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SHAPE_ERRORS))
def test_r5_to_r9_and_r18_records_of_the_wrong_shape_are_errors_at_their_line(tmp_path, name):
    format, content, message = SHAPE_ERRORS[name]
    path = _write(tmp_path / f"{name}.json", content + "\n")
    with pytest.raises(DataFormatError, match=rf"{name}\.json{message}"):
        list(read(path, format))


@pytest.mark.parametrize(
    "ann", ["T1 PER 0 2 张三\n", "T6\n", "T1\tPER\n", "T1\tPER 0 2;\t张三\n", "R1\tx Arg1:T1\n"]
)
def test_r7_brat_lines_of_the_wrong_shape_are_errors_at_their_line(tmp_path, ann):
    _write(tmp_path / "d" / "a.txt", "张三")
    _write(tmp_path / "d" / "a.ann", ann)
    with pytest.raises(DataFormatError, match=r"a\.ann:1: expected"):
        list(read(tmp_path / "d", "brat"))


@pytest.mark.parametrize("format", ["conll", "cluener", "jsonl", "doccano", "label-studio"])
def test_r10_a_directory_with_a_file_format_is_a_one_line_error(tmp_path, format):
    (tmp_path / "adir").mkdir()
    with pytest.raises(NerkitError, match="expected a data file, found the directory"):
        list(read(tmp_path / "adir", format))
    line = _cli_error(["stats", "--format", format, str(tmp_path / "adir")])
    assert "found the directory" in line


def test_r11_bad_convert_targets_are_one_line_errors(tmp_path):
    source = _write(tmp_path / "s.jsonl", GOOD)
    (tmp_path / "adir").mkdir()
    existing = _write(tmp_path / "existing.jsonl", "keep\n")
    cases = [
        ([str(tmp_path / "adir")], "expected an output file, found the directory"),
        ([str(tmp_path / "nope" / "x" / "y.jsonl")], "does not exist \\(create it first\\)"),
        ([str(existing), "--to", "brat"], "expected an output directory, found the file"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["convert", str(source), *args])
        assert isinstance(result.exception, NerkitError), result.output
        assert re.search(message, str(result.exception))
    assert existing.read_text(encoding="utf-8") == "keep\n"


def test_r11_and_r12_brat_names_are_sanitised_and_never_overwrite_each_other(tmp_path, caplog):
    docs = [Example("a", id="a\x00b"), Example("b", id="x"), Example("c", id="x"),
            Example("d", id="../../up")]  # fmt: skip
    with caplog.at_level(logging.WARNING):
        assert write(docs, tmp_path / "out", "brat") == 4
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"{n}.{e}" for n in [".._.._up", "a_b", "x", "x__2"] for e in ("ann", "txt")]
    assert "document id 'x' is repeated" in caplog.text
    assert [e.text for e in read(tmp_path / "out", "brat")] == ["d", "a", "b", "c"]


def test_r15_detection_reads_past_a_long_first_line_and_a_broken_line(tmp_path):
    long_line = json.dumps({"text": "x" * 1_000_000, "spans": [[0, 1, "X"]]}) + "\n"
    assert detect_format(_write(tmp_path / "oneline_1m.jsonl", long_line)) == "jsonl"
    bmes = "".join(f"{c}\tS-X\n" for c in "abc") + "d\n" + "".join(f"{c}\tO\n" for c in "efgh" * 5)
    path = _write(tmp_path / "missingtag.bmes", bmes)
    assert detect_format(path) == "conll"
    assert "missingtag.bmes:4: expected a token and a tag" in _cli_error(["stats", str(path)])


def test_r16_an_empty_directory_is_not_taken_for_brat(tmp_path):
    (tmp_path / "adir").mkdir()
    for args in (["stats", str(tmp_path / "adir")],
                 ["convert", str(tmp_path / "adir"), str(tmp_path / "o.jsonl")]):  # fmt: skip
        assert "holds no brat .txt/.ann files" in _cli_error(args)
    with pytest.raises(NerkitError, match="found none"):
        list(read(tmp_path / "adir", "brat"))


def test_r17_the_conll_writer_warns_when_spacing_is_lost(tmp_path, caplog):
    text = "张三 在 北京 Bob Smith"
    with caplog.at_level(logging.WARNING):
        write([Example(text, (Span(0, 2, "PER"),))], tmp_path / "s.conll", "conll")
    assert "1 documents have spacing that CoNLL cannot keep" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        write([Example("EU rejects it", ())], tmp_path / "t.conll", "conll")
    assert "cannot keep" not in caplog.text


def test_cli_option_for_another_format_is_refused(tmp_path):
    source = _write(tmp_path / "s.jsonl", GOOD)
    result = runner.invoke(app, ["stats", str(source), "--tag-column", "1"])
    assert "--tag-column applies to conll data, not jsonl" in str(result.exception)


def test_utf16_file_gets_a_utf16_hint(tmp_path):
    path = _write(tmp_path / "u16.conll", "EU B-ORG\n".encode("utf-16"))
    with pytest.raises(DataFormatError, match=r"u16\.conll:1: expected UTF-8.*looks like UTF-16"):
        list(read(path, "conll"))
    with pytest.raises(NerkitError, match="looks like UTF-16"):
        detect_format(path)
