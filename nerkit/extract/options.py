"""What `extract` is told (`ExtractOptions`) and what it reports (`ExtractSummary`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nerkit.defaults import (
    BATCH_SIZE,
    PRECISION,
    PRECISION_CHOICES,
    RUNTIMES,
    SHARD_LINES,
    SPLIT_CHARS,
)
from nerkit.errors import NerkitError

__all__ = ["ExtractOptions", "ExtractSummary"]


@dataclass(frozen=True)
class ExtractOptions:
    """How `extract` reads, splits, batches and parallelises.

    Attributes:
        input_format: ``text`` (one document per line) or ``jsonl``.
        text_field: The JSONL field that holds the text.
        id_field: The JSONL field copied to the output as ``id`` when present.
        workers: Worker processes; 1 tags in this process (with its torch threads); 0 (the
            default) starts one per CPU core.
        shard_lines: Documents per shard (the unit of progress and of resumption).
        batch_size: Sentences per model batch.
        split_chars: Documents longer than this are split into sentences; 0 never splits.
        pair_window: Pipelines: relations and attributes also between entities (and values)
            up to this many sentence pieces apart (0, the default: within a sentence;
            `nerkit.pipeline.documents`).
        keep_text: Copy each document's text into its output record.
        precision: ``fp32``, ``bf16`` or ``auto`` (bf16 where the CPU computes it natively).
        runtime: ``torch``, or ``onnx`` to run MODEL_DIR/model.onnx.
    """

    input_format: Literal["text", "jsonl"] = "text"
    text_field: str = "text"
    id_field: str = "id"
    workers: int = 0
    shard_lines: int = SHARD_LINES
    batch_size: int = BATCH_SIZE
    split_chars: int = SPLIT_CHARS
    pair_window: int = 0
    keep_text: bool = False
    precision: str = PRECISION
    runtime: str = "torch"

    def __post_init__(self) -> None:
        if self.input_format not in ("text", "jsonl"):
            raise NerkitError(f"input format must be 'text' or 'jsonl', got {self.input_format!r}")
        if self.workers < 0:
            raise NerkitError(f"workers must be 0 (one per core) or more, got {self.workers!r}")
        for name in ("shard_lines", "batch_size"):
            if getattr(self, name) < 1:
                raise NerkitError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.pair_window < 0:
            raise NerkitError(f"pair_window must be 0 or more, got {self.pair_window!r}")
        if self.precision not in PRECISION_CHOICES:
            raise NerkitError(f"precision must be fp32, bf16 or auto, got {self.precision!r}")
        if self.runtime not in RUNTIMES:
            raise NerkitError(f"runtime must be torch or onnx, got {self.runtime!r}")


@dataclass(frozen=True)
class ExtractSummary:
    """What a run did: documents written, sentences and characters tagged, shards."""

    documents: int
    sentences: int
    characters: int
    shards: int
    skipped_shards: int
    seconds: float
