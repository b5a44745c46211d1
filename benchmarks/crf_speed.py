"""CRF layer speed: nerkit vs pytorch-crf 0.7.2, in the same process, alternating.

For each (B, T, C) the script draws emissions, random lengths in [T/2, T] and tags,
copies one set of parameters into both layers, checks that they agree (NLL within
1e-4 relative, identical Viterbi paths), then times NLL forward+backward and
decoding, alternating nerkit and pytorch-crf call by call, and reports medians and
the ratio. Run from the repository root:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/crf_speed.py [--repeats 200]

Needs the benchmark extra (`pip install -e '.[benchmark]'`, import name `torchcrf`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import provenance
import torch
import torchcrf

from nerkit.crf import CRF

SHAPES = [(1, 50, 7), (32, 50, 7), (32, 128, 13), (128, 50, 7), (128, 128, 31)]


def _inputs(batch: int, length: int, num_tags: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    emissions = torch.randn(batch, length, num_tags, generator=gen)
    lengths = torch.randint(length // 2, length + 1, (batch,), generator=gen)
    lengths[0] = length
    mask = torch.arange(length) < lengths[:, None]
    tags = torch.randint(num_tags, (batch, length), generator=gen)
    return emissions, mask, tags


def _layers(num_tags: int) -> tuple[CRF, torchcrf.CRF]:
    ours, theirs = CRF(num_tags), torchcrf.CRF(num_tags, batch_first=True)
    for name in ["transitions", "start_transitions", "end_transitions"]:
        getattr(theirs, name).data.copy_(getattr(ours, name).data)
    return ours, theirs


def _check_agreement(ours, theirs, emissions, mask, tags) -> None:
    nll = ours.nll(emissions, tags, mask)
    expected = -theirs(emissions, tags, mask, reduction="none")
    if not torch.allclose(nll, expected, rtol=1e-4, atol=1e-4):
        raise SystemExit(f"NLL differs: max |diff| {float((nll - expected).abs().max())}")
    if ours.decode(emissions, mask) != theirs.decode(emissions, mask):
        raise SystemExit("Viterbi paths differ")


def _time_alternating(
    ours: Callable[[], object], theirs: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Return the median milliseconds per call of each, calls alternating A, B, A, B."""
    for _ in range(3):  # warm-up
        ours(), theirs()
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for _ in range(repeats):
        for key, call in (("ours", ours), ("theirs", theirs)):
            begin = time.perf_counter()
            call()
            times[key].append((time.perf_counter() - begin) * 1e3)
    return statistics.median(times["ours"]), statistics.median(times["theirs"])


def _nll_step(layer, emissions, mask, tags, negate: bool) -> Callable[[], None]:
    def step() -> None:
        leaf = emissions.detach().requires_grad_()
        if negate:
            loss = -layer(leaf, tags, mask, reduction="sum")
        else:
            loss = layer.nll(leaf, tags, mask).sum()
        loss.backward()

    return step


def _decode_step(layer, emissions, mask) -> Callable[[], object]:
    def step() -> object:
        with torch.no_grad():
            return layer.decode(emissions, mask)

    return step


def run(repeats: int) -> list[dict[str, object]]:
    rows = []
    for batch, length, num_tags in SHAPES:
        emissions, mask, tags = _inputs(batch, length, num_tags, seed=batch * length + num_tags)
        ours, theirs = _layers(num_tags)
        _check_agreement(ours, theirs, emissions, mask, tags)
        n = max(20, repeats // (1 + batch * length * num_tags // 20000))
        nll_ours, nll_theirs = _time_alternating(
            _nll_step(ours, emissions, mask, tags, negate=False),
            _nll_step(theirs, emissions, mask, tags, negate=True),
            n,
        )
        dec_ours, dec_theirs = _time_alternating(
            _decode_step(ours, emissions, mask), _decode_step(theirs, emissions, mask), n
        )
        row = {
            "shape": [batch, length, num_tags],
            "nll_ms": {"nerkit": nll_ours, "pytorch_crf": nll_theirs},
            "decode_ms": {"nerkit": dec_ours, "pytorch_crf": dec_theirs},
            "calls": n,
        }
        rows.append(row)
        print(
            f"({batch}, {length}, {num_tags}): NLL fwd+bwd {nll_ours:.2f} vs {nll_theirs:.2f} ms "
            f"({nll_theirs / nll_ours:.1f}x); decode {dec_ours:.2f} vs {dec_theirs:.2f} ms "
            f"({dec_theirs / dec_ours:.1f}x)",
            flush=True,
        )
    return rows


def markdown(rows: list[dict[str, object]]) -> str:
    """Return the results as a Markdown table."""
    lines = [
        "| (B, T, C) | NLL fwd+bwd: nerkit | pytorch-crf | speed-up | decode: nerkit | pytorch-crf "
        "| speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        nll, dec = row["nll_ms"], row["decode_ms"]
        lines.append(
            f"| {tuple(row['shape'])} | {nll['nerkit']:.2f} | {nll['pytorch_crf']:.2f} | "
            f"{nll['pytorch_crf'] / nll['nerkit']:.1f}× | {dec['nerkit']:.2f} | "
            f"{dec['pytorch_crf']:.2f} | {dec['pytorch_crf'] / dec['nerkit']:.1f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per shape (max)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", default="benchmarks/results/crf_speed.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = run(args.repeats)
    record = {
        "date": provenance.now(),
        "commit": provenance.commit(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{args.threads} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}",
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "rows": rows,
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2)
    print()
    print(markdown(rows))


if __name__ == "__main__":
    main()
