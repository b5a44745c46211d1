"""The predictor: offsets into the original text, empty texts, long texts in windows, errors."""

from __future__ import annotations

import gc
import json
import shutil

import pytest
import torch
from models.tiny import EXAMPLES, gold_entities, tiny_config, triples, write_corpus

from nerkit import api
from nerkit.data.alignment import merge_window_spans, windows
from nerkit.errors import ArtifactError, NerkitError
from nerkit.predict import Predictor, load
from nerkit.tasks.tagging.heads import SoftmaxHead
from nerkit.tasks.tagging.predictor import TaggingPredictor
from nerkit.types import Span


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("predict")
    config = tiny_config(write_corpus(directory), epochs=40)
    config["model"]["max_length"] = 12  # long texts are tagged in windows of 12 characters
    api.train(config, directory / "model", progress=False)
    return directory / "model"


def test_load_gives_a_tagging_predictor_that_follows_the_protocol(model_dir):
    predictor = load(model_dir)
    assert isinstance(predictor, TaggingPredictor) and isinstance(predictor, Predictor)
    assert predictor.task == "tagging" and predictor.temperature == 1.0


def test_name_labels_and_info(model_dir):
    predictor = load(model_dir)
    assert predictor.name == "model"
    assert predictor.labels == ["LOC", "ORG", "PER"]
    assert predictor.info()["encoder"] == "bilstm"


def test_empty_and_blank_texts_give_no_entities(model_dir):
    assert load(model_dir).predict(["", "   ", "\n"]) == [[], [], []]
    assert load(model_dir).predict([]) == []


def test_offsets_index_the_original_text_around_whitespace(model_dir):
    predictor = load(model_dir)
    text = "  张三 在北京工作。"
    entities = predictor.predict([text])[0]
    assert [(e.text, e.label) for e in entities] == [("张三", "PER"), ("北京", "LOC")]
    assert all(text[e.start : e.end] == e.text for e in entities)


def test_long_text_is_tagged_in_windows_and_merged(model_dir):
    # The model sees each window as a text of its own: tagging the window texts one by one
    # and merging them by hand must give exactly what the predictor gives.
    predictor = load(model_dir)
    long_text = "".join(example.text for example in EXAMPLES[:4])  # 33 chars, no spaces
    bounds = windows(len(long_text), 12, 12 - 12 // 4)
    assert len(bounds) > 2
    per_window = predictor.predict([long_text[start:end] for start, end in bounds])
    shifted = [
        [Span(e.start + start, e.end + start, e.label) for e in entities]
        for (start, _), entities in zip(bounds, per_window)
    ]
    expected = [(s.start, s.end, s.label) for s in merge_window_spans(bounds, shifted)]
    entities = predictor.predict([long_text])[0]
    assert triples(entities) == expected and expected
    assert all(long_text[e.start : e.end] == e.text for e in entities)


def test_sentences_in_a_batch_of_mixed_lengths_match_gold(model_dir):
    texts = [example.text for example in EXAMPLES[:4]]  # each fits in one window
    predicted = load(model_dir).predict(texts, batch_size=3)
    assert [triples(e) for e in predicted] == gold_entities()[:4]


def test_predict_runs_with_the_collector_paused_and_restores_it(model_dir, monkeypatch):
    import nerkit.tasks.tagging.predictor as module

    seen: list[bool] = []
    real = module.tag_sequences

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "tag_sequences", spy)
    predictor = load(model_dir)
    assert gc.isenabled()
    assert predictor.predict(["张三在北京"]) == load(model_dir).predict(["张三在北京"])
    assert seen == [False, False] and gc.isenabled()


def test_a_single_string_is_rejected_with_a_hint(model_dir):
    with pytest.raises(TypeError, match="wrap a single text in a list"):
        load(model_dir).predict("张三")  # type: ignore[arg-type]


@pytest.mark.parametrize("missing", ["weights.safetensors", "labels.json", "vocab.json"])
def test_a_missing_artifact_file_is_named(model_dir, tmp_path, missing):
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    (copy / missing).unlink()
    with pytest.raises(ArtifactError, match=missing.replace(".", r"\.") + ".*missing"):
        load(copy)


