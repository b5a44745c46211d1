"""Classification readers (JSON lines, CSV, TSV) and metrics against hand-computed cases."""

from __future__ import annotations

import pytest

from nerkit.errors import DataFormatError
from nerkit.tasks.classification.data import TextExample, read_texts
from nerkit.tasks.classification.metrics import score_labels


def test_jsonl_reads_single_and_multi_label_records(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"text": "好评", "label": "pos"}\n\n{"text": "a, b", "label": ["x", "y"]}\n',
        encoding="utf-8",
    )
    assert read_texts(path) == [TextExample("好评", ("pos",)), TextExample("a, b", ("x", "y"))]


def test_csv_and_tsv_read_named_columns_and_pipe_separated_labels(tmp_path):
    csv_path = tmp_path / "t.csv"
    csv_path.write_text('id,review,sentiment\n1,"good, really",pos\n2,bad,neg|angry\n', "utf-8")
    examples = read_texts(csv_path, text_field="review", label_field="sentiment")
    assert examples == [TextExample("good, really", ("pos",)), TextExample("bad", ("neg", "angry"))]
    tsv_path = tmp_path / "t.tsv"
    tsv_path.write_text("text\tlabel\n很好\tpos\n", encoding="utf-8")
    assert read_texts(tsv_path) == [TextExample("很好", ("pos",))]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.jsonl", '{"text": "x", "label": "a"}\n{"text": "y"}\n', r"a\.jsonl:2: .*no 'label'"),
        ("b.jsonl", '{"text": "x", "label": 3}\n', r"b\.jsonl:1: expected a label string"),
        ("c.jsonl", "not json\n", r"c\.jsonl:1: invalid JSON"),
        ("d.csv", "body,label\nx,a\n", r"d\.csv:1: the header .* has no column 'text'"),
        ("e.txt", "x\n", r"e\.txt:1: cannot tell the text format"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        read_texts(path)


def test_invalid_utf8_names_its_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "ok", "label": "a"}\n{"text": "\xff", "label": "a"}\n')
    with pytest.raises(DataFormatError, match=r"bad\.jsonl:2: expected UTF-8"):
        read_texts(path)


def test_single_label_scores_by_hand():
    gold = [["pos"], ["pos"], ["neg"], ["neg"], ["neu"]]
    pred = [["pos"], ["neg"], ["neg"], ["neg"], ["pos"]]
    report = score_labels(gold, pred)
    assert report.accuracy == pytest.approx(3 / 5)
    assert report.micro_f1 == pytest.approx(3 / 5)  # single-label: micro-F1 = accuracy
    # pos: P 1/2 R 1/2; neg: P 2/3 R 1; neu: P 0 R 0
    assert report.per_label["pos"].f1 == pytest.approx(0.5)
    assert report.per_label["neg"].f1 == pytest.approx(0.8)
    assert report.per_label["neu"].f1 == 0.0
    assert report.macro_f1 == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert report.main_score == report.accuracy
    assert set(report.to_dict()) >= {"accuracy", "macro_f1", "micro_f1", "per_label"}


def test_multi_label_scores_count_text_label_decisions():
    gold = [["a", "b"], ["a"], []]
    pred = [["a"], ["a", "b"], ["b"]]
    report = score_labels(gold, pred, multi_label=True)
    assert report.accuracy == 0.0  # no exact set match
    # decisions: correct a, a; predicted 4; gold 3 -> P 2/4, R 2/3
    assert report.micro_f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert report.per_label["b"].precision == 0.0
    assert report.main_score == report.micro_f1
