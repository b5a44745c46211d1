"""The run-time defaults that the Python API, the CLI, the server and `extract` share.

Torch-free, so that the CLI can show them in ``--help`` without importing torch. Chosen by
measurement on the shipped tagger (docs/prediction.md, docs/serving.md): batches of 128 in
bf16 (where the CPU computes it natively) were the fastest for `nerkit extract` and bring
`Predictor.predict` in one process (with the garbage collector paused during a call) to
81-106 % of it in five runs, median 99 % (72-75 % with fp32, batch 64 and the collector
running).
"""

from __future__ import annotations

__all__ = [
    "BATCH_SIZE",
    "PRECISION",
    "PRECISION_CHOICES",
    "RUNTIMES",
    "SHARD_LINES",
    "SPLIT_CHARS",
]

PRECISION_CHOICES = ("fp32", "bf16", "auto")
PRECISION = "auto"  # bf16 where the CPU has native bfloat16 (AVX512-BF16 or AMX), else fp32
RUNTIMES = ("torch", "onnx")
BATCH_SIZE = 128  # texts (or sentence pieces) per model batch
SHARD_LINES = 10_000  # extract: documents per shard, the unit of resumption
SPLIT_CHARS = 200  # extract: documents longer than this are split into sentences
