"""fp32 vs bf16 tag scores: speed and accuracy of the predictor's `predict` on MSRA test.

Loads the model twice in this process (precision fp32 and bf16), alternates the two over
`--rounds` rounds on all MSRA test sentences (model loading excluded) and prints the
median sentences/s of each, their span F1 against the gold test file, and how many
sentences get exactly the same entities (offsets and labels) from both.

Run from the repository root:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/precision.py [MODEL_DIR] \
        [--threads 1] [--batch-size 256] [--rounds 5]

Appends one JSON line to benchmarks/results/precision.jsonl.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import provenance
import torch
from msra import MSRA_TEST, msra_sentences

from nerkit.api import DEFAULT_MODEL_DIR
from nerkit.data.formats import read
from nerkit.evaluation.metrics import score_spans
from nerkit.predict import load
from nerkit.runtime import bf16_is_native
from nerkit.types import Span


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", type=Path, nargs="?", default=DEFAULT_MODEL_DIR)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts = msra_sentences()
    gold = [[(s.start, s.end, s.label) for s in e.spans] for e in read(MSRA_TEST, "conll")]
    predictors = {name: load(args.model_dir, precision=name) for name in ("fp32", "bf16")}
    seconds: dict[str, list[float]] = {name: [] for name in predictors}
    found: dict[str, list[list[tuple[int, int, str]]]] = {}
    for _ in range(args.rounds):
        for name, predictor in predictors.items():
            started = time.perf_counter()
            entities = predictor.predict(texts, batch_size=args.batch_size)
            seconds[name].append(time.perf_counter() - started)
            found[name] = [[(e.start, e.end, e.label) for e in ents] for ents in entities]
    same = sum(a == b for a, b in zip(found["fp32"], found["bf16"], strict=True))
    record = {
        "model": str(args.model_dir),
        "sentences": len(texts),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "bf16_native": bf16_is_native(),
        "identical_sentences": same,
    }
    for name in predictors:
        report = score_spans([_spans(g) for g in gold], [_spans(p) for p in found[name]])
        record[name] = {
            "sents_per_s": round(len(texts) / statistics.median(seconds[name]), 1),
            "f1": round(report.f1 * 100, 2),
        }
    print(json.dumps(provenance.append("precision.jsonl", record), indent=2))


def _spans(items: list[tuple[int, int, str]]) -> list[Span]:
    return [Span(start, end, label) for start, end, label in items]


if __name__ == "__main__":
    main()
