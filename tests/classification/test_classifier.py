"""The classifier on the task core: every encoder and pooling overfits, save -> load is
identical, batched equals one by one, multi-label, class weights, calibration, in-memory
training, and the errors a user can cause."""

from __future__ import annotations

import json
import math

import pytest
import torch

import nerkit
from classification.tiny import MULTI, TEXTS, tiny_classifier_config, write_texts
from nerkit.errors import ConfigError, NerkitError
from nerkit.tasks import load_config
from nerkit.tasks.calibrated import (
    THRESHOLDS,
    expected_calibration_error,
    fit_temperature,
    fit_threshold,
    predicted_labels,
)
from nerkit.tasks.classification.data import TextExample
from nerkit.training.run import prepare

ENCODERS = {
    "bilstm": {"kind": "bilstm", "hidden_size": 16, "dropout": 0.0},
    "bigru": {"kind": "bigru", "hidden_size": 16, "dropout": 0.0},
    "idcnn": {"kind": "idcnn", "filters": 16, "num_blocks": 1, "dropout": 0.0},
    "transformer": {"kind": "transformer", "d_model": 16, "num_heads": 2, "num_layers": 1,
                    "feedforward": 32, "dropout": 0.0},
}  # fmt: skip
GOLD = [label for _, label in TEXTS]


def _train(tmp_path, **config_options):
    config = tiny_classifier_config(write_texts(tmp_path), **config_options)
    nerkit.train(config, str(tmp_path / "model"), progress=False)
    return nerkit.load(str(tmp_path / "model"))


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_every_encoder_overfits_the_tiny_corpus(tmp_path, encoder):
    predictor = _train(tmp_path, encoder=ENCODERS[encoder])
    found = predictor.predict([text for text, _ in TEXTS])
    assert [labels[0].label for labels in found] == GOLD


@pytest.mark.parametrize("pooling", ["mean", "attention", "first"])
def test_every_pooling_overfits_the_tiny_corpus(tmp_path, pooling):
    predictor = _train(tmp_path, pooling=pooling)
    found = predictor.predict([text for text, _ in TEXTS])
    assert [labels[0].label for labels in found] == GOLD


def test_save_load_identical_and_batched_equals_one_by_one(tmp_path):
    predictor = _train(tmp_path)
    texts = [text for text, _ in TEXTS] + ["", "完全没见过的句子"]
    together = predictor.predict_probabilities(texts, batch_size=3)
    alone = [predictor.predict_probabilities([text])[0] for text in texts]
    for a, b in zip(together, alone, strict=True):
        assert a == pytest.approx(b, abs=1e-5)
    again = nerkit.load(str(tmp_path / "model")).predict_probabilities(texts)
    assert again == together or all(
        a == pytest.approx(b, abs=1e-6) for a, b in zip(again, together, strict=True)
    )
    assert all(sum(row.values()) == pytest.approx(1.0, abs=1e-4) for row in together)


def test_every_parameter_gets_a_gradient(tmp_path):
    for pooling in ("max", "attention"):
        config = load_config(tiny_classifier_config(write_texts(tmp_path), pooling=pooling))
        prepared = prepare(config)
        batch = prepared.batches(torch.Generator().manual_seed(0))[0]
        prepared.model.loss(batch).backward()
        for name, parameter in prepared.model.named_parameters():
            # rows of the embedding tables that this batch does not use get no gradient
            assert parameter.grad is not None, name


def test_multi_label_learns_label_sets_with_the_stored_threshold(tmp_path):
    path = write_texts(tmp_path, MULTI)
    config = tiny_classifier_config(path, multi_label=True, threshold=0.5, calibrate=False)
    nerkit.train(config, str(tmp_path / "multi"), progress=False)
    predictor = nerkit.load(str(tmp_path / "multi"))
    found = predictor.predict([text for text, _ in MULTI])
    assert [sorted(x.label for x in labels) for labels in found] == [sorted(y) for _, y in MULTI]
    assert predictor.info()["threshold"] == 0.5
    report = nerkit.evaluate(str(tmp_path / "multi"), str(path))
    assert report.accuracy == 1.0 and report.multi_label


def test_balanced_class_weights_follow_the_label_counts(tmp_path):
    rows = [*TEXTS, ("还行吧，很好", "pos"), ("很好很好", "pos")]  # 5 pos, 3 neg
    config = load_config(
        tiny_classifier_config(write_texts(tmp_path, rows), class_weights="balanced")
    )
    model = prepare(config).model
    # N / (classes * count): neg 8 / (2 * 3), pos 8 / (2 * 5)
    assert model.class_weights.tolist() == pytest.approx([8 / 6, 8 / 10])
    bad = tiny_classifier_config(write_texts(tmp_path, rows), class_weights={"happy": 2.0})
    with pytest.raises(ConfigError, match="labels not in the data"):
        prepare(load_config(bad))


