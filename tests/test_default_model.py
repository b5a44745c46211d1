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


def test_a_model_directory_of_the_first_format_still_loads(tmp_path):
    # the format of the model shipped until 2026-12-03, written before the token encoder
    # existed: old weight names, data.max_length, no checksums; rebuilt here from a new one
    from models.tiny import EXAMPLES, tiny_config, write_corpus
    from safetensors.torch import load_file, save_file

    from nerkit import api
    from nerkit.tasks.tagging.model import _RENAMED

    api.train(tiny_config(write_corpus(tmp_path)), tmp_path / "new", progress=False)
    old = tmp_path / "old"
    old.mkdir()
    for name in ("labels.json", "vocab.json"):
        (old / name).write_bytes((tmp_path / "new" / name).read_bytes())
    state = {}
    for name, tensor in load_file(str(tmp_path / "new" / "weights.safetensors")).items():
        for before, after in _RENAMED:
            if name.startswith(after):
                name = before + name[len(after) :]
                break
        state[name] = tensor
    save_file(state, str(old / "weights.safetensors"))
    raw = json.loads((tmp_path / "new" / "config.json").read_text(encoding="utf-8"))
    raw["data"]["max_length"] = raw["model"].pop("max_length")
    (old / "config.json").write_text(json.dumps(raw), encoding="utf-8")
    metadata = json.loads((tmp_path / "new" / "metadata.json").read_text(encoding="utf-8"))
    metadata.pop("sha256", None)
    (old / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    assert {"projection.weight", "embedder.tokens.weight"} <= set(state)
    texts = [example.text for example in EXAMPLES]
    again = nerkit.load(old, precision="fp32")
    assert again.config.model.max_length == raw["data"]["max_length"]
    assert again.predict(texts) == nerkit.load(tmp_path / "new", precision="fp32").predict(texts)
