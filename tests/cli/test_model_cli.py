"""`nerkit train / evaluate / predict` through typer's CliRunner, plus one real subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from nerkit.cli import app
from nerkit.errors import NerkitError

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # tests/cli has no __init__.py; models.tiny lives in tests/
    sys.path.insert(0, str(TESTS))

from models.tiny import EXAMPLES, tiny_config, write_corpus  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli")
    corpus = write_corpus(directory)
    config = directory / "config.yaml"
    raw = tiny_config(corpus)
    raw["data"]["test"] = str(corpus)
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(
        app,
        ["train", str(config), "--output", str(directory / "model"), "--set", "train.epochs=40"],
    )
    assert result.exit_code == 0, result.output
    line = r"best dev score 1\.0000 at epoch \d+; test precision 100\.00, recall 100\.00, "
    assert re.search(line + r"f1 100\.00; saved to ", result.output), result.output
    return directory, corpus


def test_evaluate_json(trained):
    directory, corpus = trained
    result = runner.invoke(app, ["evaluate", str(directory / "model"), str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["f1"] == 1.0 and {"precision", "recall", "per_label"} <= set(scores)


def test_evaluate_table(trained):
    directory, corpus = trained
    result = runner.invoke(app, ["evaluate", str(directory / "model"), str(corpus)])
    assert result.exit_code == 0 and "PER" in result.output


def test_predict_texts_as_jsonl(trained):
    directory, _ = trained
    result = runner.invoke(app, ["predict", str(directory / "model"), EXAMPLES[0].text, ""])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["text"] for r in records] == [EXAMPLES[0].text, ""]
    assert [(e["text"], e["label"]) for e in records[0]["entities"]] == [
        ("张三", "PER"), ("北京", "LOC"),
    ]  # fmt: skip
    assert records[1]["entities"] == []


def test_predict_from_stdin_and_file_as_table(trained, tmp_path):
    directory, _ = trained
    result = runner.invoke(
        app, ["predict", str(directory / "model"), "-", "--format", "table"],
        input="李四去了上海。\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "李四\t" in result.output.replace("PER\t", "")
    inputs = tmp_path / "texts.txt"
    inputs.write_text("王五是华为的工程师。\n", encoding="utf-8")
    result = runner.invoke(app, ["predict", str(directory / "model"), "--input", str(inputs)])
    assert json.loads(result.output)["entities"][1]["label"] == "ORG"


def test_user_errors_are_nerkit_errors(trained, tmp_path):
    directory, corpus = trained
    result = runner.invoke(app, ["predict", str(directory / "model")])
    assert isinstance(result.exception, NerkitError)
    result = runner.invoke(app, ["train", str(tmp_path / "absent.yaml"), "-o", str(tmp_path)])
    assert isinstance(result.exception, NerkitError)
    result = runner.invoke(app, ["evaluate", str(tmp_path), str(corpus)])
    assert isinstance(result.exception, NerkitError)


def test_main_prints_one_line_and_exits_2(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "nerkit", "evaluate", str(tmp_path), str(tmp_path / "x.txt")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: ") and completed.stderr.count("\n") == 1
