"""`nerkit serve / extract / export` through typer's CliRunner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from nerkit.cli import serving  # noqa: F401  (registers the commands until cli/__init__ does)
from nerkit.cli._app import app

runner = CliRunner()


def test_serve_binds_localhost_by_default(model_dir, monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    result = runner.invoke(app, ["serve", str(model_dir), "--port", "8123", "--max-batch", "8"])
    assert result.exit_code == 0, result.output
    ((application, options),) = calls
    assert options["host"] == "127.0.0.1" and options["port"] == 8123
    assert application.state.settings.max_batch == 8


def test_serve_missing_model_dir_is_a_user_error(tmp_path):
    result = runner.invoke(app, ["serve", str(tmp_path / "nope")])
    assert result.exit_code != 0
    assert "does not exist" in str(result.exception)


@pytest.mark.parametrize("option", ["--max-batch", "--max-texts"])
def test_serve_rejects_non_positive_limits(model_dir, option):
    result = runner.invoke(app, ["serve", str(model_dir), option, "0"])
    assert result.exit_code == 2


def test_serve_without_a_model_dir_serves_the_shipped_model(monkeypatch):
    import uvicorn
    from fastapi.testclient import TestClient

    from nerkit.api import DEFAULT_MODEL_DIR

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(app))
    result = runner.invoke(app, ["serve", "--runtime", "torch"])
    assert result.exit_code == 0, result.output
    assert str(DEFAULT_MODEL_DIR) in result.output
    with TestClient(calls[0]) as client:
        assert client.get("/model").json()["name"] == "default"


def test_serve_rejects_an_unknown_runtime(model_dir):
    result = runner.invoke(app, ["serve", str(model_dir), "--runtime", "tflite"])
    assert result.exit_code != 0
    assert "runtime must be one of torch, onnx" in str(result.exception)
