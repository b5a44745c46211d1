"""Attribute extraction on the relation task (`model.targets: attributes`): DeepKE AE rows
become (entity -> value) pair instances with exact offsets, a tiny model overfits, save -> load
is identical, batched equals one by one, evaluate --json scores attribute names, and bad input
stops with one line naming file:line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import nerkit
from nerkit.cli import app
from nerkit.data.formats.deepke import read_deepke_ae
from nerkit.errors import ConfigError, DataFormatError, NerkitError
from nerkit.tasks import load_config
from nerkit.tasks.relations.attributes import VALUE_LABEL, attribute_pairs, value_examples
from nerkit.tasks.relations.data import marked_tokens, pair_instances
from nerkit.types import Attribute, Example, Span
from relations.tiny import PAIRS, tiny_relation_config, write_examples

HEADER = ["sentence", "attribute", "entity", "entity_offset", "attribute_value",
          "attribute_value_offset"]  # fmt: skip
# (sentence, attribute, entity, value): offsets are computed, so they are exact
ROWS = [
    ("张冬梅，女，汉族，1968年生", "民族", "张冬梅", "汉族"),
    ("李明，男，回族", "民族", "李明", "回族"),
    ("王刚身高180厘米", "身高", "王刚", "180厘米"),
    ("赵丽身高165厘米", "身高", "赵丽", "165厘米"),
    ("《星河》于2010年上映", "上映时间", "星河", "2010年"),
    ("《大海》于2015年上映", "上映时间", "大海", "2015年"),
    ("Ada is 170cm tall", "身高", "Ada", "170cm"),
    # two entities and two values in one sentence: the crossed pairs hold no attribute
    ("张三是汉族，李四是回族", "民族", "张三", "汉族"),
    ("张三是汉族，李四是回族", "民族", "李四", "回族"),
]
DEEPKE_AE = Path(__file__).resolve().parents[3] / "shared" / "data" / "deepke_ae_zh"
runner = CliRunner()


def write_ae(directory: Path, rows=ROWS, name: str = "ae") -> Path:
    """Write rows as a DeepKE AE CSV with their offsets; return the file."""
    path = directory / f"{name}.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for text, name_, entity, value in rows:
            writer.writerow([text, name_, entity, text.index(entity), value, text.index(value)])
    return path


def _config(path: Path, **model) -> dict:
    config = tiny_relation_config(path, targets="attributes", **model)
    config["data"]["format"] = "deepke-ae"
    return config


def _train(tmp_path: Path, **model):
    path = write_ae(tmp_path)
    nerkit.train(_config(path, **model), str(tmp_path / "m"), progress=False)
    return nerkit.load(str(tmp_path / "m"), precision="fp32"), path


def _found(results) -> list[set[tuple[str, str, str]]]:
    return [{(a.entity.text, a.name, a.value.text) for a in found} for found in results]


def _gold(examples: list[Example]) -> list[set[tuple[str, str, str]]]:
    return [{(e.mention(e.spans[a.entity]), a.name, e.attribute_value(a)) for a in e.attributes}
            for e in examples]  # fmt: skip


def test_deepke_ae_rows_become_pair_instances_with_exact_offsets(tmp_path):
    examples = list(read_deepke_ae(write_ae(tmp_path)))
    config = load_config(_config(tmp_path / "ae.csv")).model
    pairs = [attribute_pairs(e) for e in examples]
    instances = pair_instances(pairs, config)
    assert len(instances) == len(ROWS)
    rows = iter(ROWS)
    for instance in instances:
        text, name, entity, value = next(rows)
        example = pairs[instance.example]
        head, tail = example.spans[instance.head], example.spans[instance.tail]
        assert (head.start, head.end) == (text.index(entity), text.index(entity) + len(entity))
        assert (tail.start, tail.end, tail.label) == (
            text.index(value), text.index(value) + len(value), VALUE_LABEL)  # fmt: skip
        assert instance.labels == (name,)
        marked = marked_tokens(example, instance.head, instance.tail, config)
        assert marked.tokens[marked.head[0]] == "<e1>" and marked.tokens[marked.tail[0]] == "<e2>"
        inner = "".join(marked.tokens[marked.tail[0] + 1 : marked.tail[1]])
        assert inner.replace(" ", "") == value.replace(" ", "")
    negatives = pair_instances(pairs, config.model_copy(update={"negative_pairs": True}),
                               None, "no_relation")  # fmt: skip
    crossed = [i for i in negatives if i.labels == ("no_relation",)]
    # without a schema every other ordered span pair is a candidate; the crossed pairs are some
    found = set()
    for i in crossed:
        example = pairs[i.example]
        found.add((example.mention(example.spans[i.head]), example.mention(example.spans[i.tail])))
    assert {("张三", "回族"), ("李四", "汉族")} <= found


@pytest.mark.skipif(not DEEPKE_AE.exists(), reason="../shared/data/deepke_ae_zh is absent")
def test_real_deepke_ae_pairs_cover_every_row_exactly():
    path = DEEPKE_AE / "valid.csv"
    examples = list(read_deepke_ae(path))
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = [
        (e.text, e.mention(e.spans[r.head]), r.label, e.mention(e.spans[r.tail]), e.spans[r.tail])
        for e in map(attribute_pairs, examples)
        for r in e.relations
    ]
    assert len(found) == len(rows) == 3131
    for (text, entity, name, value, span), row in zip(found, rows, strict=True):
        assert (text, name, value) == (row["sentence"], row["attribute"], row["attribute_value"])
        assert entity.casefold() == row["entity"].casefold()  # -1 offsets: searched ignoring case
        assert span.start == int(row["attribute_value_offset"])


def test_tiny_attribute_model_overfits_and_reports_attribute_names(tmp_path):
    predictor, path = _train(tmp_path, negative_pairs=True)
    examples = list(read_deepke_ae(path))
    assert predictor.info()["targets"] == "attributes"
    given = predictor.predict_attributes(examples, pairs="given")
    assert _found(given) == _gold(examples)
    # end to end: every (entity, value) pair of the candidate values; crossed pairs rejected
    values = [[(a.start, a.end) for a in e.attributes] for e in examples]
    bare = [Example(e.text, e.spans) for e in examples]
    assert _found(predictor.predict_attributes(bare, values)) == _gold(examples)
    assert given[0][0].to_dict()["value"] == {"start": 6, "end": 8, "label": VALUE_LABEL,
                                              "text": "汉族", "score": 1.0}  # fmt: skip
    report = nerkit.evaluate(str(tmp_path / "m"), str(path))
    assert report.micro_f1 == 1.0 and set(report.per_label) == {"民族", "身高", "上映时间"}


def test_save_load_identical_and_batched_equals_one_by_one(tmp_path):
    predictor, path = _train(tmp_path)
    examples = [*read_deepke_ae(path), Example("没见过的人身高200米", (Span(0, 5, "ENTITY"),),
                                               attributes=(Attribute(0, "?", 7, 11),))]  # fmt: skip
    together = predictor.predict_attributes(examples, pairs="given", batch_size=3)
    alone = [predictor.predict_attributes([e], pairs="given")[0] for e in examples]
    for a, b in zip(together, alone, strict=True):
        assert [(x.entity, x.name, x.value) for x in a] == [(x.entity, x.name, x.value) for x in b]
        assert [x.score for x in a] == pytest.approx([x.score for x in b], abs=1e-5)
    again = nerkit.load(str(tmp_path / "m"), precision="fp32")
    assert again.predict_attributes(examples, pairs="given", batch_size=3) == together


def test_cli_evaluate_json_scores_attribute_names(tmp_path):
    path = write_ae(tmp_path)
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(_config(path), allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["train", str(config_path), "--output", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["evaluate", str(tmp_path / "m"), str(path), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert set(scores) >= {"micro_f1", "macro_f1", "per_label"}
    assert set(scores["per_label"]) == {"民族", "身高", "上映时间"}
    assert set(scores["per_label"]["民族"]) >= {"precision", "recall", "f1", "support"}
    assert scores["per_label"]["民族"]["support"] == 4


def test_bad_input_stops_with_one_line_naming_the_row(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text(",".join(HEADER) + "\n王刚身高180厘米,身高,王刚,0,180厘米,40\n",
                       encoding="utf-8")  # fmt: skip
    with pytest.raises(DataFormatError, match=r"outside\.csv:2: '180厘米' is not at offset 40"):
        list(read_deepke_ae(outside))
    jsonl = tmp_path / "outside.jsonl"
    record = {"text": "王刚", "spans": [[0, 2, "ENTITY"]], "attributes": [[0, "身高", 1, 9]]}
    jsonl.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"outside\.jsonl:1:"):
        list(nerkit.data.formats.read(jsonl, "jsonl"))
    predictor, _ = _train(tmp_path)
    unknown = write_ae(tmp_path, [ROWS[0], ("李雷的血型是A型", "血型", "李雷", "A型")], "unknown")
    with pytest.raises(DataFormatError, match=r"unknown\.csv:3: attribute '血型' is not in the"):
        nerkit.evaluate(str(tmp_path / "m"), str(unknown))
    result = runner.invoke(app, ["evaluate", str(tmp_path / "m"), str(unknown), "--json"])
    assert isinstance(result.exception, DataFormatError)  # the CLI prints it as one line
    assert "unknown.csv:3:" in str(result.exception)
    with pytest.raises(NerkitError, match=r"value 4:30 ends after the text"):
        predictor.predict_attributes([("王刚身高180厘米", [(0, 2)])], [[(4, 30)]])
    with pytest.raises(NerkitError, match="2 inputs but 1 lists of values"):
        predictor.predict_attributes([("王刚", [(0, 2)]), ("李明", [(0, 2)])], [[(0, 1)]])


def test_attribute_options_and_relation_models_refuse_what_they_cannot_do(tmp_path):
    path = write_ae(tmp_path)
    with pytest.raises(ConfigError, match="set pair_order: annotated"):
        load_config(_config(path, pair_order="text"))
    relations = write_examples(tmp_path, PAIRS, "re")
    with pytest.raises(ConfigError, match="holds no attribute"):
        nerkit.train(_config(relations) | {"data": {"train": str(relations), "format": "jsonl"}},
                     str(tmp_path / "none"), progress=False)  # fmt: skip
    nerkit.train(tiny_relation_config(relations), str(tmp_path / "re"), progress=False)
    with pytest.raises(NerkitError, match=r"needs one trained with model\.targets: attributes"):
        nerkit.load(str(tmp_path / "re")).predict_attributes([("王刚", [(0, 2)])], [[(0, 1)]])


def test_value_examples_hold_the_values_as_spans(tmp_path):
    examples = list(read_deepke_ae(write_ae(tmp_path)))
    values = value_examples(examples)
    assert [[(s.start, s.end, s.label) for s in e.spans] for e in values[:2]] == [
        [(6, 8, VALUE_LABEL)], [(5, 7, VALUE_LABEL)]]  # fmt: skip
    assert [values[-1].mention(s) for s in values[-1].spans] == ["汉族", "回族"]