def test_incompatible_weights_are_an_artifact_error(model_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    (copy / "labels.json").write_text('["O", "B-X", "I-X", "E-X", "S-X"]')
    # a directory without recorded checksums (as written before them), so the weights are
    # checked against the labels rather than the edited file against its checksum
    metadata = json.loads((copy / "metadata.json").read_text(encoding="utf-8"))
    metadata.pop("sha256", None)
    (copy / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    with pytest.raises(ArtifactError, match="does not fit the model"):
        load(copy)


def test_a_newer_format_version_is_refused(model_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    (copy / "metadata.json").write_text('{"format_version": 99}')
    with pytest.raises(ArtifactError, match="format_version 99 is not supported"):
        load(copy)


def test_nbest_first_analysis_is_the_prediction(model_dir):
    predictor = load(model_dir)
    texts = [example.text for example in EXAMPLES[:4]] + ["张三"]
    analyses = predictor.predict_nbest(texts, k=3, batch_size=2)
    for entities, candidates in zip(predictor.predict(texts), analyses, strict=True):
        assert 1 <= len(candidates) <= 3
        best = candidates[0][0]
        assert triples(best) == triples(entities)
        assert [e.score for e in best] == pytest.approx([e.score for e in entities], abs=1e-5)
        probabilities = [probability for _, probability in candidates]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0.0 < sum(probabilities) <= 1.0 + 1e-6


def test_nbest_of_a_one_character_text_covers_every_path(model_dir):
    # one token: each allowed tag (O and S-*) is one path, so k large gives all the mass
    (candidates,) = load(model_dir).predict_nbest(["张"], k=50)
    assert len(candidates) == 4
    assert sum(probability for _, probability in candidates) == pytest.approx(1.0, abs=1e-4)
    assert {tuple(triples(entities)) for entities, _ in candidates} == {
        (),
        ((0, 1, "LOC"),),
        ((0, 1, "ORG"),),
        ((0, 1, "PER"),),
    }


def test_nbest_of_empty_texts_is_one_empty_analysis(model_dir):
    assert load(model_dir).predict_nbest(["", " "], k=2) == [[([], 1.0)], [([], 1.0)]]


def test_nbest_refuses_long_texts_softmax_models_and_bad_k(model_dir):
    predictor = load(model_dir)
    with pytest.raises(NerkitError, match=r"at most 12 tokens, texts \[1\] are longer.*split"):
        predictor.predict_nbest(["张三", "张三在北京工作。李四去了上海。"], k=2)
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        predictor.predict_nbest(["张三"], k=0)
    input_dim = predictor.model.head.projection.in_features
    predictor.model.head = SoftmaxHead(input_dim, len(predictor.tags))
    with pytest.raises(NerkitError, match=r"need a CRF model.*softmax head"):
        predictor.predict_nbest(["张三"], k=2)


@pytest.mark.bf16
def test_bf16_precision_gives_float32_scores_close_to_fp32_and_the_same_entities(model_dir):
    texts = [example.text for example in EXAMPLES]
    exact, fast = load(model_dir, precision="fp32"), load(model_dir, precision="bf16")
    assert (exact.precision, fast.precision) == ("fp32", "bf16")
    assert fast.info()["precision"] == "bf16"
    assert list(map(triples, fast.predict(texts))) == list(map(triples, exact.predict(texts)))
    from nerkit.encoders.features import collate, featurize

    batch = collate([featurize(list(t), exact.vocabs, exact.config.model) for t in texts[:2]])
    reference, reduced = exact.model.emissions(batch), fast.model.emissions(batch)
    assert reduced.dtype == torch.float32
    assert not torch.equal(reference, reduced)  # really computed in bfloat16
    assert torch.allclose(reference, reduced, atol=0.1, rtol=0.05)


def test_auto_precision_is_the_default_and_an_unknown_one_is_a_nerkit_error(model_dir):
    from nerkit.runtime import bf16_is_native

    native = "bf16" if bf16_is_native() else "fp32"
    assert load(model_dir, precision="auto").precision == load(model_dir).precision == native
    with pytest.raises(NerkitError, match="fp32, bf16, auto"):
        load(model_dir, precision="fp16")


def test_bf16_on_a_cpu_without_native_bfloat16_is_refused_and_auto_falls_back(
    model_dir, monkeypatch
):
    import nerkit.runtime

    monkeypatch.setattr(nerkit.runtime, "bf16_is_native", lambda: False)
    with pytest.raises(NerkitError, match=r"native bfloat16.*use fp32, or auto"):
        load(model_dir, precision="bf16")
    assert load(model_dir, precision="auto").precision == "fp32"
