"""Distillation: soft targets from a saved teacher, and students that learn from them."""

from __future__ import annotations

import shutil

import pytest
import torch
from models.tiny import EXAMPLES, gold_entities, tiny_config, triples, write_corpus

from nerkit import api
from nerkit.artifacts import load_model, save_ensemble
from nerkit.config import DistillConfig
from nerkit.data.formats import write
from nerkit.errors import ConfigError
from nerkit.tasks.tagging.data import tag_list, tagged_sequences
from nerkit.types import Example, Span
from nerkit.vocab import LabelSet


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("distill"))


@pytest.fixture(scope="module")
def teacher(corpus):
    directory = corpus.parent / "teacher"
    api.train(tiny_config(corpus, epochs=40), directory, progress=False)
    return directory


def _sequences(tokenization: str = "char"):
    pieces = tagged_sequences(EXAMPLES, tokenization, "BIOES", 64)
    tags = tag_list(EXAMPLES, "BIOES")
    labels = LabelSet(tags)
    return [(tokens, labels.ids(t)) for tokens, t in pieces], tags


def test_soft_targets_are_distributions_mixed_with_the_gold_path(teacher):
    from nerkit.tasks.tagging.distill import soft_targets

    sequences, tags = _sequences()
    loaded = load_model(teacher)
    for weight in (1.0, 0.3):
        config = DistillConfig(teacher=teacher, weight=weight)
        targets = soft_targets(config, loaded, sequences, tags)
        for (tokens, gold), (unary, counts) in zip(sequences, targets, strict=True):
            assert unary.shape == (len(tokens), len(tags)) and counts.shape == (len(tags),) * 2
            assert torch.allclose(unary.sum(dim=1), torch.ones(len(tokens)), atol=1e-5)
            assert counts.sum().item() == pytest.approx(len(tokens) - 1, abs=1e-4)
            # the gold path keeps at least its share (1 - weight) of every position
            assert (unary[torch.arange(len(tokens)), gold] >= 1 - weight - 1e-6).all()


def test_a_student_learns_the_training_entities_from_the_teacher_alone(corpus, teacher, tmp_path):
    # weight 1: the gold tags play no part, everything comes through the teacher's
    # distribution; a different encoder and head learn it
    config = tiny_config(corpus, encoder="idcnn", head="softmax", epochs=40)
    config["train"]["distill"] = {"teacher": str(teacher), "weight": 1.0}
    api.train(config, tmp_path / "student", progress=False)
    moved = tmp_path / "teacher-moved"
    shutil.move(teacher, moved)  # the saved student needs no teacher
    try:
        found = api.load(tmp_path / "student").predict([e.text for e in EXAMPLES])
    finally:
        shutil.move(moved, teacher)
    assert [triples(entities) for entities in found] == gold_entities()


def test_a_crf_student_distils_from_a_softmax_teacher(corpus, tmp_path):
    api.train(tiny_config(corpus, head="softmax", epochs=40), tmp_path / "t", progress=False)
    config = tiny_config(corpus, epochs=40)
    config["train"]["distill"] = {"teacher": str(tmp_path / "t"), "weight": 0.5,
                                  "temperature": 2.0}  # fmt: skip
    api.train(config, tmp_path / "s", progress=False)
    found = api.load(tmp_path / "s").predict([e.text for e in EXAMPLES])
    assert [triples(entities) for entities in found] == gold_entities()


def test_a_teacher_with_other_tags_is_refused(corpus, teacher, tmp_path):
    other = tmp_path / "other.jsonl"
    write([Example("张三在北京。", (Span(0, 2, "NAME"),))] * 2, other, "jsonl")
    config = tiny_config(other, epochs=1)
    config["train"]["distill"] = {"teacher": str(teacher)}
    with pytest.raises(ConfigError, match=r"predicts other tags than the student: student only"):
        api.train(config, tmp_path / "s", progress=False)


def test_a_missing_teacher_is_a_config_error(corpus, tmp_path):
    config = tiny_config(corpus, epochs=1)
    config["train"]["distill"] = {"teacher": str(tmp_path / "nowhere")}
    with pytest.raises(ConfigError, match=r"train.distill.teacher .*nowhere' is not a model"):
        api.train(config, tmp_path / "s", progress=False)


def test_distill_settings_are_validated(corpus):
    config = tiny_config(corpus)
    config["train"]["distill"] = {"teacher": "t", "weight": 0.0, "temprature": 2}
    with pytest.raises(ConfigError, match=r"train.distill.weight.*train.distill.temprature"):
        api.train(config, corpus.parent / "never", progress=False)


def test_an_ensemble_directory_teaches_a_tagger(corpus, teacher, tmp_path):
    api.train(tiny_config(corpus, epochs=40, seed=5), tmp_path / "second", progress=False)
    ensemble = save_ensemble(tmp_path / "ensemble", [teacher, tmp_path / "second"])
    config = tiny_config(corpus, epochs=40)
    config["train"]["distill"] = {"teacher": str(ensemble), "weight": 1.0}
    api.train(config, tmp_path / "student", progress=False)
    found = api.load(tmp_path / "student").predict([e.text for e in EXAMPLES])
    assert [triples(entities) for entities in found] == gold_entities()
