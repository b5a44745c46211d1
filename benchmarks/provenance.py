"""Where a benchmark figure came from: the commit and the time, recorded with the figure.

Every script in benchmarks/ appends its results to a JSON-lines file under
benchmarks/results/ through `append`, so each line says which code produced it and when.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def commit() -> str:
    """Return the short hash of the checked-out commit, or "unknown" outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def now() -> str:
    """Return the current UTC time in ISO 8601, to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def append(name: str, record: dict[str, Any]) -> dict[str, Any]:
    """Append `record` with its commit and date to results/NAME; return what was written."""
    stamped = {**record, "commit": record.get("commit") or commit(), "date": now()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / name, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(stamped, ensure_ascii=False) + "\n")
    return stamped
