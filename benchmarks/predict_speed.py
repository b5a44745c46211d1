"""Prediction speed: sentences/s and chars/s of the predictor's `predict` on MSRA test sentences.

Times `nerkit.predict.load(MODEL_DIR).predict(texts, batch_size=B)` in this process (the
model alone: no I/O, model loading excluded) on the first N MSRA test sentences
(characters of each sentence joined; ../shared/data/msra/msra_test_bio), once per batch
size, `--repeat` times each, and prints the median. The machine is shared: medians over
repeats, not means.

With `--baseline SRC` the same measurement also runs on another copy of the `nerkit`
package (SRC is the directory that holds it, e.g. an unpacked `git archive OLD nerkit`),
old and new alternating in child processes so both see the same machine load; with
`--check` the predictions of both (entities and scores) must agree exactly.

Run from the repository root:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/predict_speed.py MODEL_DIR \
        [--sentences 0] [--batch-size 64,128,256] [--threads 1] [--repeat 5] \
        [--baseline SRC [--rounds 3] [--check]]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from msra import msra_sentences


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Return {batch size: median seconds} and a digest of the predictions, in this process."""
    import torch

    try:
        from nerkit.predict import load
    except ImportError:  # a --baseline from before `load`: the predictor was a class
        from nerkit.predict import Predictor as load  # type: ignore[assignment,no-redef]

    torch.set_num_threads(args.threads)
    texts = _texts(args.sentences)
    predictor = load(args.model_dir)
    predictor.predict(texts[:256])  # warm-up: allocator, lazy imports
    seconds: dict[str, list[float]] = {}
    found: list[Any] = []
    for size in _sizes(args.batch_size):
        wall, cpu = [], []
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            found = predictor.predict(texts, batch_size=size)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        seconds[str(size)] = [statistics.median(wall), statistics.median(cpu)]
    predictions = [[list(vars(e).values()) for e in entities] for entities in found]
    return {"seconds": seconds, "predictions": predictions if args.check else None}


def _texts(limit: int) -> list[str]:
    texts = msra_sentences()
    return texts[:limit] if limit else texts


def _sizes(raw: str) -> list[int]:
    return [int(size) for size in raw.split(",") if size]


def _child(args: argparse.Namespace, source: Path | None) -> dict[str, Any]:
    """Run `measure` in a child process whose `nerkit` is imported from `source`."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = f"{source}{os.pathsep}{env.get('PYTHONPATH', '')}"
    command = [sys.executable, __file__, str(args.model_dir), "--child"]
    command += ["--sentences", str(args.sentences), "--batch-size", args.batch_size]
    command += ["--threads", str(args.threads), "--repeat", str(args.repeat)]
    command += ["--check"] if args.check else []
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _table(rows: list[tuple[str, str, float, float]], texts: list[str]) -> str:
    """Return the result table; `cpu` is the process CPU time (less sensitive to load)."""
    chars = sum(len(text) for text in texts)
    lines = [
        f"{len(texts)} MSRA test sentences, {chars} chars",
        f"{'code':<10} {'batch':>5} {'wall s':>7} {'sent/s':>7} {'chars/s':>8} "
        f"{'cpu s':>7} {'sent/cpu-s':>10}",
    ]
    for code, size, wall, cpu in rows:
        lines.append(
            f"{code:<10} {size:>5} {wall:>7.3f} {len(texts) / wall:>7.0f} {chars / wall:>8.0f} "
            f"{cpu:>7.3f} {len(texts) / cpu:>10.0f}"
        )
    return "\n".join(lines)


def _compare(args: argparse.Namespace) -> str:
    """Alternate baseline and current code for `--rounds` rounds; return the table."""
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "current": []}
    for _ in range(args.rounds):
        runs["baseline"].append(_child(args, args.baseline))
        runs["current"].append(_child(args, None))
    rows = [
        (
            code,
            size,
            statistics.median(run["seconds"][size][0] for run in results),
            statistics.median(run["seconds"][size][1] for run in results),
        )
        for size in map(str, _sizes(args.batch_size))
        for code, results in runs.items()
    ]
    text = _table(rows, _texts(args.sentences))
    if args.check:
        same = runs["baseline"][0]["predictions"] == runs["current"][0]["predictions"]
        text += f"\npredictions identical (entities and scores): {same}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--sentences", type=int, default=0, help="first N sentences (0: all)")
    parser.add_argument("--batch-size", default="64", help="comma-separated batch sizes")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="directory holding an older nerkit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="compare predictions too")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args)))
    elif args.baseline is not None:
        print(_compare(args))
    else:
        result = measure(args)["seconds"]
        rows = [("current", size, wall, cpu) for size, (wall, cpu) in result.items()]
        print(_table(rows, _texts(args.sentences)))


if __name__ == "__main__":
    main()
