"""The relation classifier on the task core: every encoder overfits a tiny Chinese/English set,
save -> load is identical, batched equals one by one, multi-label, the direction learnt in
text order with the SemEval official score, negative pairs, and the errors a user can cause."""

from __future__ import annotations

import pytest
import torch

import nerkit
from nerkit.errors import ConfigError, NerkitError
from nerkit.tasks import load_config
from nerkit.training.run import prepare
from nerkit.types import Example, Span
from relations.tiny import (
    MULTI,
    NEGATIVES,
    PAIRS,
    SEMEVAL,
    bare,
    predicted_triples,
    tiny_relation_config,
    triples,
    write_examples,
)

ENCODERS = {
    "bilstm": {"kind": "bilstm", "hidden_size": 16, "dropout": 0.0},
    "idcnn": {"kind": "idcnn", "filters": 16, "num_blocks": 1, "dropout": 0.0},
    "transformer": {"kind": "transformer", "d_model": 16, "num_heads": 2, "num_layers": 1,
                    "feedforward": 32, "dropout": 0.0},
}  # fmt: skip


def _train(tmp_path, examples=PAIRS, name="model", **options):
    config = tiny_relation_config(write_examples(tmp_path, examples, name), **options)
    nerkit.train(config, str(tmp_path / name), progress=False)
    return nerkit.load(str(tmp_path / name), precision="fp32")


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_every_encoder_overfits_the_tiny_pairs(tmp_path, encoder):
    predictor = _train(tmp_path, encoder=ENCODERS[encoder])
    assert predicted_triples(predictor.predict(bare(PAIRS))) == triples(PAIRS)


def test_entity_mean_pooling_and_typed_markers_overfit(tmp_path):
    predictor = _train(tmp_path, pooling="entity_mean", markers="typed")
    assert predicted_triples(predictor.predict(bare(PAIRS))) == triples(PAIRS)
    assert "<e1:PER>" in predictor.vocabs.tokens.to_list()


@pytest.mark.parametrize("pooling", ["entity_start_max", "entity_start_attention"])
def test_sentence_pooling_overfits_and_ignores_padding(tmp_path, pooling):
    predictor = _train(tmp_path, pooling=pooling)
    assert predicted_triples(predictor.predict(bare(PAIRS))) == triples(PAIRS)
    # the max over the sentence must not see padding: batched equals one by one
    together = predictor.predict(bare(PAIRS), batch_size=len(PAIRS))
    alone = [predictor.predict([item])[0] for item in bare(PAIRS)]
    for a, b in zip(together, alone, strict=True):
        assert [r.score for r in a] == pytest.approx([r.score for r in b], abs=1e-5)


def test_save_load_identical_and_batched_equals_one_by_one(tmp_path):
    predictor = _train(tmp_path)
    inputs = [*bare(PAIRS), ("没见过的人去了没见过的地方", [(0, 4, "PER"), (7, 12, "LOC")])]
    together = predictor.predict(inputs, batch_size=3)
    alone = [predictor.predict([item])[0] for item in inputs]
    for a, b in zip(together, alone, strict=True):
        assert [(r.head, r.tail, r.label) for r in a] == [(r.head, r.tail, r.label) for r in b]
        assert [r.score for r in a] == pytest.approx([r.score for r in b], abs=1e-5)
    again = nerkit.load(str(tmp_path / "model"), precision="fp32").predict(inputs, batch_size=3)
    assert again == together
    assert together[0][0].to_dict()["head"] == {"start": 0, "end": 2, "label": "PER",
                                                "text": "张三", "score": 1.0}  # fmt: skip


def test_every_parameter_gets_a_gradient(tmp_path):
    config = load_config(tiny_relation_config(write_examples(tmp_path, PAIRS)))
    prepared = prepare(config)
    batch = prepared.batches(torch.Generator().manual_seed(0))[0]
    prepared.model.loss(batch).backward()
    for name, parameter in prepared.model.named_parameters():
        assert parameter.grad is not None, name


