"""The typed config: unknown keys with their path, overrides, YAML and TOML files."""

from __future__ import annotations

from pathlib import Path

import pytest

from nerkit.encoders.config import IDCNNConfig
from nerkit.errors import ConfigError
from nerkit.tasks import load_config
from nerkit.tasks.tagging.config import TaggingConfig

MINIMAL = {"data": {"train": "train.txt"}}


def test_defaults_are_a_char_bilstm_crf_in_bioes():
    config = load_config(MINIMAL)
    assert (config.model.tokenization, config.model.scheme, config.model.head) == (
        "char", "BIOES", "crf",
    )  # fmt: skip
    assert config.model.encoder.kind == "bilstm"


def test_unknown_key_is_reported_with_its_full_path():
    raw = {"data": {"train": "t"}, "model": {"encoder": {"kind": "bilstm", "hiden_size": 3}}}
    with pytest.raises(ConfigError, match=r"model\.encoder\.bilstm\.hiden_size: Extra inputs"):
        load_config(raw)


def test_unknown_section_and_bad_value_are_both_reported():
    with pytest.raises(ConfigError, match=r"trian: Extra inputs.*|.*train\.lr"):
        load_config({**MINIMAL, "trian": {}, "train": {"lr": -1}})


def test_encoder_kind_selects_the_encoder_config():
    config = load_config(MINIMAL, ["model.encoder.kind=idcnn", "model.encoder.num_blocks=2"])
    assert isinstance(config.model.encoder, IDCNNConfig)
    assert config.model.encoder.num_blocks == 2


def test_overrides_parse_yaml_scalars():
    config = load_config(MINIMAL, ["train.lr=3e-4", "train.epochs=7", "model.head=softmax"])
    assert (config.train.lr, config.train.epochs, config.model.head) == (3e-4, 7, "softmax")


@pytest.mark.parametrize("override", ["train.lr", "=3", "data.train.x=1"])
def test_malformed_override_is_a_config_error(override):
    with pytest.raises(ConfigError):
        load_config(MINIMAL, [override])


def test_config_is_frozen():
    config = load_config(MINIMAL)
    with pytest.raises(Exception, match="frozen"):
        config.train.lr = 1.0  # type: ignore[misc]


def test_yaml_and_toml_files_give_the_same_config(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "data:\n  train: t.txt\nmodel:\n  encoder:\n    kind: bigru\n    hidden_size: 8\n"
    )
    (tmp_path / "c.toml").write_text(
        '[data]\ntrain = "t.txt"\n[model.encoder]\nkind = "bigru"\nhidden_size = 8\n'
    )
    assert load_config(tmp_path / "c.yaml") == load_config(tmp_path / "c.toml")


def test_a_config_survives_a_json_round_trip():
    config = load_config(MINIMAL, ["model.encoder.kind=transformer"])
    assert TaggingConfig.model_validate(config.model_dump(mode="json")) == config


def test_missing_file_and_bad_syntax_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "absent.yaml")
    (tmp_path / "bad.toml").write_text("[data\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")


def test_an_old_config_with_data_max_length_loads_it_as_model_max_length():
    # configs written before the window length moved to the model keep working
    config = load_config({"data": {"train": "t.txt", "max_length": 37}})
    assert config.model.max_length == 37
    assert "max_length" not in config.data.model_dump()
    assert load_config({"data": {"train": "t.txt"}, "model": {"max_length": 37}}) == config


def test_a_config_without_task_is_a_tagging_run():
    config = load_config(MINIMAL)
    assert isinstance(config, TaggingConfig)
    assert config.task == "tagging"


BENCHMARK_CONFIGS = sorted((Path(__file__).resolve().parents[2] / "benchmarks/configs").glob("*"))


@pytest.mark.parametrize("path", BENCHMARK_CONFIGS, ids=lambda path: path.name)
def test_every_benchmark_config_is_valid(path):
    # validation only: nothing is read or built, so the data and encoders need not exist
    from nerkit.tasks import TASKS

    assert load_config(path).task in TASKS


def test_a_pretrained_encoder_takes_precision_auto():
    config = load_config(
        MINIMAL,
        ["model.encoder.kind=bert", "model.encoder.name_or_path=x", "model.encoder.precision=auto"],
    )
    assert config.model.encoder.precision == "auto"
