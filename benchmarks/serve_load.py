"""HTTP load test of `nerkit serve`: requests/s and latency, with and without micro-batching.

Starts `python -m nerkit serve MODEL_DIR` on 127.0.0.1 (a free port) in a subprocess,
waits for /health, drives POST /extract with a bounded async load generator
(httpx.AsyncClient, REQUESTS requests at each concurrency), prints one JSON line per
(batching, concurrency) and stops the server. Texts are MSRA test sentences when
../shared/data/msra is present, else a few built-in sentences. Run from the repository root:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/serve_load.py MODEL_DIR \
        [--requests 300] [--concurrency 1,8,32] [--texts-per-request 1] [--time-limit 120]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from msra import MSRA_TEST, msra_sentences

FALLBACK = ["张三在北京工作。", "华为总部在深圳。", "Alice lives in Paris.", "李四去了上海。"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_dir: Path, port: int, batching: bool) -> subprocess.Popen:
    command = [sys.executable, "-m", "nerkit", "serve", str(model_dir), "--port", str(port),
               "--log-level", "warning", "--batching" if batching else "--no-batching"]  # fmt: skip
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not answer /health within 60 s")


async def drive(url: str, payloads: list[dict], concurrency: int, time_limit: float) -> dict:
    """Send every payload with at most `concurrency` in flight; return throughput and latency."""
    latencies: list[float] = []
    queue: asyncio.Queue[dict] = asyncio.Queue()
    for payload in payloads:
        queue.put_nowait(payload)
    deadline = time.monotonic() + time_limit

    async def client_loop(client: httpx.AsyncClient) -> None:
        while not queue.empty() and time.monotonic() < deadline:
            payload = queue.get_nowait()
            began = time.perf_counter()
            response = await client.post(url, json=payload)
            response.raise_for_status()
            latencies.append(time.perf_counter() - began)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        began = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--texts-per-request", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per run")
    args = parser.parse_args()
    texts = msra_sentences(limit=5000) if MSRA_TEST.is_file() else FALLBACK
    k = args.texts_per_request
    payloads = [
        {"texts": [texts[(i * k + j) % len(texts)] for j in range(k)]} for i in range(args.requests)
    ]
    for batching in (True, False):
        port = free_port()
        server = start_server(args.model_dir, port, batching)
        try:
            for concurrency in [int(c) for c in args.concurrency.split(",")]:
                url = f"http://127.0.0.1:{port}/extract"
                result = asyncio.run(drive(url, payloads, concurrency, args.time_limit))
                record = {"batching": batching, "concurrency": concurrency,
                          "texts_per_request": k, **result}  # fmt: skip
                print(json.dumps(record), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
