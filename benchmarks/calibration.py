"""How well do entity confidences match accuracy? Reliability and ECE on MSRA test, before/after T.

Every predicted entity of the model is correct when the gold has the same (start, end, label).
Entities are put into ten equal-width bins by confidence; the table gives each bin's count,
mean confidence and accuracy, and the expected calibration error is the count-weighted mean
|accuracy - confidence|. The temperature T is fitted (binary NLL of correctness) on held-out
data that is NOT the test set: by default the model's own dev set, rebuilt from its
config.json (for the shipped model: the 5 % seed-42 carve of MSRA train), or --dev FILE.
"before" is always T = 1, whatever T the model directory stores. Run from the repository root:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/calibration.py [MODEL_DIR] [--dev FILE]

(default: the shipped model). Appends a JSON line to benchmarks/results/calibration.jsonl.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import provenance
import torch
from msra import MSRA_TEST

import nerkit
from nerkit.api import DEFAULT_MODEL_DIR, calibrate
from nerkit.data.formats import read
from nerkit.tasks.tagging.calibration import binary_nll, reliability

ROOT = Path(__file__).resolve().parents[1]


def scored_entities(predictor, examples, temperature: float) -> list[tuple[float, bool]]:
    """Return (confidence, correct) of every entity the predictor finds at `temperature`."""
    predictor.model.head.set_temperature(temperature)
    predicted = predictor.predict([e.text for e in examples])
    return [
        (entity.score, (entity.start, entity.end, entity.label) in gold)
        for example, found in zip(examples, predicted, strict=True)
        for gold in [{(s.start, s.end, s.label) for s in example.spans}]
        for entity in found
    ]


def report(name: str, scored: list[tuple[float, bool]]) -> dict:
    """Print the reliability table of one run and return its JSON record."""
    confidences = [c for c, _ in scored]
    correct = [ok for _, ok in scored]
    rows, ece = reliability(confidences, correct)
    nll = binary_nll(torch.tensor(confidences), torch.tensor(correct))
    print(f"\n{name}: ECE {ece:.4f}, NLL {nll:.4f}")
    print("| confidence bin | entities | mean confidence | accuracy |\n|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['bin']} | {row['count']} | {row['confidence']:.3f} | {row['accuracy']:.3f} |"
        )
    return {"ece": ece, "nll": nll, "bins": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--dev", type=Path, default=None, help="held-out file (default: carve)")
    args = parser.parse_args()
    began = time.perf_counter()
    fit = calibrate(args.model_dir, args.dev, write=False)
    seconds = time.perf_counter() - began
    temperature = fit["temperature"]
    print(f"T = {temperature:.4f} fitted on {fit['entities']} entities of "
          f"{fit['held_out']['path']} ({fit['held_out']['examples']} sentences, {seconds:.0f} s): "
          f"dev NLL {fit['nll_before']:.4f} -> {fit['nll_after']:.4f}, "
          f"dev ECE {fit['ece_before']:.4f} -> {fit['ece_after']:.4f}")  # fmt: skip
    examples = list(read(MSRA_TEST, "conll", scheme="BIO"))
    predictor = nerkit.load(args.model_dir)
    before = report("MSRA test, T = 1", scored_entities(predictor, examples, 1.0))
    tempered = scored_entities(predictor, examples, temperature)
    after = report(f"MSRA test, T = {temperature:.3f}", tempered)
    model = "default" if args.model_dir == DEFAULT_MODEL_DIR else str(args.model_dir)
    entities = sum(row["count"] for row in before["bins"])
    record = {"model": model, "entities": entities, "ece": before["ece"], "bins": before["bins"],
              "nll": before["nll"], "temperature": temperature, "fit": fit,
              "after": after}  # fmt: skip
    provenance.append("calibration.jsonl", record)


if __name__ == "__main__":
    main()
