"""Temperature scaling: T = 1 changes nothing, T changes probabilities but never paths, T is
saved with the model and used by torch, n-best, ONNX and the CLI, and fitting recovers a known T."""

from __future__ import annotations

import itertools
import json
import math
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from nerkit.api import held_out_examples
from nerkit.artifacts import load_model, write_temperature
from nerkit.checksums import file_sha256
from nerkit.cli import calibration  # noqa: F401  (registers the command)
from nerkit.cli._app import app
from nerkit.crf import CRF
from nerkit.predict import load
from nerkit.tasks.tagging.calibration import (
    EntityBatch,
    EntityConfidences,
    collect_entities,
    fit_temperature,
    reliability,
)
from nerkit.tasks.tagging.heads import CRFHead, SoftmaxHead
from nerkit.training.run import read_splits

STATES = 8  # the token-state size H of the heads' projections (unused: emissions are given)
TEXTS = ["张三在北京工作。", "", "Bob joined Google in London.", "王五是华为的工程师。" * 6]


def _crf(gen: torch.Generator, num_tags: int = 4) -> CRF:
    crf = CRF(num_tags)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=gen))
    return crf.double()


def _brute_marginals(crf: CRF, emissions: torch.Tensor, temperature: float) -> torch.Tensor:
    """Return P_T(y_t = c) (T, C) of one sequence by enumerating every path, float64."""
    length, num_tags = emissions.shape
    paths = list(itertools.product(range(num_tags), repeat=length))
    scores = torch.stack([
        crf.start_transitions[p[0]] + crf.end_transitions[p[-1]]
        + sum(emissions[t, p[t]] for t in range(length))
        + sum(crf.transitions[p[t], p[t + 1]] for t in range(length - 1))
        for p in paths
    ]) / temperature  # fmt: skip
    weights = (scores - scores.logsumexp(0)).exp()
    result = torch.zeros(length, num_tags, dtype=torch.float64)
    for weight, path in zip(weights, paths, strict=True):
        result[torch.arange(length), torch.tensor(path)] += weight
    return result


def test_temperature_one_is_the_identity(gen):
    crf = _crf(gen)
    emissions = torch.randn(3, 5, 4, generator=gen, dtype=torch.float64)
    mask = torch.tensor([[1] * 5, [1] * 3 + [0] * 2, [1] + [0] * 4], dtype=torch.bool)
    before = crf.marginals(emissions, mask), crf.log_partition(emissions, mask)
    crf.set_temperature(1.0)
    assert torch.equal(crf.marginals(emissions, mask), before[0])
    assert torch.equal(crf.log_partition(emissions, mask), before[1])
    head = SoftmaxHead(STATES, 4)
    assert torch.allclose(
        head.probabilities(emissions, mask), emissions.softmax(2) * mask[..., None]
    )


