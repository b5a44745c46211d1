"""HTTP load test of `nerkit serve`: requests/s and latency, with and without micro-batching.

Starts `python -m nerkit serve MODEL_DIR` on 127.0.0.1 (a free port) in a subprocess, waits
for /health, then drives POST /extract with wrk (a C load generator: `apt-get install wrk`)
for DURATION seconds at each concurrency, one connection per concurrent client, each
request carrying TEXTS-PER-REQUEST MSRA test sentences (cycled; a few built-in sentences when
../shared/data/msra is absent). Prints one JSON line per (batching, max wait, concurrency),
appends it to benchmarks/results/serve_load.jsonl and stops the server.

The load generator is wrk and not a Python client because a Python client on these 2 cores
measures itself: httpx.AsyncClient topped out at ~300-500 requests/s and its tail latency at
concurrency 64 hid the server's (seen in earlier runs of this script). Run from the
repository root:

    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 .venv/bin/python benchmarks/serve_load.py \
        MODEL_DIR [--duration 10] [--concurrency 1,8,32,64] [--max-wait-ms 0,5] \
        [--texts-per-request 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import provenance
from msra import MSRA_TEST, msra_sentences

FALLBACK = ["张三在北京工作。", "华为总部在深圳。", "Alice lives in Paris.", "李四去了上海。"]

# Each wrk thread reads the request bodies (one JSON document per line) and cycles through
# them; `done` prints the summary as one JSON line (latencies in microseconds).
WRK_SCRIPT = """
local bodies = {}
for line in io.lines(os.getenv("NERKIT_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
    .. '"errors": %d, "non_2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(90), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    model_dir: Path, port: int, batching: bool, max_wait_ms: float
) -> subprocess.Popen:
    command = [sys.executable, "-m", "nerkit", "serve", str(model_dir), "--port", str(port),
               "--log-level", "warning", "--batching" if batching else "--no-batching",
               "--max-wait-ms", str(max_wait_ms)]  # fmt: skip
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


def drive(url: str, script: Path, bodies: Path, concurrency: int, duration: float) -> dict:
    """Run wrk against `url`; return requests/s, latency percentiles in ms and error counts."""
    command = ["wrk", "-t", "1", "-c", str(concurrency), "-d", f"{duration:g}s",
               "--timeout", "10s", "-s", str(script), url]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env={**os.environ, "NERKIT_BODIES": str(bodies)})  # fmt: skip
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "requests": summary["requests"],
        "requests_per_s": round(summary["requests"] / summary["seconds"], 1),
        **{f"p{q}_ms": round(summary[f"p{q}_us"] / 1000, 2) for q in (50, 90, 99)},
        "errors": summary["errors"],
        "non_2xx": summary["non_2xx"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per row")
    parser.add_argument("--concurrency", default="1,8,32,64")
    parser.add_argument("--max-wait-ms", default="0,5", help="batching rows to run")
    parser.add_argument("--texts-per-request", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    texts = msra_sentences() if MSRA_TEST.is_file() else FALLBACK
    k = args.texts_per_request
    variants = [(True, float(w)) for w in args.max_wait_ms.split(",")] + [(False, 0.0)]
    with tempfile.TemporaryDirectory() as scratch:
        script, bodies = Path(scratch) / "post.lua", Path(scratch) / "bodies.jsonl"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        lines = (json.dumps({"texts": texts[i : i + k]}, ensure_ascii=False)
                 for i in range(0, len(texts) - k + 1, k))  # fmt: skip
        bodies.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for batching, max_wait_ms in variants:
            port = free_port()
            server = start_server(args.model_dir, port, batching, max_wait_ms)
            try:
                for concurrency in [int(c) for c in args.concurrency.split(",")]:
                    url = f"http://127.0.0.1:{port}/extract"
                    result = drive(url, script, bodies, concurrency, args.duration)
                    wait = max_wait_ms if batching else None
                    record = {"model": str(args.model_dir), "client": "wrk",
                              "batching": batching, "max_wait_ms": wait,
                              "concurrency": concurrency, "texts_per_request": k,
                              "torch_threads": os.environ.get("OMP_NUM_THREADS", "default"),
                              **result}  # fmt: skip
                    print(json.dumps(provenance.append("serve_load.jsonl", record)), flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
