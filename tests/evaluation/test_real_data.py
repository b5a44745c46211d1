"""`score_files` on CoNLL-2003 test against seqeval (slow: needs ../shared/data)."""

from __future__ import annotations

import random
import warnings

import pytest
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

from nerkit.evaluation.files import score_files


def sentences_of(lines: list[str]) -> list[list[str]]:
    """Return the tag column of each sentence."""
    sentences, current = [], []
    for line in lines:
        columns = line.split()
        if columns and columns[0] != "-DOCSTART-":
            current.append(columns[-1])
        elif current:
            sentences.append(current)
            current = []
    return [*sentences, current] if current else sentences


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["conlleval", "strict"])
def test_conll2003_test_scores_like_seqeval(shared_data, tmp_path, mode):
    gold_path = shared_data / "conll2003" / "test.txt"
    if not gold_path.is_file():
        pytest.skip("conll2003/test.txt is not available")
    rng = random.Random(0)
    noisy = ["O"] + [f"{p}-{label}" for p in "BI" for label in ("PER", "LOC", "ORG", "MISC")]
    pred_lines = []
    for line in gold_path.read_text(encoding="utf-8").splitlines():
        columns = line.split()
        if columns and columns[0] != "-DOCSTART-" and rng.random() < 0.05:
            line = " ".join([*columns[:-1], rng.choice(noisy)])
        pred_lines.append(line)
    pred_path = tmp_path / "pred.txt"
    pred_path.write_text("\n".join(pred_lines) + "\n", encoding="utf-8")

    result = score_files(gold_path, pred_path, scheme="BIO", mode=mode)
    gold = sentences_of(gold_path.read_text(encoding="utf-8").splitlines())
    pred = sentences_of(pred_lines)
    options = {"mode": "strict", "scheme": IOB2} if mode == "strict" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = f1_score(gold, pred, **options)
    assert result.report.support == 5648
    assert result.report.f1 == pytest.approx(expected)
