"""A tiny real model, trained once per test session for the serving, extract and export tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from models.tiny import tiny_config, write_corpus

from nerkit import api
from nerkit.predict import load
from nerkit.tasks.tagging.predictor import TaggingPredictor


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a BiLSTM-CRF (char bigrams) that knows the tiny corpus by heart."""
    directory = tmp_path_factory.mktemp("serving")
    config = tiny_config(write_corpus(directory), epochs=40)
    config["model"]["max_length"] = 24  # long texts go through the predictor's windows
    api.train(config, directory / "model", progress=False)
    return directory / "model"


@pytest.fixture(scope="session")
def predictor(model_dir: Path) -> TaggingPredictor:
    """Return the loaded tiny model in float32, as the ONNX graphs it is compared with
    (shared: the tests only read from it)."""
    return load(model_dir, precision="fp32")
