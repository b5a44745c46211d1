"""Ensembles: mean emissions, averaged CRF, one decode; loading, saving and checks."""

from __future__ import annotations

import json

import pytest
import torch

import nerkit
from models.tiny import EXAMPLES, gold_entities, tiny_config, triples, write_corpus
from nerkit import api
from nerkit.artifacts import load_ensemble, load_model, save_ensemble
from nerkit.encoders.features import collate, featurize
from nerkit.errors import ArtifactError
from nerkit.tasks.tagging.ensemble import Ensemble
from nerkit.tasks.tagging.predictor import TaggingPredictor
from nerkit.types import Example


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ensemble")
    corpus = write_corpus(directory)
    paths = []
    for seed in (1, 2, 3):
        api.train(tiny_config(corpus, epochs=30, seed=seed), directory / f"m{seed}", progress=False)
        paths.append(directory / f"m{seed}")
    return paths


def ensemble_predictor(source):
    """Return the predictor of an ensemble directory, or of a list of member directories."""
    if isinstance(source, list):
        return TaggingPredictor(load_ensemble(source), source[0].parent, "fp32")
    return nerkit.load(source, precision="fp32")


def _batch(vocabs, config):
    tokens = [list(example.text.replace(" ", "")) for example in EXAMPLES]
    return collate([featurize(t, vocabs, config.model) for t in tokens])


def test_emissions_are_the_mean_and_the_crf_is_averaged(members):
    loaded = [load_model(path) for path in members]
    ensemble = Ensemble([model for model, _, _, _ in loaded])
    batch = _batch(loaded[0][2], loaded[0][1])
    expected = torch.stack([model.emissions(batch) for model, _, _, _ in loaded]).mean(dim=0)
    torch.testing.assert_close(ensemble.emissions(batch), expected)
    transitions = torch.stack([model.head.crf.transitions for model, _, _, _ in loaded])
    torch.testing.assert_close(ensemble.head.crf.transitions, transitions.mean(dim=0))
    assert torch.equal(ensemble.head.crf.allowed, loaded[0][0].head.crf.allowed)


def test_an_ensemble_of_one_predicts_like_its_member(members):
    texts = [example.text for example in EXAMPLES] + ["王五去了北京。"]
    alone = nerkit.load(members[0], precision="fp32").predict(texts)
    assert ensemble_predictor([members[0]]).predict(texts) == alone


def test_ensemble_predicts_the_training_entities_batched_and_one_by_one(members):
    predictor = ensemble_predictor(members)
    texts = [example.text for example in EXAMPLES]
    batched = predictor.predict(texts, batch_size=4)
    assert [triples(entities) for entities in batched] == gold_entities()
    alone = [predictor.predict([text])[0] for text in texts]
    assert [triples(entities) for entities in alone] == gold_entities()
    scores = [e.score for entities in alone for e in entities]
    assert scores == pytest.approx([e.score for entities in batched for e in entities], abs=1e-5)
    assert all(0.0 < e.score <= 1.0 for entities in batched for e in entities)
    best = predictor.predict_nbest([texts[0]], k=2)[0]
    assert triples(best[0][0]) == gold_entities()[0] and best[0][1] >= best[-1][1]


def test_saved_ensemble_directory_loads_with_relative_members(members, tmp_path):
    directory = save_ensemble(tmp_path / "ens", members)
    content = json.loads((directory / "ensemble.json").read_text(encoding="utf-8"))
    assert all(not member.startswith("/") for member in content["members"])
    texts = [example.text for example in EXAMPLES]
    from_directory = ensemble_predictor(directory).predict(texts)
    assert from_directory == ensemble_predictor(members).predict(texts)
    info = ensemble_predictor(directory).info()
    assert info["name"].startswith("ensemble of 3") and info["labels"] == ["LOC", "ORG", "PER"]


def test_members_with_other_tags_are_refused(members, tmp_path):
    only_persons = [
        Example(e.text, tuple(s for s in e.spans if s.label == "PER")) for e in EXAMPLES
    ]
    corpus = write_corpus(tmp_path, only_persons)
    api.train(tiny_config(corpus, epochs=1), tmp_path / "per", progress=False)
    with pytest.raises(ArtifactError, match=r"vocabularies|tags"):
        load_ensemble([members[0], tmp_path / "per"])


def test_a_directory_without_ensemble_json_is_an_artifact_error(members):
    with pytest.raises(ArtifactError, match=r"ensemble\.json"):
        load_ensemble(members[0])
    with pytest.raises(ArtifactError, match="at least one"):
        load_ensemble([])
