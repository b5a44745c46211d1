"""How well do entity confidences match accuracy? A reliability table and the ECE on MSRA test.

Every predicted entity of the model is correct when the gold has the same (start, end, label).
Entities are put into ten equal-width bins by confidence; the table gives each bin's count,
mean confidence and accuracy, and the expected calibration error is the count-weighted mean
|accuracy - confidence|. Run from the repository root:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/calibration.py [MODEL_DIR]

(default: the shipped model). Appends a JSON line to benchmarks/results/calibration.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
from pathlib import Path

from msra import MSRA_TEST

import nerkit
from nerkit.data.formats import read

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "calibration.jsonl"
BINS = 10


def reliability(scored: list[tuple[float, bool]]) -> tuple[list[dict], float]:
    """Return the per-bin rows and the expected calibration error of (confidence, correct)."""
    rows = []
    for k in range(BINS):
        low, high = k / BINS, (k + 1) / BINS
        members = [(c, ok) for c, ok in scored if low < c <= high or (k == 0 and c == 0.0)]
        if members:
            confidence = sum(c for c, _ in members) / len(members)
            accuracy = sum(ok for _, ok in members) / len(members)
            rows.append({"bin": f"({low:.1f}, {high:.1f}]", "count": len(members),
                         "confidence": confidence, "accuracy": accuracy})  # fmt: skip
    total = sum(row["count"] for row in rows)
    ece = sum(row["count"] * abs(row["accuracy"] - row["confidence"]) for row in rows) / total
    return rows, ece


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default=None)
    args = parser.parse_args()
    examples = list(read(MSRA_TEST, "conll", scheme="BIO"))
    predicted = nerkit.load(args.model_dir).predict([e.text for e in examples])
    scored = [
        (entity.score, (entity.start, entity.end, entity.label) in gold)
        for example, found in zip(examples, predicted, strict=True)
        for gold in [{(s.start, s.end, s.label) for s in example.spans}]
        for entity in found
    ]
    rows, ece = reliability(scored)
    print(f"{len(scored)} predicted entities on {len(examples)} MSRA test sentences")
    print("| confidence bin | entities | mean confidence | accuracy |\n|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['bin']} | {row['count']} | {row['confidence']:.3f} | {row['accuracy']:.3f} |"
        )
    print(f"expected calibration error: {ece:.4f}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    record = {"model": args.model_dir or "default", "entities": len(scored), "ece": ece,
              "bins": rows, "commit": commit, "date": dt.date.today().isoformat()}  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
