"""Distillation of the classifying tasks (`nerkit.tasks.distill`): text classifiers and
relation models learning a teacher's class probabilities."""

from __future__ import annotations

import pytest
import torch
from classification.tiny import TEXTS, tiny_classifier_config, write_texts
from relations.tiny import (
    MULTI,
    SEMEVAL,
    bare,
    predicted_triples,
    tiny_relation_config,
    triples,
    write_examples,
)

import nerkit
from nerkit.artifacts import load_model, save_ensemble
from nerkit.errors import ConfigError
from nerkit.tasks import load_config
from nerkit.tasks.classification.model import text_logits
from nerkit.tasks.distill import distilled_targets
from nerkit.training.run import prepare

TEXT_LABELS = [label for _, label in TEXTS]


@pytest.fixture(scope="module")
def classifier_teacher(tmp_path_factory):
    directory = tmp_path_factory.mktemp("class_teacher")
    config = tiny_classifier_config(write_texts(directory))
    nerkit.train(config, str(directory / "teacher"), progress=False)
    return directory / "teacher"


@pytest.fixture(scope="module")
def relation_teacher(tmp_path_factory):
    directory = tmp_path_factory.mktemp("relation_teacher")
    train = write_examples(directory, SEMEVAL, "semeval")
    config = tiny_relation_config(train, pair_order="text", tokenization="word")
    nerkit.train(config, str(directory / "teacher"), progress=False)
    return directory / "teacher"


def _distilled(config: dict, teacher, weight: float = 1.0, temperature: float = 1.0) -> dict:
    config["train"]["distill"] = {
        "teacher": str(teacher), "weight": weight, "temperature": temperature,
    }  # fmt: skip
    return config


def test_targets_mix_the_teachers_probabilities_with_the_gold_ones(classifier_teacher, tmp_path):
    teacher = load_model(classifier_teacher)
    labels = list(reversed(teacher.model.labels))  # another class order than the teacher's
    config = load_config(
        _distilled(tiny_classifier_config(write_texts(tmp_path)), classifier_teacher, 0.7, 2.0)
    )
    texts = [text for text, _ in TEXTS]
    gold = torch.tensor([labels.index(label) for label in TEXT_LABELS])
    got = distilled_targets(
        config, teacher, gold, labels, False, lambda t: text_logits(t.model, t.vocabs, texts)
    )
    logits = text_logits(teacher.model, teacher.vocabs, texts)
    order = [teacher.model.labels.index(label) for label in labels]
    expected = 0.7 * (logits[:, order] / 2.0).softmax(dim=1)
    expected[torch.arange(len(texts)), gold] += 0.3
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(got.sum(dim=1), torch.ones(len(texts)), atol=1e-6)


def test_a_classifier_learns_the_training_labels_from_the_teacher_alone(
    classifier_teacher, tmp_path
):
    config = _distilled(tiny_classifier_config(write_texts(tmp_path)), classifier_teacher)
    config["train"]["seed"] = 7  # not the teacher's initialisation
    nerkit.train(config, str(tmp_path / "student"), progress=False)
    found = nerkit.load(str(tmp_path / "student")).predict([text for text, _ in TEXTS])
    assert [labels[0].label for labels in found] == TEXT_LABELS


def test_a_relation_model_learns_the_training_relations_from_the_teacher_alone(
    relation_teacher, tmp_path
):
    train = write_examples(tmp_path, SEMEVAL, "semeval")
    config = tiny_relation_config(
        train, pair_order="text", tokenization="word", pooling="entity_mean", markers="symbols"
    )  # other markers and pooling than the teacher: it reads the pairs with its own
    nerkit.train(_distilled(config, relation_teacher), str(tmp_path / "student"), progress=False)
    student = nerkit.load(str(tmp_path / "student"), precision="fp32")
    assert predicted_triples(student.predict(bare(SEMEVAL))) == triples(SEMEVAL)


def test_multi_label_relation_targets_are_mixed_sigmoids(tmp_path):
    train = write_examples(tmp_path, MULTI, "multi")
    options = {"multi_label": True}
    nerkit.train(tiny_relation_config(train, **options), str(tmp_path / "t"), progress=False)
    config = load_config(_distilled(tiny_relation_config(train, **options), tmp_path / "t", 0.5))
    prepared = prepare(config)
    targets = torch.cat([batch.targets for batch in prepared.batches(torch.Generator())])
    assert targets.shape == (4, 2)  # one row per pair, the unknown-only pair's too
    # 0.5 * sigmoid + 0.5 * gold: above 0.5 exactly for the gold classes (3 pairs, 4 labels)
    assert int((targets > 0.5).sum()) == 4 and targets.min() > 0 and targets.max() < 1


def test_a_teacher_that_cannot_teach_is_a_config_error(
    classifier_teacher, relation_teacher, tmp_path
):
    semeval = write_examples(tmp_path, SEMEVAL, "semeval")
    wrong_task = _distilled(tiny_relation_config(semeval, pair_order="text"), classifier_teacher)
    with pytest.raises(ConfigError, match="is a classification model"):
        prepare(load_config(wrong_task))
    wrong_order = _distilled(tiny_relation_config(semeval), relation_teacher)
    with pytest.raises(ConfigError, match=r"model\.pair_order 'text'"):
        prepare(load_config(wrong_order))
    other_labels = write_texts(tmp_path, [("好", "good"), ("坏", "bad")], "other")
    wrong_classes = _distilled(tiny_classifier_config(other_labels), classifier_teacher)
    with pytest.raises(ConfigError, match="must be the same"):
        prepare(load_config(wrong_classes))


def test_an_ensemble_directory_teaches_with_its_mean_probabilities(relation_teacher, tmp_path):
    train = write_examples(tmp_path, SEMEVAL, "semeval")
    config = tiny_relation_config(train, pair_order="text", tokenization="word")
    config["train"]["seed"] = 5
    nerkit.train(config, str(tmp_path / "second"), progress=False)
    ensemble = save_ensemble(tmp_path / "ensemble", [relation_teacher, tmp_path / "second"])
    student = _distilled(tiny_relation_config(train, pair_order="text", tokenization="word"),
                         ensemble)  # fmt: skip
    nerkit.train(student, str(tmp_path / "student"), progress=False)
    found = nerkit.load(str(tmp_path / "student"), precision="fp32").predict(bare(SEMEVAL))
    assert predicted_triples(found) == triples(SEMEVAL)
