"""`nerkit convert` and `nerkit stats` through typer's CliRunner, plus the one-line error path."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from nerkit.cli import app
from nerkit.data.formats import read
from nerkit.types import Span

runner = CliRunner()
BIO = "张\tB-PER\n三\tI-PER\n在\tO\n北\tB-LOC\n京\tI-LOC\n\n好\tI-LOC\n"


def test_convert_detects_the_input_and_reports_counts(tmp_path):
    source, target = tmp_path / "train.bio", tmp_path / "train.jsonl"
    source.write_text(BIO, encoding="utf-8")
    result = runner.invoke(app, ["convert", str(source), str(target), "--to", "jsonl"])
    assert result.exit_code == 0, result.output
    assert "wrote 2 documents with 3 spans (conll -> jsonl)" in result.output
    first, _ = read(target, "jsonl")
    assert first.text == "张三在北京" and first.spans == (Span(0, 2, "PER"), Span(3, 5, "LOC"))


def test_convert_to_conll_with_scheme_and_overlap_policy(tmp_path):
    source, target = tmp_path / "in.jsonl", tmp_path / "out.conll"
    record = {"text": "北京大学", "spans": [[0, 2, "LOC"], [0, 4, "ORG"]]}
    source.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    args = ["convert", str(source), str(target), "--from", "jsonl", "--to", "conll"]
    failed = runner.invoke(app, args)
    assert failed.exit_code != 0 and "overlaps another span" in str(failed.exception)
    result = runner.invoke(app, [*args, "--scheme", "BIOES", "--overlaps", "longest"])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == "北 B-ORG\n京 I-ORG\n大 I-ORG\n学 E-ORG\n\n"


def test_stats_json_counts_labels_lengths_and_violations(tmp_path):
    source = tmp_path / "train.bio"
    source.write_text(BIO, encoding="utf-8")
    result = runner.invoke(app, ["stats", str(source), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["format"] == "conll" and stats["documents"] == 2
    assert stats["characters"] == 6 and stats["tokens"] == 6
    assert stats["entities_per_label"] == {"LOC": 2, "PER": 1}
    assert stats["length_max"] == 5 and stats["length_median"] == 3.0
    assert stats["scheme"] == "BIO" and stats["scheme_violations"] == 1


def test_stats_text_output(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text('{"text": "ab", "spans": [[0, 1, "X"], [0, 2, "Y"]]}\n', encoding="utf-8")
    result = runner.invoke(app, ["stats", str(source)])
    assert result.exit_code == 0, result.output
    assert "format             jsonl" in result.output
    assert "overlapping spans  in 1 documents" in result.output


def test_user_error_is_one_line_with_exit_code_2(tmp_path):
    source = tmp_path / "bad.conll"
    source.write_text("EU B-ORG\nrejects\n", encoding="utf-8")
    code = "from nerkit.cli import main; main()"
    args = [sys.executable, "-c", code, "stats", str(source), "--format", "conll"]
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: ") and "bad.conll:2:" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_convert_to_conll_per_character_and_no_half_file_on_error(tmp_path):
    source, target = tmp_path / "in.jsonl", tmp_path / "out.conll"
    source.write_text('{"text": "LCPL队", "spans": [[1, 4, "ORG"]]}', encoding="utf-8")
    args = ["convert", str(source), str(target), "--to", "conll"]
    failed = runner.invoke(app, args)
    assert "--tokenize char" in str(failed.exception) and not target.exists()
    result = runner.invoke(app, [*args, "--tokenize", "char"])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").split("\n")[:2] == ["L O", "C B-ORG"]
