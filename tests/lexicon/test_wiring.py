"""Lexicon features wired into the token encoder: train, save -> load, batching, files, ONNX."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from classification.tiny import tiny_classifier_config, write_texts
from models.tiny import EXAMPLES, gold_entities, tiny_config, triples, write_corpus

import nerkit
from nerkit import api
from nerkit.artifacts import LEXICON_FILE, load_model
from nerkit.encoders.features import collate, featurize
from nerkit.encoders.lexicon import save_word_vectors
from nerkit.errors import ArtifactError, ConfigError
from nerkit.lexicon import Lexicon, LexiconMatcher
from nerkit.tasks import load_config
from nerkit.tasks.base import Splits
from nerkit.training.run import prepare

WORDS = {"张三": 5, "北京": 9, "李四": 1, "上海": 20, "华为": 7, "工程师": 3, "深圳": 4,
         "总部": 2, "在": 100, "外星人": 1, "满意": 3, "退货": 2, "好评": 2, "失望": 1}  # fmt: skip
TEXTS = [example.text for example in EXAMPLES] + ["华为在上海和深圳", "", "x", "外星人在北京"]


def write_lexicon(directory):
    path = directory / "words.txt"
    path.write_text("".join(f"{w} {f}\n" for w, f in WORDS.items()), encoding="utf-8")
    return path


def lexicon_config(directory, **features):
    config = tiny_config(write_corpus(directory))
    config["model"]["features"].update(
        lexicon=str(write_lexicon(directory)), lexicon_dim=8, lexicon_most_frequent=0,
        **features,
    )  # fmt: skip
    return config


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("lexicon")
    result = api.train(lexicon_config(directory), directory / "model", progress=False)
    assert result.best_score == 1.0  # overfits the tiny corpus
    return directory / "model"


def test_tagger_round_trips_and_batches(model_dir):
    predictor = api.load(model_dir)
    batched = predictor.predict(TEXTS, batch_size=4)
    assert [triples(found) for found in batched[: len(EXAMPLES)]] == gold_entities()
    one_by_one = [predictor.predict([text])[0] for text in TEXTS]
    assert [triples(e) for e in one_by_one] == [triples(e) for e in batched]
    scores = [e.score for found in one_by_one for e in found]
    assert scores == pytest.approx([e.score for found in batched for e in found], abs=1e-5)
    assert api.load(model_dir).predict(TEXTS, batch_size=4) == batched


def test_the_pruned_lexicon_is_its_own_file(model_dir):
    lexicon = Lexicon.load(model_dir / LEXICON_FILE)
    # lexicon_most_frequent=0: only the words of the training data (no 外星人, 满意, ...)
    assert set(lexicon) == {"张三", "北京", "李四", "上海", "华为", "工程师", "深圳", "总部", "在"}
    assert lexicon.frequency("上海") == 20  # lexicon_weights: lexicon keeps the file's
    vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["lexicon"]["words"] == len(lexicon)  # a digest, not the word list
    metadata = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
    assert LEXICON_FILE in metadata["sha256"]
    loaded = load_model(model_dir)
    assert loaded.vocabs.lexicon == lexicon
    table = loaded.model.token_encoder.embedder.lexicon.embedding
    assert table.num_embeddings == len(lexicon) + 2


def test_a_changed_or_missing_lexicon_is_an_artifact_error(model_dir, tmp_path):
    changed = shutil.copytree(model_dir, tmp_path / "changed")
    words = {**dict(zip(Lexicon.load(changed / LEXICON_FILE).words, [1] * 9)), "新词": 1}
    Lexicon(words).save(changed / LEXICON_FILE)
    with pytest.raises(ArtifactError, match="has changed since the model was saved"):
        load_model(changed)
    missing = shutil.copytree(model_dir, tmp_path / "missing")
    (missing / LEXICON_FILE).unlink()
    with pytest.raises(ArtifactError, match="is missing"):
        load_model(missing)


def test_batches_carry_the_lexicon_sets(model_dir):
    _, config, vocabs, _ = load_model(model_dir)
    sentences = [list("华为在上海"), list("深圳")]
    batch = collate([featurize(tokens, vocabs, config.model) for tokens in sentences])
    expected = LexiconMatcher(vocabs.lexicon).batch_sets(sentences)
    assert torch.equal(batch.lexicon_ids, torch.from_numpy(expected.ids))
    assert torch.equal(batch.lexicon_weights, torch.from_numpy(expected.weights))
    assert batch.lexicon_ids.shape[:3] == (2, 5, 4)


def test_every_parameter_gets_a_gradient(tmp_path):
    config = load_config(lexicon_config(tmp_path))
    prepared = prepare(config, Splits(list(EXAMPLES), [], []))
    batch = prepared.batches(torch.Generator().manual_seed(0))[0]
    prepared.model.loss(batch).backward()
    missing = [name for name, p in prepared.model.named_parameters()
               if p.grad is None or not p.grad.abs().sum() > 0]  # fmt: skip
    assert not missing
    assert any("lexicon" in name for name, _ in prepared.model.named_parameters())


def test_word_vectors_are_copied_in(tmp_path):
    vectors = {"上海": np.arange(8, dtype=np.float32), "华为": -np.ones(8, dtype=np.float32)}
    save_word_vectors(tmp_path / "vectors.npz", vectors)
    raw = lexicon_config(tmp_path, lexicon_vectors=str(tmp_path / "vectors.npz"))
    prepared = prepare(load_config(raw), Splits(list(EXAMPLES), [], []))
    table = prepared.model.token_encoder.embedder.lexicon.embedding.weight
    lexicon = prepared.vocabs.lexicon
    for word, vector in vectors.items():
        assert torch.allclose(table[lexicon.id(word)], torch.from_numpy(vector))


def test_corpus_weights_count_the_training_data(tmp_path):
    raw = lexicon_config(tmp_path, lexicon_weights="corpus")
    lexicon = prepare(load_config(raw), Splits(list(EXAMPLES), [], [])).vocabs.lexicon
    assert lexicon.frequency("上海") == 1 + 1  # once in the corpus, plus one
    assert lexicon.frequency("华为") == 2 + 1


def test_a_model_without_a_lexicon_is_unchanged(tmp_path):
    prepared = prepare(load_config(tiny_config(write_corpus(tmp_path))), Splits(EXAMPLES, [], []))
    assert prepared.vocabs.lexicon is None and "lexicon" not in prepared.vocabs.to_dict()
    # the keys of a tagger before lexicon features existed
    assert sorted(prepared.model.state_dict()) == [
        "head.crf.allowed", "head.crf.end_transitions", "head.crf.start_transitions",
        "head.crf.temperature", "head.crf.transitions", "head.projection.bias",
        "head.projection.weight", "token_encoder.embedder.bigrams.weight",
        "token_encoder.embedder.tokens.weight",
        *(f"token_encoder.encoder.rnn.{direction}_layers.0.{kind}_l0"
          for direction in ("backward", "forward")
          for kind in ("bias_hh", "bias_ih", "weight_hh", "weight_ih")),
    ]  # fmt: skip
    instance = featurize(list("张三"), prepared.vocabs, prepared.model.config)
    assert instance.lexicon is None and collate([instance]).lexicon_ids is None


def test_classifier_with_a_lexicon_overfits_and_round_trips(tmp_path):
    config = tiny_classifier_config(write_texts(tmp_path))
    config["model"]["features"].update(lexicon=str(write_lexicon(tmp_path)), lexicon_dim=8)
    result = api.train(config, tmp_path / "model", progress=False)
    assert result.best_score == 1.0
    assert (tmp_path / "model" / LEXICON_FILE).is_file()
    texts = ["物流很快，好评", "质量太差了，退货", ""]
    first = api.load(tmp_path / "model").predict(texts)
    assert api.load(tmp_path / "model").predict(texts) == first
    assert [api.load(tmp_path / "model").predict([text])[0] for text in texts] == first


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tokenization": "word"}, "lexicon features need tokenization 'char'"),
        ({"features": {"lexicon_vectors": "v.npz"}}, "lexicon_vectors is set but lexicon"),
        ({"features": {"lexicon": "w.txt", "freeze_lexicon_vectors": True}}, "random table"),
    ],
)
def test_config_errors(tmp_path, change, message):
    raw = tiny_config(write_corpus(tmp_path))
    features = {**raw["model"]["features"], "lexicon": "w.txt", **change.get("features", {})}
    if "lexicon_vectors" in change.get("features", {}):
        del features["lexicon"]
    raw["model"] = {**raw["model"], **change, "features": features}
    with pytest.raises(ConfigError, match=message):
        load_config(raw)


def test_a_lexicon_without_training_words_is_a_config_error(tmp_path):
    raw = lexicon_config(tmp_path)
    (tmp_path / "words.txt").write_text("外星人 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="occurs in the training data"):
        prepare(load_config(raw), Splits(list(EXAMPLES), [], []))


def test_onnx_runtime_gives_the_torch_entities(model_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    from nerkit.export import export_onnx

    directory = shutil.copytree(model_dir, tmp_path / "model")
    export_onnx(directory)
    torch_predictor = nerkit.load(directory, precision="fp32")  # the graph is float32
    onnx_predictor = nerkit.load(directory, runtime="onnx")
    for batch_size in (1, 3, 64):
        expected = torch_predictor.predict(TEXTS, batch_size=batch_size)
        found = onnx_predictor.predict(TEXTS, batch_size=batch_size)
        assert [triples(e) for e in found] == [triples(e) for e in expected]
        scores = [e.score for entities in found for e in entities]
        assert scores == pytest.approx([e.score for es in expected for e in es], abs=1e-3)


def test_calibration_and_distillation_read_the_lexicon(model_dir, tmp_path):
    directory = shutil.copytree(model_dir, tmp_path / "teacher")
    record = api.calibrate(directory)  # held-out: the model's own dev set (= train here)
    assert record["temperature"] > 0
    assert (directory / LEXICON_FILE).is_file() and load_model(directory).vocabs.lexicon
    # a student without a lexicon learns from a teacher with one, and the reverse
    for student, lexicon in (("plain", None), ("lexical", str(write_lexicon(tmp_path)))):
        config = tiny_config(write_corpus(tmp_path), distill={"teacher": str(directory)})
        config["model"]["features"]["lexicon"] = lexicon
        result = api.train(config, tmp_path / student, progress=False)
        assert result.best_score == 1.0
        assert (tmp_path / student / LEXICON_FILE).is_file() == (lexicon is not None)


def test_threads_that_ask_for_the_matcher_at_once_share_one(tmp_path):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from nerkit.encoders.features import Vocabs

    vocabs = Vocabs.__new__(Vocabs)  # only the lexicon fields matter here
    vocabs.lexicon, vocabs._matcher = Lexicon.read(write_lexicon(tmp_path)), None
    start = threading.Barrier(8)

    def ask(_: int) -> int:
        start.wait()
        return id(vocabs.matcher)

    with ThreadPoolExecutor(8) as pool:
        assert len(set(pool.map(ask, range(8)))) == 1
