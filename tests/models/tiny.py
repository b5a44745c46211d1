"""A tiny labelled corpus (Chinese and English) and configs small enough to train in a second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nerkit.data.formats import write
from nerkit.types import Example, Span

SENTENCES = [
    ("张三在北京工作。", [(0, 2, "PER"), (3, 5, "LOC")]),
    ("李四去了上海。", [(0, 2, "PER"), (4, 6, "LOC")]),
    ("王五是华为的工程师。", [(0, 2, "PER"), (3, 5, "ORG")]),
    ("华为总部在深圳。", [(0, 2, "ORG"), (5, 7, "LOC")]),
    ("Alice lives in Paris.", [(0, 5, "PER"), (15, 20, "LOC")]),
    ("Bob joined Google in London.", [(0, 3, "PER"), (11, 17, "ORG"), (21, 27, "LOC")]),
]

EXAMPLES = [Example(text, tuple(Span(*s) for s in spans)) for text, spans in SENTENCES]

ENCODERS: dict[str, dict[str, Any]] = {
    "bilstm": {"kind": "bilstm", "hidden_size": 24, "dropout": 0.0},
    "bigru": {"kind": "bigru", "hidden_size": 24, "dropout": 0.0},
    "idcnn": {"kind": "idcnn", "filters": 32, "num_blocks": 2, "dropout": 0.0},
    "transformer": {"kind": "transformer", "d_model": 32, "num_heads": 2, "num_layers": 1,
                    "feedforward": 64, "dropout": 0.0},
    "bilstm_attention": {"kind": "bilstm_attention", "hidden_size": 24, "num_heads": 2,
                         "dropout": 0.0},
}  # fmt: skip


def write_corpus(directory: Path, examples: list[Example] | None = None) -> Path:
    """Write the tiny corpus as JSON lines; return the file."""
    path = directory / "tiny.jsonl"
    write(examples or EXAMPLES, path, "jsonl")
    return path


def tiny_config(
    train: Path, encoder: str = "bilstm", head: str = "crf", **train_options: Any
) -> dict[str, Any]:
    """Return a config dict that overfits the tiny corpus (dev = train) quickly."""
    return {
        "data": {"train": str(train), "dev": str(train), "format": "jsonl"},
        "model": {
            "scheme": "BIOES",
            "max_length": 64,
            "features": {"token_dim": 24, "bigram_dim": 8, "dropout": 0.0},
            "encoder": ENCODERS[encoder],
            "head": head,
        },
        "train": {
            "epochs": 40, "lr": 0.02, "batch_size": 8, "patience": 0, "num_threads": 1,
            "seed": 7, **train_options,
        },
    }  # fmt: skip


def gold_entities(examples: list[Example] | None = None) -> list[list[tuple[int, int, str]]]:
    """Return the (start, end, label) triples of every example."""
    return [[(s.start, s.end, s.label) for s in e.spans] for e in examples or EXAMPLES]


def triples(entities: list) -> list[tuple[int, int, str]]:
    """Return the (start, end, label) of predicted entities."""
    return [(e.start, e.end, e.label) for e in entities]
