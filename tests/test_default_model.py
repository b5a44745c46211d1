"""The Chinese model shipped inside the package works with no training and no download."""

from __future__ import annotations

import json

import pytest

import nerkit
from nerkit.api import DEFAULT_MODEL_DIR

pytestmark = pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "config.json").is_file(), reason="no default model shipped"
)


def test_default_model_tags_the_readme_sentence():
    text = "姚明是中国篮协主席，他出生于上海。"
    entities = nerkit.load().predict([text])[0]
    found = {(e.text, e.label) for e in entities}
    assert {("姚明", "PER"), ("中国篮协", "ORG"), ("上海", "LOC")} <= found
    for entity in entities:
        assert text[entity.start : entity.end] == entity.text
        assert 0.0 < entity.score <= 1.0


def test_default_model_card_states_its_msra_test_score():
    metadata = json.loads((DEFAULT_MODEL_DIR / "metadata.json").read_text(encoding="utf-8"))
    f1 = metadata["shipped"]["msra_test"]["f1"]
    card = (DEFAULT_MODEL_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert f"F1 {f1 * 100:.2f}" in card


@pytest.mark.bf16
def test_cli_predict_in_bf16_finds_the_same_entities_and_rejects_unknown_precisions():
    from typer.testing import CliRunner

    from nerkit.cli import app

    text = "姚明是中国篮协主席，他出生于上海。"
    runner = CliRunner()
    outputs = {}
    for precision in ("fp32", "bf16"):
        result = runner.invoke(app, ["predict", "--precision", precision, text])
        assert result.exit_code == 0, result.output
        outputs[precision] = [(e["start"], e["end"], e["label"])
                              for e in json.loads(result.output)["entities"]]  # fmt: skip
    assert outputs["bf16"] == outputs["fp32"]
    result = runner.invoke(app, ["predict", "--precision", "int4", text])
    assert result.exit_code != 0


def test_the_shipped_model_is_an_old_format_directory_and_still_loads():
    # written before the token encoder existed: old weight names, data.max_length; keep it so
    from safetensors import safe_open

    with safe_open(str(DEFAULT_MODEL_DIR / "weights.safetensors"), "pt") as handle:
        names = set(handle.keys())
    assert {"projection.weight", "embedder.tokens.weight"} <= names
    assert not any(name.startswith("token_encoder.") for name in names)
    raw = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text(encoding="utf-8"))
    predictor = nerkit.load()
    assert predictor.config.model.max_length == raw["data"]["max_length"]
    assert predictor.model.head.projection.weight.shape[0] == len(predictor.tags)
