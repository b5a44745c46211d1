"""Ensembles of relation models and of text classifiers (`nerkit.tasks.ensemble`): the mean of
the members' calibrated probabilities, through `nerkit.load`, `predict` and `evaluate`."""

from __future__ import annotations

import pytest
from classification.tiny import TEXTS, tiny_classifier_config, write_texts

import nerkit
from nerkit.artifacts import save_ensemble
from nerkit.errors import ArtifactError
from nerkit.tasks.relations.data import PairInstance
from relations.tiny import NEGATIVES, bare, tiny_relation_config, write_examples


def _relation_member(tmp_path, seed: int, **model):
    config = tiny_relation_config(write_examples(tmp_path, NEGATIVES, "neg"), **model)
    config["model"]["negative_pairs"] = True
    config["train"].update(seed=seed, epochs=8)
    nerkit.train(config, str(tmp_path / f"m{seed}"), progress=False)
    return tmp_path / f"m{seed}"


def _all_probabilities(predictor, examples):
    instances = [
        PairInstance(k, head, tail, ())
        for k, example in enumerate(examples)
        for head, tail in predictor._pairs(example, "all")
    ]
    return [row for _, row in predictor._probabilities(examples, instances, 4)]


def test_a_relation_ensemble_predicts_the_mean_calibrated_probabilities(tmp_path):
    members = [_relation_member(tmp_path, seed) for seed in (3, 4)]
    ensemble = nerkit.load(save_ensemble(tmp_path / "ens", members), precision="fp32")
    alone = [nerkit.load(m, precision="fp32") for m in members]
    inputs = bare(NEGATIVES)
    got = _all_probabilities(ensemble, inputs)
    each = [_all_probabilities(member, inputs) for member in alone]
    for k, row in enumerate(got):
        mean = [(a + b) / 2 for a, b in zip(each[0][k], each[1][k], strict=True)]
        assert row == pytest.approx(mean, abs=1e-5)
    found = ensemble.predict(inputs)
    assert found and all(r.label in ensemble.labels for text in found for r in text)
    assert ensemble.info()["schema"] == alone[0].info()["schema"]
    report = nerkit.evaluate(tmp_path / "ens", tmp_path / "neg.jsonl")
    assert 0.0 <= report.main_score <= 1.0
    # an ensemble of one is its member
    single = nerkit.load(save_ensemble(tmp_path / "one", members[:1]), precision="fp32")
    assert single.predict(inputs) == alone[0].predict(inputs)


def test_ensemble_members_must_come_from_one_config(tmp_path):
    first = _relation_member(tmp_path, 3)
    other = _relation_member(tmp_path, 5, pooling="entity_mean")
    with pytest.raises(ArtifactError, match="other model section"):
        save_ensemble(tmp_path / "ens", [first, other])


def test_a_classifier_ensemble_averages_its_members(tmp_path):
    data = write_texts(tmp_path)
    for seed in (1, 2):
        config = tiny_classifier_config(data)
        config["train"]["seed"] = seed
        nerkit.train(config, str(tmp_path / f"c{seed}"), progress=False)
    members = [tmp_path / "c1", tmp_path / "c2"]
    ensemble = nerkit.load(save_ensemble(tmp_path / "ens", members), precision="fp32")
    alone = [nerkit.load(m, precision="fp32") for m in members]
    texts = [text for text, _ in TEXTS]
    for k, labels in enumerate(ensemble.predict(texts)):
        top = labels[0]
        scores = [
            next(x.score for x in member.predict([texts[k]])[0] if x.label == top.label)
            for member in alone
        ]
        assert top.score == pytest.approx(sum(scores) / 2, abs=1e-5)
