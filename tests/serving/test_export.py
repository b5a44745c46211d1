"""ONNX export: the onnxruntime predictor gives the torch predictor's entities, any batch/length."""

from __future__ import annotations

import pytest
from models.tiny import tiny_config, write_corpus
from typer.testing import CliRunner

import nerkit
from nerkit import api
from nerkit.artifacts import load_model
from nerkit.cli import serving  # noqa: F401  (registers the commands)
from nerkit.cli._app import app
from nerkit.errors import NerkitError
from nerkit.export import export_onnx
from nerkit.tasks.tagging.onnx import OnnxTagScorer
from nerkit.tasks.tagging.predictor import TaggingPredictor

pytest.importorskip("onnxruntime")

TEXTS = [
    "张三在北京工作。",
    "",
    "Bob joined Google in London.",
    "李四",
    "王五是华为的工程师。" * 6,  # longer than max_length: tagged in merged windows
    "华为总部在深圳。Alice lives in Paris.",
    "x",
]


def onnx_predictor_of(model_dir, onnx_path) -> TaggingPredictor:
    """Return the predictor of `model_dir` that runs the graph in `onnx_path` (not model.onnx)."""
    loaded = load_model(model_dir)
    scorer = OnnxTagScorer.from_model_dir(loaded.model, model_dir, onnx_path)
    return TaggingPredictor(loaded._replace(model=scorer), model_dir, "fp32")


def _assert_same(torch_results, onnx_results):
    def strip(results):
        return [[(e.start, e.end, e.label, e.text) for e in found] for found in results]

    assert strip(onnx_results) == strip(torch_results)
    scores = [e.score for found in onnx_results for e in found]
    assert scores == pytest.approx([e.score for found in torch_results for e in found], abs=1e-3)


@pytest.fixture(scope="module")
def onnx_file(model_dir, tmp_path_factory):
    return export_onnx(model_dir, tmp_path_factory.mktemp("onnx") / "model.onnx")


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_onnx_predictor_equals_torch_predictor(predictor, model_dir, onnx_file, batch_size):
    onnx_predictor = onnx_predictor_of(model_dir, onnx_file)
    expected = predictor.predict(TEXTS, batch_size=batch_size)
    _assert_same(expected, onnx_predictor.predict(TEXTS, batch_size=batch_size))
    assert onnx_predictor.labels == predictor.labels and onnx_predictor.info() == predictor.info()


@pytest.mark.parametrize(
    ("encoder", "head", "word_chars"),
    [("idcnn", "softmax", False), ("transformer", "crf", False), ("bigru", "crf", True)],
)
def test_other_encoders_heads_and_char_features_export(tmp_path, encoder, head, word_chars):
    config = tiny_config(write_corpus(tmp_path), encoder=encoder, head=head, epochs=15)
    if word_chars:  # word tokens with a character CNN: a third, 3-D input
        config["model"]["tokenization"] = "word"
        config["model"]["features"].update(bigram_dim=0, char_encoder="cnn", char_dim=8)
    api.train(config, tmp_path / "model", progress=False)
    path = export_onnx(tmp_path / "model")
    assert path == tmp_path / "model" / "model.onnx"
    expected = nerkit.load(tmp_path / "model", precision="fp32").predict(TEXTS, batch_size=4)
    onnx_predictor = nerkit.load(tmp_path / "model", runtime="onnx")  # runs DIR/model.onnx
    _assert_same(expected, onnx_predictor.predict(TEXTS, batch_size=4))


def test_int8_quantized_model_runs(model_dir, tmp_path):
    path = export_onnx(model_dir, tmp_path / "q.onnx", quantize="int8")
    results = onnx_predictor_of(model_dir, path).predict(TEXTS)
    assert len(results) == len(TEXTS)
    assert all(
        text[e.start : e.end] == e.text for text, found in zip(TEXTS, results) for e in found
    )


def test_missing_onnx_file_is_a_user_error(model_dir, tmp_path):
    with pytest.raises(NerkitError, match="nerkit export"):
        onnx_predictor_of(model_dir, tmp_path / "none.onnx")
    with pytest.raises(NerkitError, match=r"model\.onnx.*does not exist.*nerkit export"):
        nerkit.load(model_dir, runtime="onnx")  # the session model was never exported in place


def test_cli_export(model_dir, tmp_path):
    output = tmp_path / "cli.onnx"
    result = CliRunner().invoke(app, ["export", str(model_dir), "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.is_file() and "wrote" in result.output
    bad = CliRunner().invoke(app, ["export", str(model_dir), "--format", "tflite"])
    assert "must be 'onnx'" in str(bad.exception)