def test_fitted_temperature_lowers_the_nll_of_overconfident_logits():
    generator = torch.Generator().manual_seed(0)
    targets = torch.randint(0, 3, (400,), generator=generator)
    logits = torch.randn(400, 3, generator=generator)
    logits[torch.arange(400), targets] += 1.0
    logits = logits * 8  # far too sharp
    temperature = fit_temperature(logits, targets, multi_label=False)
    assert temperature > 2.0

    def nll(t: float) -> float:
        return float(torch.nn.functional.cross_entropy(logits / t, targets))

    assert nll(temperature) < nll(1.0)
    before = expected_calibration_error((logits).softmax(1), targets, False)
    after = expected_calibration_error((logits / temperature).softmax(1), targets, False)
    assert after < before


def test_training_records_the_dev_calibration(tmp_path):
    predictor = _train(tmp_path)
    dev = predictor.metadata["dev"]
    assert set(dev) >= {"accuracy", "macro_f1", "micro_f1", "ece", "temperature"}
    assert math.isclose(dev["temperature"], predictor.temperature, rel_tol=1e-6)


def test_trains_from_in_memory_examples(tmp_path):
    config = tiny_classifier_config(tmp_path / "unused.jsonl")
    config["data"] = {"dev_fraction": 0.0}
    examples = [TextExample(text, (label,)) for text, label in TEXTS]
    result = nerkit.train(config, str(tmp_path / "memory"), progress=False,
                          examples=(examples, examples, examples))  # fmt: skip
    assert result.test is not None and result.test["accuracy"] == 1.0


def test_one_label_per_text_is_required_unless_multi_label(tmp_path):
    config = tiny_classifier_config(write_texts(tmp_path, MULTI))
    with pytest.raises(ConfigError, match="multi_label: true"):
        nerkit.train(config, str(tmp_path / "x"), progress=False)


def test_classifiers_do_not_export_to_onnx(tmp_path):
    _train(tmp_path)
    from nerkit.export import export_onnx

    with pytest.raises(NerkitError, match="ONNX export covers tagging models"):
        export_onnx(tmp_path / "model")


def test_predicted_labels_and_the_fitted_threshold():
    probabilities = torch.tensor([[0.6, 0.3], [0.1, 0.9]])
    assert predicted_labels(probabilities, ["a", "b"], True, 0.5) == [["a"], ["b"]]
    assert predicted_labels(probabilities, ["a", "b"], True, 0.25) == [["a", "b"], ["b"]]
    assert predicted_labels(probabilities, ["a", "b"], False, 0.99) == [["a"], ["b"]]
    assert fit_threshold(lambda t: -abs(t - 0.3)) == 0.3
    assert fit_threshold(lambda t: 1.0 if 0.2 <= t <= 0.6 else 0.0) == 0.2  # a tie: the lowest


def test_a_fitted_threshold_is_chosen_on_dev_saved_and_used(tmp_path):
    path = write_texts(tmp_path, MULTI)
    config = tiny_classifier_config(path, multi_label=True, fit_threshold=True, calibrate=False)
    nerkit.train(config, str(tmp_path / "multi"), progress=False)
    predictor = nerkit.load(str(tmp_path / "multi"))
    fitted = predictor.metadata["dev"]["threshold"]
    assert fitted in THRESHOLDS and predictor.info()["threshold"] == pytest.approx(fitted)
    # every text's labels are those at or above the fitted threshold, not 0.5
    for scores, labels in zip(predictor.predict_probabilities([t for t, _ in MULTI]),
                              predictor.predict([t for t, _ in MULTI]), strict=True):  # fmt: skip
        assert {x.label for x in labels} == {k for k, p in scores.items() if p >= fitted}
    with pytest.raises(ConfigError, match="fit_threshold needs multi_label"):
        load_config(tiny_classifier_config(path, fit_threshold=True))


def test_weights_saved_without_a_threshold_load_with_the_configured_one(tmp_path):
    from safetensors.torch import load_file, save_file

    path = write_texts(tmp_path, MULTI)
    config = tiny_classifier_config(path, multi_label=True, threshold=0.4, calibrate=False)
    nerkit.train(config, str(tmp_path / "multi"), progress=False)
    weights = tmp_path / "multi" / "weights.safetensors"
    state = load_file(str(weights))
    before = nerkit.load(str(tmp_path / "multi")).predict([t for t, _ in MULTI])
    del state["threshold"]
    save_file(state, str(weights))
    metadata_file = tmp_path / "multi" / "metadata.json"
    metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
    metadata.pop("sha256", None)  # a directory from before the checksums, as such weights are
    metadata_file.write_text(json.dumps(metadata), encoding="utf-8")
    predictor = nerkit.load(str(tmp_path / "multi"))
    assert float(predictor.model.threshold) == pytest.approx(0.4)
    assert predictor.predict([t for t, _ in MULTI]) == before
