"""The parts directory that makes `extract` resumable: shards, done markers, the manifest.

``OUT.parts/00000.jsonl.gz`` ... each followed by ``00000.done`` once written (the marker is
what a restart trusts); ``manifest.json`` holds what must be unchanged for finished shards to
be reused (inputs, model, options that change the output); `concatenate` joins the shards.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from nerkit.errors import NerkitError
from nerkit.extract.options import ExtractOptions

__all__ = ["concatenate", "prepare_parts", "run_manifest", "shard_path", "write_shard"]


def shard_path(parts: Path, index: int, suffix: str) -> Path:
    return parts / f"{index:05d}{suffix}"


def write_shard(parts: Path, index: int, rows: list[dict[str, Any]]) -> None:
    """Write a shard atomically, then its done marker (the marker is what a restart trusts)."""
    final = shard_path(parts, index, ".jsonl.gz")
    temporary = final.with_name(final.name + ".tmp")
    with gzip.open(temporary, "wt", encoding="utf-8", compresslevel=6) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(temporary, final)
    shard_path(parts, index, ".done").write_text(f"{len(rows)}\n", encoding="utf-8")


def run_manifest(model_dir: Path, inputs: list[Path], options: ExtractOptions) -> dict[str, Any]:
    """Return what must be unchanged for finished shards to be reusable."""
    stats = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in inputs]
    settings = asdict(options)
    for name in ("workers", "batch_size"):  # these change speed, not the output
        settings.pop(name)
    from nerkit.artifacts import ENSEMBLE_FILE
    from nerkit.pipeline import PIPELINE_FILE

    # the file a retrained or rebuilt model, ensemble or pipeline directory rewrites
    marks = [model_dir / name for name in ("weights.safetensors", PIPELINE_FILE, ENSEMBLE_FILE)]
    weights = next((path for path in marks if path.exists()), None)
    return {
        "model": str(model_dir.resolve()),
        "weights_mtime_ns": weights.stat().st_mtime_ns if weights else None,
        "inputs": stats,
        "options": settings,
    }


def prepare_parts(parts: Path, manifest: dict[str, Any]) -> None:
    """Create the parts directory, or check that an existing one belongs to the same run."""
    path = parts / "manifest.json"
    if parts.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if previous != json.loads(json.dumps(manifest)):
            raise NerkitError(
                f"{parts} holds shards of a different run (other inputs, model or options) "
                "(delete the directory, or rerun with the same arguments to resume)"
            )
        return
    parts.mkdir(parents=True)
    path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def concatenate(parts: Path, count: int, output: Path) -> None:
    """Join shards 0..count-1 into `output` (gzip members are copied as they are)."""
    temporary = output.with_name(output.name + ".tmp")
    with open(temporary, "wb") as sink:
        for index in range(count):
            shard = shard_path(parts, index, ".jsonl.gz")
            if output.suffix == ".gz":  # a sequence of gzip members is a valid gzip file
                with open(shard, "rb") as source:
                    shutil.copyfileobj(source, sink)
            else:
                with gzip.open(shard, "rb") as source:
                    shutil.copyfileobj(source, sink)
    os.replace(temporary, output)
