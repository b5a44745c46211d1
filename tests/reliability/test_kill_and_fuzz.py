"""kill -9 in the middle of training and of bulk extraction, the server under random
requests, and every CLI subcommand on broken input (issue 15, section 3)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from models.tiny import tiny_config, write_corpus
from safetensors.torch import load_file

NERKIT = [sys.executable, "-m", "nerkit"]


def _wait_for(condition, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_training_killed_with_sigkill_resumes_to_the_same_weights(tmp_path):
    config = tiny_config(write_corpus(tmp_path), epochs=60)
    config["data"].pop("dev")
    config["data"]["dev_fraction"] = 0.0  # every epoch is saved: the last one wins
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    straight = subprocess.run([*NERKIT, "train", path, "-o", tmp_path / "straight"],
                              capture_output=True, timeout=300)  # fmt: skip
    assert straight.returncode == 0, straight.stderr
    process = subprocess.Popen([*NERKIT, "train", path, "-o", tmp_path / "killed"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    log = tmp_path / "killed" / "train_log.jsonl"
    assert _wait_for(lambda: log.is_file() and len(log.read_text().splitlines()) >= 2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if not (tmp_path / "killed" / "checkpoint.pt").is_file():
        pytest.skip("the run finished before it could be killed")
    resumed = subprocess.run([*NERKIT, "train", path, "-o", tmp_path / "killed", "--resume"],
                             capture_output=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    a = load_file(str(tmp_path / "straight" / "weights.safetensors"))
    b = load_file(str(tmp_path / "killed" / "weights.safetensors"))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    epochs = [json.loads(line)["epoch"] for line in log.read_text().splitlines()]
    assert epochs == list(range(1, 61))


def test_extraction_killed_with_sigkill_resumes_to_the_same_output(tmp_path):
    import nerkit

    nerkit.train(tiny_config(write_corpus(tmp_path), epochs=2), str(tmp_path / "m"),
                 progress=False)  # fmt: skip
    source = tmp_path / "in.txt"
    source.write_text("".join(f"{k} 张三在北京工作。\n" for k in range(6000)), encoding="utf-8")
    common = [tmp_path / "m", source, "--workers", "1", "--shard-lines", "300", "--no-progress"]
    straight = subprocess.run([*NERKIT, "extract", *common, "-o", tmp_path / "a.jsonl"],
                              capture_output=True, timeout=300)  # fmt: skip
    assert straight.returncode == 0, straight.stderr
    out = tmp_path / "b.jsonl"
    process = subprocess.Popen([*NERKIT, "extract", *common, "-o", out],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    parts = tmp_path / "b.jsonl.parts"
    assert _wait_for(lambda: parts.is_dir() and len(list(parts.glob("*.done"))) >= 2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if not parts.is_dir():
        pytest.skip("the extraction finished before it could be killed")
    again = subprocess.run([*NERKIT, "extract", *common, "-o", out], capture_output=True,
                           timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert out.read_bytes() == (tmp_path / "a.jsonl").read_bytes()


class FastPredictor:
    """A stand-in model: one entity per non-empty text."""

    name, labels, temperature, metadata = "fast", ["X"], 1.0, {}

    def __init__(self, task: str) -> None:
        self.task = task

    def predict(self, texts, batch_size=64):
        from nerkit.tasks.classification.predictor import TextLabel
        from nerkit.types import Entity

        if self.task == "classification":
            return [[TextLabel("X", 0.5)] for _ in texts]
        return [[Entity(0, 1, "X", t[:1], 0.5)] if t else [] for t in texts]

    def predict_nbest(self, texts, k, batch_size=64):
        return [[(self.predict([t])[0], 1.0)] for t in texts]

    def info(self):
        return {}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["texts", "nbest", "x", ""]) | st.text(max_size=5), children, max_size=4
        )
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("task", ["tagging", "classification"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(body=JSON, raw=st.binary(max_size=40), path=st.sampled_from(
    ["/extract", "/classify", "/health", "/model", "/nope", "/docs", "/openapi.json"]))  # fmt: skip
def test_no_request_makes_the_server_fail(task, body, raw, path):
    from fastapi.testclient import TestClient

    from nerkit.server import create_app

    with TestClient(create_app(FastPredictor(task))) as client:
        for content in (json.dumps(body, allow_nan=True).encode(), raw):
            response = client.post(path, content=content,
                                   headers={"content-type": "application/json"})  # fmt: skip
            assert response.status_code < 500, (path, content, response.text)
            if response.status_code != 404 and path in ("/extract", "/classify"):
                assert response.headers["content-type"].startswith("application/json")
        assert client.get(path).status_code < 500


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    directory = tmp_path_factory.mktemp("broken")
    (directory / "bad.yaml").write_text("data: [unclosed\n", encoding="utf-8")
    (directory / "bad.jsonl").write_bytes(b'{"text": "x", "spans": [[0, 9, "PER"]]}\n')
    (directory / "notamodel").mkdir()
    (directory / "notamodel" / "metadata.json").write_text("{}", encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    "arguments",
    [
        ["train", "bad.yaml", "-o", "out"],
        ["evaluate", "notamodel", "bad.jsonl"],
        ["predict", "notamodel", "text"],
        ["serve", "notamodel", "--port", "1"],
        ["extract", "notamodel", "bad.jsonl", "-o", "o.jsonl"],
        ["export", "notamodel"],
        ["calibrate", "notamodel"],
        ["convert", "bad.jsonl", "o.conll", "--from", "jsonl", "--to", "conll"],
        ["stats", "bad.jsonl", "--format", "jsonl"],
        ["score", "bad.jsonl", "bad.jsonl", "--format", "jsonl"],
        ["encoders", "prune", "notamodel", "o", "--corpus", "bad.jsonl"],
    ],
)
def test_every_subcommand_gives_one_error_line_on_broken_input(broken, arguments):
    result = subprocess.run([*NERKIT, *arguments], capture_output=True, text=True, cwd=broken,
                            timeout=120)  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
