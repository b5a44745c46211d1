"""Score an ensemble of trained models (same config, different seeds) on dev and test.

Usage (from anywhere; the members' data paths resolve against the repository root):

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/ensemble.py \
        /work/runs/resume_lac_s42 /work/runs/resume_lac_s1 ... [--save DIR] [--record]

Scores every member alone and the ensemble (`nerkit.tasks.tagging.ensemble.Ensemble`: mean
emissions, averaged CRF, one decode) on the dev and test files of the first member's config,
and prints a table. Nothing is chosen on test: the ensemble is all the members given.
`--save DIR` writes an ensemble directory (`ensemble.json`) loadable by `nerkit.load(DIR)`;
`--record` appends one line to benchmarks/results/ner.jsonl (config "ensemble").
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import provenance
import torch

from nerkit.artifacts import load_ensemble, load_model, save_ensemble
from nerkit.tasks.tagging.scoring import score_examples, summary
from nerkit.training.run import read_splits

ROOT = Path(__file__).resolve().parents[1]


def _score(model: Any, vocabs: Any, config: Any, examples: list) -> dict[str, float]:
    started = time.perf_counter()
    scores = summary(score_examples(model, vocabs, config.model, examples))
    scores["sents_per_s"] = round(len(examples) / (time.perf_counter() - started), 1)
    return scores


def _row(name: str, dev: dict[str, float] | None, test: dict[str, float]) -> str:
    dev_f1 = f"{dev['f1'] * 100:.2f}" if dev else "-"
    return (
        f"| {name} | {dev_f1} | {test['precision'] * 100:.2f} / "
        f"{test['recall'] * 100:.2f} / {test['f1'] * 100:.2f} | {test['sents_per_s']} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("members", type=Path, nargs="+", help="model directories")
    parser.add_argument("--save", type=Path, help="write an ensemble directory here")
    parser.add_argument("--record", action="store_true", help="append to results/ner.jsonl")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    members = [member.resolve() for member in args.members]
    os.chdir(ROOT)
    _, config, _, _ = load_model(members[0])
    splits = read_splits(config)  # dev carved from train exactly as in training when no file
    dev, test = splits.dev, splits.test
    print("| model | dev F1 | test P / R / F1 | test sents/s |\n| --- | --- | --- | --- |")
    for member in members:
        model, member_config, vocabs, _ = load_model(member)
        member_dev = _score(model, vocabs, member_config, dev) if dev else None
        member_test = _score(model, vocabs, member_config, test)
        print(_row(member.name, member_dev, member_test), flush=True)
    ensemble, config, vocabs, _ = load_ensemble(members)
    dev_scores = _score(ensemble, vocabs, config, dev) if dev else None
    test_scores = _score(ensemble, vocabs, config, test)
    print(_row(f"ensemble of {len(members)}", dev_scores, test_scores))
    if args.save:
        save_ensemble(args.save, members)
    if args.record:
        record = {
            "config": "ensemble", "members": [str(m) for m in members],
            "test_precision": test_scores["precision"], "test_recall": test_scores["recall"],
            "test_f1": test_scores["f1"], "best_dev_f1": (dev_scores or {}).get("f1"),
            "decode_sents_per_s": test_scores["sents_per_s"],
        }  # fmt: skip
        provenance.append("ner.jsonl", record)


if __name__ == "__main__":
    main()
