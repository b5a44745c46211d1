"""Reliability of training runs and model directories (issue 15: T1-T8, X1-X3)."""

from __future__ import annotations

import json
import os

import pytest
import torch
from models.tiny import tiny_config, write_corpus
from safetensors.torch import load_file, save_file

import nerkit
from nerkit.artifacts import load_model
from nerkit.checksums import file_sha256
from nerkit.errors import ArtifactError, ConfigError
from nerkit.training.loop import CHECKPOINT, LOG, TrainingError


class Killed(Exception):
    pass


def _config(tmp_path, **train):
    return tiny_config(write_corpus(tmp_path), **{"epochs": 3, **train})


def _kill_after(epoch: int):
    def callback(info):
        if info["epoch"] == epoch:
            raise Killed

    return callback


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("rel")
    nerkit.train(_config(directory), str(directory / "model"), progress=False)
    return directory / "model"


def test_an_output_holding_a_model_is_refused_unless_overwrite(tmp_path):  # T1
    config = _config(tmp_path, epochs=1)
    nerkit.train(config, str(tmp_path / "m"), progress=False)
    before = (tmp_path / "m" / "weights.safetensors").read_bytes()
    with pytest.raises(ConfigError, match=r"already holds a model .*--overwrite"):
        nerkit.train(config, str(tmp_path / "m"), progress=False)
    assert (tmp_path / "m" / "weights.safetensors").read_bytes() == before
    nerkit.train(config, str(tmp_path / "m"), progress=False, overwrite=True)
    assert len((tmp_path / "m" / LOG).read_text().splitlines()) == 1  # a fresh log, not appended


def test_a_file_as_output_and_resume_without_checkpoint_are_refused(tmp_path):  # T6
    config = _config(tmp_path, epochs=1)
    (tmp_path / "afile").write_text("hi")
    with pytest.raises(ConfigError, match="is a file, expected a directory"):
        nerkit.train(config, str(tmp_path / "afile"), progress=False)
    with pytest.raises(ConfigError, match="nothing to resume"):
        nerkit.train(config, str(tmp_path / "missing"), progress=False, resume=True)
    assert not (tmp_path / "missing").exists()


def test_a_nan_loss_stops_training_with_an_error(tmp_path, monkeypatch):  # T2
    from nerkit.tasks.tagging.model import Tagger

    def nan_loss(self, batch):
        return self.emissions(batch).sum() * float("nan")

    monkeypatch.setattr(Tagger, "loss", nan_loss)
    with pytest.raises(TrainingError, match="loss became nan at step 1"):
        nerkit.train(_config(tmp_path), str(tmp_path / "m"), progress=False)
    assert not (tmp_path / "m" / "weights.safetensors").exists()


def _killed_run(tmp_path):
    config = _config(tmp_path)
    with pytest.raises(Killed):
        nerkit.train(config, str(tmp_path / "m"), progress=False, on_epoch_end=_kill_after(1))
    return config


def test_resume_refuses_a_changed_config_but_not_more_epochs(tmp_path):  # T3, T4
    config = _killed_run(tmp_path)
    with pytest.raises(ConfigError, match=r"differs from the checkpoint's in train\.lr"):
        nerkit.train(config, str(tmp_path / "m"), overrides=["train.lr=0.5"], resume=True,
                     progress=False)  # fmt: skip
    with pytest.raises(ConfigError, match=r"model\.encoder\.hidden_size 24 -> 64"):
        nerkit.train(config, str(tmp_path / "m"), resume=True, progress=False,
                     overrides=["model.encoder.hidden_size=64"])  # fmt: skip
    result = nerkit.train(config, str(tmp_path / "m"), overrides=["train.epochs=4"], resume=True,
                          progress=False)  # fmt: skip
    assert result.epochs_run == 4


def test_a_torn_checkpoint_is_a_clear_error(tmp_path):  # T5
    config = _killed_run(tmp_path)
    checkpoint = tmp_path / "m" / CHECKPOINT
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    with pytest.raises(ArtifactError, match=r"cannot be read .*without --resume"):
        nerkit.train(config, str(tmp_path / "m"), resume=True, progress=False)


def test_resume_rewrites_the_log_from_the_checkpoint(tmp_path):  # T7
    config = _killed_run(tmp_path)
    log = tmp_path / "m" / LOG
    log.write_text(log.read_text() + log.read_text())  # a kill after the log, before the checkpoint
    nerkit.train(config, str(tmp_path / "m"), resume=True, progress=False)
    assert [json.loads(line)["epoch"] for line in log.read_text().splitlines()] == [1, 2, 3]


def test_model_files_are_readable_by_others(model_dir):  # T8
    umask = os.umask(0)
    os.umask(umask)
    for name in ("weights.safetensors", "config.json", "metadata.json"):
        assert (model_dir / name).stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_changed_file_of_a_model_directory_is_refused(model_dir, tmp_path):  # X1
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(model_dir, target)
    labels = json.loads((target / "labels.json").read_text())
    (target / "labels.json").write_text(json.dumps(labels[::-1]))
    with pytest.raises(ArtifactError, match=r"labels\.json has changed since the model was saved"):
        nerkit.load(str(target))


def test_nan_weights_are_refused_even_when_the_checksum_was_updated(model_dir, tmp_path):  # X1
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(model_dir, target)
    weights = target / "weights.safetensors"
    state = load_file(str(weights))
    name = next(k for k in state if k.endswith("weight"))
    state[name] = torch.full_like(state[name], float("nan"))
    save_file(state, str(weights))
    meta = json.loads((target / "metadata.json").read_text())
    meta["sha256"]["weights.safetensors"] = file_sha256(weights)
    (target / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="NaN or infinite weights"):
        load_model(target)


def test_a_size_mismatch_names_the_parameter(model_dir, tmp_path):  # X3
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(model_dir, target)
    config = json.loads((target / "config.json").read_text())
    config["model"]["encoder"]["hidden_size"] = 8
    (target / "config.json").write_text(json.dumps(config))
    meta = json.loads((target / "metadata.json").read_text())
    meta["sha256"]["config.json"] = file_sha256(target / "config.json")
    (target / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="size mismatch for token_encoder"):
        load_model(target)


def test_exporting_into_a_directory_is_a_one_line_error(model_dir, tmp_path):  # X2
    pytest.importorskip("onnx")
    from nerkit.errors import NerkitError
    from nerkit.export import export_onnx

    (tmp_path / "adir").mkdir()
    with pytest.raises(NerkitError, match="expected an output file, found the directory"):
        export_onnx(model_dir, tmp_path / "adir")
