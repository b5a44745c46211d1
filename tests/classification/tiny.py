"""A tiny sentiment corpus and configs small enough to train a classifier in a second."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEXTS = [
    ("这个产品很好，非常满意", "pos"),
    ("质量太差了，退货", "neg"),
    ("物流很快，好评", "pos"),
    ("不好用，失望", "neg"),
    ("great product, love it", "pos"),
    ("terrible, it broke in a day", "neg"),
]

MULTI = [
    ("价格便宜，物流快", ["price", "shipping"]),
    ("价格太贵", ["price"]),
    ("快递很慢", ["shipping"]),
    ("服务一般", []),
]


def write_texts(
    directory: Path, rows: list[tuple[str, Any]] | None = None, name: str = "t"
) -> Path:
    """Write labelled texts as JSON lines; return the file."""
    path = directory / f"{name}.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for text, label in rows or TEXTS:
            handle.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")
    return path


def tiny_classifier_config(
    train: Path, encoder: dict[str, Any] | None = None, **model: Any
) -> dict[str, Any]:
    """Return a classification config that overfits `train` (dev = train) quickly."""
    return {
        "task": "classification",
        "data": {"train": str(train), "dev": str(train)},
        "model": {
            "features": {"token_dim": 16, "bigram_dim": 8, "dropout": 0.0},
            "encoder": encoder or {"kind": "bilstm", "hidden_size": 16, "dropout": 0.0},
            "dropout": 0.0,
            **model,
        },
        "train": {"epochs": 30, "lr": 0.02, "batch_size": 4, "patience": 0, "num_threads": 1,
                  "seed": 3},
    }  # fmt: skip