def test_temperature_changes_marginals_not_paths(gen):
    crf = _crf(gen)
    emissions = torch.randn(2, 4, 4, generator=gen, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    paths, nbest = crf.decode(emissions, mask), crf.decode_nbest(emissions, mask, 5)
    cold = crf.marginals(emissions, mask)
    crf.set_temperature(2.5)
    assert crf.decode(emissions, mask) == paths
    hot_nbest = crf.decode_nbest(emissions, mask, 5)
    assert [[p for p, _ in row] for row in hot_nbest] == [[p for p, _ in row] for row in nbest]
    hot = crf.marginals(emissions, mask)
    assert not torch.allclose(hot, cold)
    expected = _brute_marginals(crf, emissions[0], 2.5)
    assert torch.allclose(hot[0], expected, atol=1e-9)
    # n-best probabilities at T: exp(score - log Z_T) sums to 1 over all 4**3 paths of row 1
    log_z = crf.log_partition(emissions, mask).detach()
    every = crf.decode_nbest(emissions, mask, 64)[1]
    assert sum(math.exp(s - float(log_z[1])) for _, s in every) == pytest.approx(1.0)


def test_a_state_dict_without_temperature_loads_with_t_one(gen):
    head = CRFHead(STATES, 3, None)
    state = {k: v for k, v in head.state_dict().items() if not k.endswith("temperature")}
    other = CRFHead(STATES, 3, None)
    other.set_temperature(3.0)
    other.load_state_dict(state, strict=True)
    assert float(other.temperature) == 1.0
    softmax = SoftmaxHead(STATES, 3)
    # the head's own projection and nothing else: no temperature entry
    state = {k: v for k, v in softmax.state_dict().items() if not k.endswith("temperature")}
    assert set(state) == {"projection.weight", "projection.bias"}
    softmax.set_temperature(3.0)
    softmax.load_state_dict(state, strict=True)
    assert float(softmax.temperature) == 1.0
    with pytest.raises(ValueError, match="temperature"):
        head.set_temperature(0.0)


def _synthetic(gen: torch.Generator, head, temperature: float, count: int) -> EntityConfidences:
    """Single-token entities (tag 1) whose gold is drawn from the head's distribution at T."""
    length, num_tags = 3, 2
    emissions = 2.0 * torch.randn(count, length, num_tags, generator=gen, dtype=torch.float64)
    mask = torch.ones(count, length, dtype=torch.bool)
    paths = head.decode(emissions, mask)
    head.set_temperature(temperature)
    truth = head.probabilities(emissions, mask)  # (B, T, C) marginals at the true T
    head.set_temperature(1.0)
    entities, correct = [], []
    for b, path in enumerate(paths):
        for t, tag in enumerate(path):
            if tag == 1:
                entities.append((b, t, t + 1))
                draw = torch.rand(1, generator=gen, dtype=torch.float64)
                correct.append(bool(draw < truth[b, t, 1]))
    batch = EntityBatch(emissions, mask, torch.tensor(paths), entities)
    return EntityConfidences(head, [batch], correct)


@pytest.mark.parametrize("true_t", [0.5, 2.0])
@pytest.mark.parametrize("kind", ["crf", "softmax"])
def test_fitting_recovers_a_known_temperature(gen, kind, true_t):
    with torch.random.fork_rng(devices=[]):  # the start/end scores: not the global RNG's
        torch.manual_seed(0)
        head = CRFHead(STATES, 2, None) if kind == "crf" else SoftmaxHead(STATES, 2)
    head = head.double()
    if kind == "crf":
        with torch.no_grad():
            head.crf.transitions.copy_(torch.tensor([[0.5, -0.5], [-1.0, 0.3]]))
    entities = _synthetic(gen, head, true_t, 3000)
    fitted = fit_temperature(entities)
    assert fitted == pytest.approx(true_t, rel=0.1)
    assert float(head.temperature) == 1.0  # fitting leaves the head's own T alone
    _, ece_before = reliability(entities.at(1.0), entities.correct)
    _, ece_after = reliability(entities.at(fitted), entities.correct)
    assert ece_after < ece_before


@pytest.fixture
def calibrated_dir(model_dir, tmp_path):
    """A copy of the tiny model with T = 1.7 written the way `nerkit calibrate` writes it."""
    target = tmp_path / "model"
    shutil.copytree(model_dir, target)
    write_temperature(target, 1.7, {"temperature": 1.7, "note": "test"})
    return target


def test_save_load_keeps_t_and_predictions_use_it(model_dir, calibrated_dir):
    model = load_model(calibrated_dir)[0]
    assert float(model.head.temperature) == pytest.approx(1.7)
    meta = json.loads((calibrated_dir / "metadata.json").read_text(encoding="utf-8"))
    assert meta["calibration"]["temperature"] == 1.7
    plain, tempered = load(model_dir), load(calibrated_dir)
    cold, hot = plain.predict(TEXTS), tempered.predict(TEXTS)
    assert [[(e.start, e.end, e.label) for e in r] for r in hot] == [
        [(e.start, e.end, e.label) for e in r] for r in cold
    ]
    assert [e.score for r in hot for e in r] != [e.score for r in cold for e in r]
    plain.model.head.set_temperature(1.7)
    assert plain.predict(TEXTS) == hot
    best, *_ = tempered.predict_nbest(TEXTS[:1], 3)[0]
    assert best[0] == hot[0] and 0 < best[1] <= 1
    # a weights file from before temperatures existed still loads, as T = 1
    weights = calibrated_dir / "weights.safetensors"
    state = load_file(str(weights))
    save_file({k: v for k, v in state.items() if not k.endswith("temperature")}, str(weights))
    meta_path = calibrated_dir / "metadata.json"  # ... in a directory of that time: no checksums
    meta_path.write_text(json.dumps({k: v for k, v in meta.items() if k != "sha256"}))
    assert float(load_model(calibrated_dir)[0].head.temperature) == 1.0


def test_onnx_graph_applies_t_and_refuses_a_stale_t(calibrated_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    from nerkit.errors import NerkitError
    from nerkit.export import export_onnx
    from nerkit.tasks.tagging.onnx import OnnxTagScorer
    from nerkit.tasks.tagging.predictor import TaggingPredictor

    def onnx_predictor(model_dir, onnx_path):  # the graph of another file than model.onnx
        loaded = load_model(model_dir)
        scorer = OnnxTagScorer.from_model_dir(loaded.model, model_dir, onnx_path)
        return TaggingPredictor(loaded._replace(model=scorer), model_dir, "fp32")

    onnx_file = export_onnx(calibrated_dir, tmp_path / "model.onnx")
    torch_results = load(calibrated_dir, precision="fp32").predict(TEXTS)
    onnx_results = onnx_predictor(calibrated_dir, onnx_file).predict(TEXTS)
    assert [[(e.start, e.end, e.label) for e in r] for r in onnx_results] == [
        [(e.start, e.end, e.label) for e in r] for r in torch_results
    ]
    expected = [e.score for r in torch_results for e in r]
    assert [e.score for r in onnx_results for e in r] == pytest.approx(expected, abs=1e-4)
    write_temperature(calibrated_dir, 1.2, {"temperature": 1.2})
    with pytest.raises(NerkitError, match="re-run 'nerkit export'"):
        onnx_predictor(calibrated_dir, onnx_file)


def test_held_out_default_is_the_training_dev_carve(model_dir, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(model_dir, target)
    config = json.loads((target / "config.json").read_text(encoding="utf-8"))
    config["data"].update(dev=None, dev_fraction=0.5)
    (target / "config.json").write_text(json.dumps(config), encoding="utf-8")
    meta = json.loads((target / "metadata.json").read_text(encoding="utf-8"))
    meta["sha256"]["config.json"] = file_sha256(target / "config.json")  # an edit on purpose
    (target / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    examples, source = held_out_examples(target)
    assert examples == read_splits(load_model(target)[1]).dev and len(examples) == 3
    assert "dev carve 0.5" in source["path"]


def test_cli_calibrate_writes_t_and_dry_run_does_not(model_dir, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(model_dir, target)
    runner = CliRunner()
    dev = json.loads((target / "config.json").read_text(encoding="utf-8"))["data"]["dev"]
    result = runner.invoke(app, ["calibrate", str(target), dev, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and float(load_model(target)[0].head.temperature) == 1.0
    result = runner.invoke(app, ["calibrate", str(target), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["nll_after"] <= record["nll_before"]
    stored = float(load_model(target)[0].head.temperature)
    assert stored == pytest.approx(record["temperature"], rel=1e-6)
    model, config, vocabs, _ = load_model(target)
    assert len(collect_entities(model, vocabs, [], max_length=config.model.max_length)) == 0


def test_server_serves_tempered_confidences_and_says_its_t(calibrated_dir):
    from fastapi.testclient import TestClient

    from nerkit.server import ServerSettings, create_app

    predictor = load(calibrated_dir)
    expected = predictor.predict(TEXTS[:1])[0]
    with TestClient(create_app(predictor, ServerSettings(batching=True))) as client:
        assert client.get("/model").json()["temperature"] == pytest.approx(1.7)
        found = client.post("/extract", json={"texts": TEXTS[:1]}).json()["entities"][0]
        nbest = client.post("/extract", json={"texts": TEXTS[:1], "nbest": 2}).json()
    assert [e["score"] for e in found] == pytest.approx([e.score for e in expected], abs=1e-5)
    assert nbest["nbest"][0][0]["entities"] == found


def test_reliability_counts_every_entity_even_a_rounding_above_one():
    rows, ece = reliability([0.0, 0.25, 0.95, 1.0000002], [True, False, True, True])
    assert sum(row["count"] for row in rows) == 4
    assert [row["bin"] for row in rows] == ["(0.0, 0.1]", "(0.2, 0.3]", "(0.9, 1.0]"]
    assert ece == pytest.approx((1.0 + 0.25 + 0.05 + 0.0000002) / 4)
