"""Run-time settings of torch that are not part of a model: threads, precision, eval mode.

Process-global torch state is only ever changed inside a context manager that restores
it (`num_threads`), so training or loading a model never leaves the caller's process
changed; the same holds for the garbage collector (`paused_gc`). Precision ("fp32" /
"bf16") is a run-time choice of how scores are computed, never saved with a model.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from nerkit.errors import NerkitError

__all__ = [
    "PRECISIONS",
    "bf16_is_native",
    "eval_mode",
    "num_threads",
    "paused_gc",
    "resolve_precision",
]

PRECISIONS = ("fp32", "bf16")


def bf16_is_native() -> bool:
    """Return True when this CPU computes bfloat16 natively (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        return False


def resolve_precision(precision: str) -> str:
    """Return "fp32" or "bf16" for a requested precision ("auto": bf16 where native).

    "bf16" on a CPU without native bfloat16 raises `NerkitError`: there it is slower than
    fp32, and oneDNN has no bfloat16 LSTM at all ("could not create a primitive descriptor").
    """
    if precision == "auto":
        return "bf16" if bf16_is_native() else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of fp32, bf16, auto; got {precision!r}")
    if precision == "bf16" and not bf16_is_native():
        raise NerkitError(
            "precision bf16 needs a CPU with native bfloat16 (AVX512-BF16 or AMX), which this "
            "one lacks: use fp32, or auto (bf16 where the CPU has it)"
        )
    return precision


@contextmanager
def num_threads(count: int) -> Iterator[None]:
    """Run the body with `torch.set_num_threads(count)`, restoring the previous count after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """Run the body with `model` in eval mode, restoring its training mode afterwards.

    Anything without `train`/`training` (an onnxruntime session wrapper) passes through.
    """
    was_training = getattr(model, "training", None)
    if was_training is None:
        yield
        return
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


_gc_lock = threading.Lock()
_gc_pauses = 0  # bodies of `paused_gc` running now, in any thread
_gc_resume = False  # whether the last body to leave turns the collector back on


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the body with Python's cyclic garbage collector off, as it was before after.

    Prediction builds many small containers (tokens, instances, spans, entities) that all
    live until the call returns; each collection walks every one of them, so collections
    grow with the batch: 10-30 % of `Predictor.predict` on MSRA test. Reference counting
    still frees everything without cycles at once; the collector only waits. Bodies may
    overlap in several threads: the collector is back on when the last one leaves, and
    only if it was on when the first one entered.
    """
    global _gc_pauses, _gc_resume
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_resume:
                gc.enable()
