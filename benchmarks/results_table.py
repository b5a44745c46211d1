"""Print README table rows from the training results that `benchmarks/train.py` recorded.

    .venv/bin/python benchmarks/results_table.py [--config SUBSTRING] [--model NAME] [--last N]

Reads benchmarks/results/ner.jsonl and prints one Markdown row per matching run in the
columns of the README's NER table: data, model (the command's config, --model and
overrides), P, R, F1, best dev F1 (epoch / epochs run), wall time, train and decode
sentences/s. Only the figures are formatted; nothing is recomputed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import provenance

DATASETS = {"resume": "Resume", "msra": "MSRA", "cluener": "CLUENER (official dev)",
            "conll03": "CoNLL-2003"}  # fmt: skip


def _dataset(config: str) -> str:
    stem = Path(config).stem
    return next((name for key, name in DATASETS.items() if stem.startswith(key)), stem)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def row(record: dict[str, Any]) -> str:
    """Return the README row of one recorded run."""
    command = [f"`{Path(record['config']).name}"]
    if record.get("model"):
        command.append(f"--model {record['model']}")
    command += [f"--set {o}" for o in record.get("overrides", [])]
    cells = [
        _dataset(record["config"]),
        " ".join(command) + "`",
        _percent(record.get("test_precision")),
        _percent(record.get("test_recall")),
        _percent(record.get("test_f1")),
        f"{_percent(record.get('best_dev_f1'))} ({record.get('best_epoch')} / "
        f"{record.get('epochs_run')})",
        f"{record['wall_seconds'] / 60:.1f} min",
        _rate(record.get("train_sents_per_s")),
        _rate(record.get("decode_sents_per_s")),
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="", help="keep runs whose config path contains this")
    parser.add_argument("--model", default=None, help="keep runs of this zoo model")
    parser.add_argument("--last", type=int, default=0, help="only the last N matching runs")
    args = parser.parse_args()
    lines = (provenance.RESULTS / "ner.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    chosen = [
        r
        for r in records
        if args.config in r.get("config", "")
        and (args.model is None or r.get("model") == args.model)
        and "wall_seconds" in r
    ]
    for record in chosen[-args.last :] if args.last else chosen:
        print(row(record))


if __name__ == "__main__":
    main()
