"""A relation model through the CLI: train, evaluate --json (with the SemEval official score on
a file in the SemEval format), and predict refusing texts without entities."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from nerkit.cli import app
from nerkit.data.formats import write
from nerkit.errors import NerkitError
from relations.tiny import SEMEVAL, tiny_relation_config, write_examples

runner = CliRunner()


def test_cli_trains_and_evaluates_as_json(tmp_path):
    train = write_examples(tmp_path, SEMEVAL)
    config = tiny_relation_config(train, pair_order="text", tokenization="word")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["train", str(config_path), "--output", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "best dev score 1.0000" in result.output
    semeval = tmp_path / "test.txt"
    write(SEMEVAL, semeval, "semeval")
    result = runner.invoke(
        app, ["evaluate", str(tmp_path / "m"), str(semeval), "--format", "semeval", "--json"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert set(scores) >= {"micro_f1", "macro_f1", "per_label", "official_macro_f1"}
    assert scores["official_macro_f1"] == 1.0 and scores["micro_f1"] == 1.0
    assert set(scores["per_label"]["Cause-Effect"]) >= {"precision", "recall", "f1", "support"}
    table = runner.invoke(app, ["evaluate", str(tmp_path / "m"), str(train)])
    assert "SemEval official macro-F1 100.00" in table.output
    result = runner.invoke(app, ["predict", str(tmp_path / "m"), "the engine of the car"])
    assert isinstance(result.exception, NerkitError)
    assert "classifies given entity pairs" in str(result.exception)