def test_multi_label_pairs_hold_several_relations(tmp_path):
    # the reverse pairs (same types) are candidates too: negatives teach them "no relation"
    predictor = _train(tmp_path, MULTI, multi_label=True, calibrate=False, negative_pairs=True)
    assert predicted_triples(predictor.predict(bare(MULTI))) == triples(MULTI)
    report = nerkit.evaluate(str(tmp_path / "model"), str(tmp_path / "model.jsonl"))
    assert report.micro_f1 == 1.0 and set(report.per_label) == {"收购", "控股"}


def test_a_multi_label_threshold_fitted_on_dev_is_saved_and_used(tmp_path):
    predictor = _train(tmp_path, MULTI, multi_label=True, calibrate=False, negative_pairs=True,
                       fit_threshold=True)  # fmt: skip
    fitted = predictor.metadata["dev"]["threshold"]
    assert predictor.info()["threshold"] == pytest.approx(fitted) and 0 < fitted < 1
    assert predicted_triples(predictor.predict(bare(MULTI))) == triples(MULTI)
    with pytest.raises(ConfigError, match="fit_threshold needs multi_label"):
        load_config(tiny_relation_config(write_examples(tmp_path, MULTI), fit_threshold=True))


def test_text_order_learns_the_direction_and_reports_the_official_score(tmp_path):
    predictor = _train(tmp_path, SEMEVAL, pair_order="text", tokenization="word")
    found = predictor.predict(bare(SEMEVAL))
    assert predicted_triples(found) == triples(SEMEVAL)
    assert predictor.labels == ["Cause-Effect", "Component-Whole"]
    report = nerkit.evaluate(str(tmp_path / "model"), str(tmp_path / "model.jsonl")).to_dict()
    assert report["official_macro_f1"] == 1.0 and report["micro_f1"] == 1.0
    assert set(report["per_label"]) == {"Cause-Effect", "Component-Whole"}


def test_negative_pairs_teach_no_relation(tmp_path):
    predictor = _train(tmp_path, NEGATIVES, negative_pairs=True)
    assert predicted_triples(predictor.predict(bare(NEGATIVES))) == triples(NEGATIVES)
    assert "no_relation" in predictor.model.labels and "no_relation" not in predictor.labels


def test_predict_refuses_plain_texts_and_bad_spans(tmp_path):
    predictor = _train(tmp_path)
    with pytest.raises(NerkitError, match="not a string"):
        predictor.predict("张三出生于北京")
    with pytest.raises(NerkitError, match="classifies given entity pairs"):
        predictor.predict(["张三出生于北京"])
    with pytest.raises(NerkitError, match="ends after the text"):
        predictor.predict([("张三", [(0, 5, "PER"), (0, 1, "LOC")])])
    assert predictor.predict([Example("只有一个人", (Span(0, 2, "PER"),))]) == [[]]
    with pytest.raises(ValueError, match="pairs must be"):
        predictor.predict(bare(PAIRS), pairs="some")


def test_given_pairs_classify_only_the_pairs_the_caller_names(tmp_path):
    predictor = _train(tmp_path, MULTI, multi_label=True, calibrate=False)
    # trained without negatives: the reverse pairs are unseen; "given" does not ask about them
    given = predictor.predict(MULTI, pairs="given")
    assert predicted_triples(given) == triples(MULTI)
    assert all(r.head.start < r.tail.start for found in given for r in found)


def test_config_errors_name_the_problem(tmp_path):
    path = write_examples(tmp_path, PAIRS)
    with pytest.raises(ConfigError, match=r"model\.pooling"):
        load_config(tiny_relation_config(path, pooling="cls"))
    with pytest.raises(ConfigError, match="no_relation is empty"):
        load_config(tiny_relation_config(path, no_relation=[]))
    multi = write_examples(tmp_path, MULTI, "multi")
    with pytest.raises(ConfigError, match=r"set model\.multi_label: true"):
        prepare(load_config(tiny_relation_config(multi)))
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"text": "张三", "spans": [[0, 2, "PER"]]}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="holds no relation"):
        prepare(load_config(tiny_relation_config(plain)))
