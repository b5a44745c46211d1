"""`nerkit score` and `score_files`: pairing, both modes, JSON shape, user errors and exit codes."""

from __future__ import annotations

import json
import random
import sys

import pytest
from typer.testing import CliRunner

from nerkit.cli import app, main
from nerkit.errors import NerkitError
from nerkit.evaluation import score_tags
from nerkit.evaluation.files import score_files
from nerkit.schemes import Scheme, tag_inventory

GOLD = "EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n\nPeter B-PER\nBlackburn I-PER\n"
PRED = "EU B-ORG\nrejects O\nGerman I-MISC\ncall O\n\nPeter B-PER\nBlackburn B-PER\n"
PRED_JSONL = (
    '{"text": "EU rejects German call", "spans": [[0, 2, "ORG"], [11, 17, "MISC"]]}\n'
    '{"text": "Peter Blackburn", "spans": [[0, 5, "PER"]]}\n'
)


@pytest.fixture
def files(tmp_path):
    paths = {"gold": tmp_path / "gold.conll", "pred": tmp_path / "pred.conll"}
    paths["gold"].write_text(GOLD, encoding="utf-8")
    paths["pred"].write_text(PRED, encoding="utf-8")
    paths["jsonl"] = tmp_path / "pred.jsonl"
    paths["jsonl"].write_text(PRED_JSONL, encoding="utf-8")
    return {name: str(path) for name, path in paths.items()}


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the real entry point (NerkitError -> one line + exit code 2)."""
    monkeypatch.setattr(sys, "argv", ["nerkit", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_conlleval_mode_counts_the_orphan_chunk(files):
    result = CliRunner().invoke(app, ["score", files["gold"], files["pred"], "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["support"], data["predicted"], data["correct"]) == (3, 4, 2)
    assert data["per_label"]["MISC"]["f1"] == 1.0
    assert data["mode"] == "conlleval" and data["documents"] == 2
    assert "errors" not in data


def test_strict_mode_drops_the_orphan_chunk(files):
    args = ["score", files["gold"], files["pred"], "--mode", "strict", "--json", "--errors"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["support"], data["predicted"], data["correct"]) == (3, 3, 1)
    assert data["per_label"]["MISC"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0, "correct": 0,
    }  # fmt: skip
    assert data["errors"]["counts"] == {
        "type": 0, "boundary": 1, "boundary_type": 0, "missed": 1, "spurious": 1,
    }  # fmt: skip


def test_text_output_is_a_table(files):
    result = CliRunner().invoke(app, ["score", files["gold"], files["pred"], "--errors"])
    assert result.exit_code == 0, result.output
    assert "processed 3 gold phrases; found: 4 phrases; correct: 2." in result.output
    assert "gold\\pred" in result.output


def test_formats_can_differ_and_are_detected(files):
    result = CliRunner().invoke(app, ["score", files["gold"], files["jsonl"], "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["formats"] == {"gold": "conll", "pred": "jsonl"}
    assert (data["predicted"], data["correct"]) == (3, 2)


def test_different_texts_are_a_user_error(monkeypatch, capsys, tmp_path, files):
    other = tmp_path / "other.conll"
    other.write_text(GOLD.replace("Blackburn", "Blackbird"), encoding="utf-8")
    code, out, err = run_main(monkeypatch, capsys, "score", files["gold"], str(other))
    assert code == 2 and out == ""
    assert err.startswith("error: document 1 differs: gold ")
    assert "gold.conll:6 has 'Peter Blackburn'" in err and "'Peter Blackbird'" in err
    assert len(err.strip().splitlines()) == 1


def test_missing_documents_are_a_user_error(tmp_path, files):
    short = tmp_path / "short.conll"
    short.write_text(GOLD.split("\n\n")[0] + "\n", encoding="utf-8")
    with pytest.raises(NerkitError, match=r"has 2 documents but .*short\.conll has 1"):
        score_files(files["gold"], short)


def test_missing_file_exits_with_usage_error(files):
    result = CliRunner().invoke(app, ["score", files["gold"], "/nonexistent/pred.conll"])
    assert result.exit_code == 2


def test_strict_re_reads_tags_the_spans_cannot_tell_apart(tmp_path):
    # B-X S-X and S-X I-X chunk leniently to the same spans with violations at the same
    # position; only the raw tags say which chunk is the well-formed one.
    gold, pred = tmp_path / "gold.conll", tmp_path / "pred.conll"
    gold.write_text("a S-X\nb I-X\n", encoding="utf-8")
    pred.write_text("a B-X\nb S-X\n", encoding="utf-8")
    lenient = score_files(gold, pred, scheme="BIOES")
    strict = score_files(gold, pred, scheme="BIOES", mode="strict")
    assert lenient.report.correct == 2
    assert (strict.report.support, strict.report.predicted, strict.report.correct) == (1, 1, 0)


def write_conll(path, sentences):
    text = "\n\n".join("\n".join(f"w{i} {tag}" for i, tag in enumerate(tags)) for tags in sentences)
    path.write_text(text + "\n", encoding="utf-8")


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize("mode", ["conlleval", "strict"])
def test_files_score_like_their_tags(tmp_path, scheme, mode):
    rng = random.Random(7)
    inventory = tag_inventory(["A", "B"], scheme)
    gold = [[rng.choice(inventory) for _ in range(rng.randint(1, 9))] for _ in range(40)]
    pred = [[t if rng.random() < 0.7 else rng.choice(inventory) for t in s] for s in gold]
    write_conll(tmp_path / "gold.conll", gold)
    write_conll(tmp_path / "pred.conll", pred)
    got = score_files(
        tmp_path / "gold.conll", tmp_path / "pred.conll", scheme=scheme.value, mode=mode
    )
    assert got.report == score_tags(gold, pred, scheme, mode=mode)
