"""Bulk extraction: formats, gzip, order, offsets into the original text, resumption, workers."""

from __future__ import annotations

import gzip
import itertools
import json

import pytest
from models.tiny import EXAMPLES
from typer.testing import CliRunner

from nerkit.cli import serving  # noqa: F401  (registers the commands)
from nerkit.cli._app import app
from nerkit.errors import DataFormatError, NerkitError
from nerkit.extract import ExtractOptions, extract, split_sentences
from nerkit.extract import run as extract_run

TEXTS = [example.text for example in EXAMPLES]
# the defaults before extraction started one worker per core and picked the precision:
# these tests compare with the fp32 predictor in this process
OLD_DEFAULTS = {"workers": 1, "precision": "fp32"}


def _read(path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("张三在北京。李四去了上海！王五？", ["张三在北京。", "李四去了上海！", "王五？"]),
        ("他说：“好。”然后走了；\n\n第二段", ["他说：“好。”", "然后走了；", "第二段"]),
        (
            "Alice came. Bob left! ok? fine. e.g. this",
            ["Alice came.", "Bob left! ok? fine. e.g. this"],
        ),
        ("  lead and trail  \n", ["lead and trail"]),
        ("", []),
        ("。。。", ["。。。"]),
    ],
)
def test_split_sentences(text, sentences):
    spans = split_sentences(text)
    assert [text[start:end] for start, end in spans] == sentences
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_text_input_gives_one_record_per_line_in_order(model_dir, predictor, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("\n".join([*TEXTS, "", *TEXTS[:2]]) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    options = ExtractOptions(shard_lines=3, keep_text=True, **OLD_DEFAULTS)
    summary = extract(model_dir, [source], output, options, progress=False)
    records = _read(output)
    assert summary.documents == len(records) == len(TEXTS) + 3 and summary.shards == 3
    assert [r["line"] for r in records] == list(range(1, len(records) + 1))
    expected = predictor.predict([*TEXTS, "", *TEXTS[:2]])
    for record, entities in zip(records, expected):
        found = [(e["start"], e["end"], e["label"], e["text"]) for e in record["entities"]]
        assert found == [(e.start, e.end, e.label, e.text) for e in entities]
    assert not (tmp_path / "out.jsonl.parts").exists()


def test_long_documents_are_split_and_offsets_point_into_the_original(
    model_dir, predictor, tmp_path
):
    # Sentences joined into one long document, with spaces and newlines between them:
    # every entity must still index the ORIGINAL document.
    document = " ".join(TEXTS[:4]) + "\n\n" + "  ".join(TEXTS[4:]) + "  " + "".join(TEXTS[:4])
    source = tmp_path / "docs.jsonl.gz"
    with gzip.open(source, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "doc-1", "body": document}, ensure_ascii=False) + "\n")
    output = tmp_path / "out.jsonl.gz"
    options = ExtractOptions(
        input_format="jsonl", text_field="body", split_chars=20, **OLD_DEFAULTS
    )
    extract(model_dir, [source], output, options, progress=False)
    (record,) = _read(output)
    assert record["id"] == "doc-1" and "text" not in record
    entities = record["entities"]
    assert all(document[e["start"] : e["end"]] == e["text"] for e in entities)
    sentences = split_sentences(document)
    assert len(sentences) == 9  # "London.  张三": no capital after the full stop
    per_sentence = predictor.predict([document[start:end] for start, end in sentences])
    expected = [
        (e.start + start, e.end + start, e.label)
        for (start, _), found in zip(sentences, per_sentence)
        for e in found
    ]
    assert [(e["start"], e["end"], e["label"]) for e in entities] == expected
    assert len(expected) >= 18  # nearly every gold entity (21) of the tiny corpus
    assert [e["start"] for e in entities] == sorted(e["start"] for e in entities)


def test_an_interrupted_run_resumes_from_finished_shards(model_dir, tmp_path, monkeypatch):
    source = tmp_path / "in.txt"
    source.write_text("\n".join(TEXTS * 2) + "\n", encoding="utf-8")
    options = ExtractOptions(shard_lines=2, **OLD_DEFAULTS)
    reference = tmp_path / "reference.jsonl"
    extract(model_dir, [source], reference, options, progress=False)

    original = extract_run.ShardTagger.__call__

    def crash_on_third(self, index, shard):
        if index == 2:
            raise KeyboardInterrupt
        return original(self, index, shard)

    monkeypatch.setattr(extract_run.ShardTagger, "__call__", crash_on_third)
    output = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        extract(model_dir, [source], output, options, progress=False)
    assert sorted(p.name for p in (tmp_path / "out.jsonl.parts").glob("*.done")) == [
        "00000.done",
        "00001.done",
    ]
    monkeypatch.setattr(extract_run.ShardTagger, "__call__", original)
    summary = extract(model_dir, [source], output, options, progress=False)
    assert summary.skipped_shards == 2 and summary.shards == 6
    assert output.read_bytes() == reference.read_bytes()


def test_resuming_with_other_options_is_refused(model_dir, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("张三\n", encoding="utf-8")
    parts = tmp_path / "out.jsonl.parts"
    parts.mkdir()
    (parts / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(NerkitError, match="shards of a different run"):
        extract(
            model_dir, [source], tmp_path / "out.jsonl", ExtractOptions(**OLD_DEFAULTS),
            progress=False,
        )  # fmt: skip


def test_bad_jsonl_names_file_and_line(model_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "张三"}\n{"content": "李四"}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"in\.jsonl:2: expected an object with a string"):
        extract(
            model_dir, [source], tmp_path / "o.jsonl",
            ExtractOptions(input_format="jsonl", **OLD_DEFAULTS),
            progress=False,
        )  # fmt: skip


def test_two_worker_processes_give_the_same_output(model_dir, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("\n".join(TEXTS * 3) + "\n", encoding="utf-8")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    extract(model_dir, [source], one, ExtractOptions(shard_lines=4, **OLD_DEFAULTS),
            progress=False)  # fmt: skip
    two_workers = ExtractOptions(shard_lines=4, workers=2, precision="fp32")
    extract(model_dir, [source], two, two_workers, progress=False)
    strip = [[(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in _read(one)]
    assert strip == [
        [(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in _read(two)
    ]


def test_cli_extract_two_inputs(model_dir, tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(TEXTS[0] + "\n", encoding="utf-8")
    second.write_text(TEXTS[1] + "\n" + TEXTS[2] + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        ["extract", str(model_dir), str(first), str(second), "--output", str(output),
         "--workers", "1", "--precision", "fp32"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [(r["file"], r["line"]) for r in _read(output)] == [
        ("a.txt", 1),
        ("b.txt", 1),
        ("b.txt", 2),
    ]


def test_defaults_are_one_worker_per_core_auto_precision_and_torch():
    options = ExtractOptions()
    assert (options.workers, options.precision, options.runtime) == (0, "auto", "torch")
    with pytest.raises(NerkitError, match="runtime must be torch or onnx"):
        ExtractOptions(runtime="tflite")


def test_cli_extract_without_a_model_dir_uses_the_shipped_model(tmp_path):
    import nerkit

    source = tmp_path / "in.txt"
    texts = ["姚明出生于上海。", "李四去了北京。"]
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app, ["extract", str(source), "-o", str(output), "--workers", "1", "--precision", "fp32"]
    )
    assert result.exit_code == 0, result.output
    expected = nerkit.load().predict(texts)
    found = [[(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in _read(output)]
    assert found == [[(e.start, e.end, e.label) for e in entities] for entities in expected]
    assert any(found)
