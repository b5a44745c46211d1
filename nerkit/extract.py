"""Bulk extraction: tag large corpora with a saved model, streaming, multi-process, resumable.

Input: plain text (one document per line) or JSON lines (the text in a configurable field),
gzip-compressed when the name ends in ``.gz``. Output: JSON lines, one per input document
and in input order, ``{"line": n, "id"?: ..., "file"?: ..., "text"?: ..., "entities": [...]}``
(a classification model writes ``"labels": [{"label", "score"}, ...]`` instead of entities;
a pipeline also writes ``"relations"`` and ``"attributes"``, found within each sentence piece)
(``file`` appears when several inputs are given, ``id`` when a JSONL record has one, ``text``
with `keep_text`); entity offsets index the original document.

How it runs. The input is read as a stream and cut into shards of `shard_lines` documents,
so memory stays constant whatever the corpus size. Each shard is tagged (in-process, or by
one of N worker processes that each load the model once and use one torch thread) and
written to ``OUT.parts/00000.jsonl.gz`` ... followed by a ``00000.done`` marker. A restart
with the same inputs and options skips shards that have a marker; at the end the shards
are concatenated into OUT and the parts directory is removed.

Long documents are split into sentences (`split_sentences`) before tagging so that batches
hold pieces of similar length; entity offsets are shifted back into the document.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import shutil
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from nerkit.data.safe_write import check_output_file
from nerkit.data.sentences import split_sentences
from nerkit.defaults import (
    BATCH_SIZE,
    PRECISION,
    PRECISION_CHOICES,
    RUNTIMES,
    SHARD_LINES,
    SPLIT_CHARS,
)
from nerkit.errors import DataFormatError, NerkitError

__all__ = ["ExtractOptions", "ExtractSummary", "extract", "split_sentences"]


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


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) of a UTF-8 file (gzip when it ends in .gz).

    Lines end at "\n" only (a "\r" before it is dropped), so output record k is input line
    k even when a line holds a lone "\r", a form feed or U+2028. A byte that is not UTF-8, a
    file that is not gzip, or a gzip stream that ends early is a DataFormatError naming
    file:line.
    """
    number = 0
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):  # binary lines end at b"\n" only
                try:
                    text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as error:
                    bad = raw[error.start : error.start + 1]
                    raise DataFormatError(
                        path, number, f"expected UTF-8, found the byte {bad!r}"
                    ) from None
                yield number, text[:-1].removesuffix("\r") if text.endswith("\n") else text
    except EOFError:
        raise DataFormatError(
            path, number + 1, "the gzip stream ends early", hint="is the file truncated?"
        ) from None
    except gzip.BadGzipFile:
        raise DataFormatError(
            path, 1, "not a gzip file", hint="only .gz names are read as gzip"
        ) from None


def _records(inputs: list[Path], options: ExtractOptions) -> Iterator[dict[str, Any]]:
    """Yield one dict per document: its output fields so far plus ``_text``."""
    for path in inputs:
        for number, line in _lines(path):
            record: dict[str, Any] = {"line": number}
            if len(inputs) > 1:
                record["file"] = path.name
            if options.input_format == "text":
                record["_text"] = line
            elif line.strip():
                record.update(_parse_jsonl(path, number, line, options))
            else:
                record["_text"] = ""
            yield record


def _parse_jsonl(path: Path, number: int, line: str, options: ExtractOptions) -> dict[str, Any]:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataFormatError(path, number, f"invalid JSON: {error.msg}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get(options.text_field), str):
        found = type(raw.get(options.text_field)).__name__ if isinstance(raw, dict) else "no object"
        raise DataFormatError(
            path, number, f"expected an object with a string field {options.text_field!r}, "
            f"found {found}", hint="choose the field with --text-field",
        )  # fmt: skip
    record: dict[str, Any] = {"_text": raw[options.text_field]}
    if options.id_field in raw:
        record["id"] = raw[options.id_field]
    return record


def _shards(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    shard: list[dict[str, Any]] = []
    for record in records:
        shard.append(record)
        if len(shard) == size:
            yield shard
            shard = []
    if shard:
        yield shard


class _ShardTagger:
    """Tags shards of records with one loaded predictor and writes them to the parts dir."""

    def __init__(self, model_dir: Path, parts: Path, options: ExtractOptions) -> None:
        from nerkit.predict import load

        self.predictor = load(model_dir, precision=options.precision, runtime=options.runtime)
        self.parts, self.options = parts, options

    def __call__(self, index: int, shard: list[dict[str, Any]]) -> tuple[int, int, int]:
        """Tag and write one shard; return (documents, sentences, characters)."""
        texts = [record.pop("_text") for record in shard]
        if self.predictor.task == "classification":  # labels of whole documents
            return self._classify(index, shard, texts)
        pieces = [
            (i, start, end) for i, text in enumerate(texts) for start, end in self._split(text)
        ]
        found = self.predictor.predict(
            [texts[i][start:end] for i, start, end in pieces], batch_size=self.options.batch_size
        )
        pipeline = self.predictor.task == "pipeline"
        keys = ("entities", "relations", "attributes") if pipeline else ("entities",)
        rows: list[dict[str, list[Any]]] = [{key: [] for key in keys} for _ in shard]
        for (i, start, _), piece in zip(pieces, found, strict=True):
            outputs = piece.to_dict() if pipeline else {"entities": [e.to_dict() for e in piece]}
            for key in keys:
                rows[i][key].extend(_shifted(row, start) for row in outputs[key])
        for record, text, doc_rows in zip(shard, texts, rows, strict=True):
            if self.options.keep_text:
                record["text"] = text
            record.update(doc_rows)
        _write_shard(self.parts, index, shard)
        return len(shard), len(pieces), sum(end - start for _, start, end in pieces)

    def _classify(
        self, index: int, shard: list[dict[str, Any]], texts: list[str]
    ) -> tuple[int, int, int]:
        found = self.predictor.predict(texts, batch_size=self.options.batch_size)
        for record, text, labels in zip(shard, texts, found, strict=True):
            if self.options.keep_text:
                record["text"] = text
            record["labels"] = [label.to_dict() for label in labels]
        _write_shard(self.parts, index, shard)
        return len(shard), len(shard), sum(len(text) for text in texts)

    def _split(self, text: str) -> list[tuple[int, int]]:
        if self.options.split_chars and len(text) > self.options.split_chars:
            return split_sentences(text)
        stripped = text.strip()
        return [(0, len(text))] if stripped else []


def _shifted(row: dict[str, Any], offset: int) -> dict[str, Any]:
    """Return an output row (entity, relation or attribute dict) with its offsets moved.

    Entities have start and end; relations and attributes hold entity dicts (head, tail;
    entity, value), shifted the same way.
    """
    if "start" in row:
        return {**row, "start": row["start"] + offset, "end": row["end"] + offset}
    return {key: _shifted(value, offset) if isinstance(value, dict) else value
            for key, value in row.items()}  # fmt: skip


def _shard_path(parts: Path, index: int, suffix: str) -> Path:
    return parts / f"{index:05d}{suffix}"


def _write_shard(parts: Path, index: int, rows: list[dict[str, Any]]) -> None:
    """Write a shard atomically, then its done marker (the marker is what a restart trusts)."""
    final = _shard_path(parts, index, ".jsonl.gz")
    temporary = final.with_name(final.name + ".tmp")
    with gzip.open(temporary, "wt", encoding="utf-8", compresslevel=6) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(temporary, final)
    _shard_path(parts, index, ".done").write_text(f"{len(rows)}\n", encoding="utf-8")


# Worker processes hold their tagger here: set once by the pool initializer, per process.
_WORKER: dict[str, Any] = {}


def _init_worker(model_dir: Path, parts: Path, options: ExtractOptions) -> None:
    import torch

    torch.set_num_threads(1)  # N workers x 1 thread: no oversubscription of the cores
    try:
        _WORKER["tagger"] = _ShardTagger(model_dir, parts, options)
    except NerkitError as error:
        # an initializer that raises makes the pool respawn workers for ever: keep the
        # error and raise it from the first task instead, where the parent sees it
        _WORKER["error"] = NerkitError(str(error))


def _work(index: int, shard: list[dict[str, Any]]) -> tuple[int, int, int]:
    if "error" in _WORKER:
        raise _WORKER["error"]
    return _WORKER["tagger"](index, shard)


def _manifest(model_dir: Path, inputs: list[Path], options: ExtractOptions) -> dict[str, Any]:
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


def _prepare_parts(parts: Path, manifest: dict[str, Any]) -> None:
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


def _concatenate(parts: Path, count: int, output: Path) -> None:
    """Join shards 0..count-1 into `output` (gzip members are copied as they are)."""
    temporary = output.with_name(output.name + ".tmp")
    with open(temporary, "wb") as sink:
        for index in range(count):
            shard = _shard_path(parts, index, ".jsonl.gz")
            if output.suffix == ".gz":  # a sequence of gzip members is a valid gzip file
                with open(shard, "rb") as source:
                    shutil.copyfileobj(source, sink)
            else:
                with gzip.open(shard, "rb") as source:
                    shutil.copyfileobj(source, sink)
    os.replace(temporary, output)


def _progress_bar(enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(unit="doc", disable=not (enabled and sys.stderr.isatty()), smoothing=0.1)


def extract(
    model_dir: Path | str,
    inputs: list[Path | str],
    output: Path | str,
    options: ExtractOptions | None = None,
    progress: bool = True,
) -> ExtractSummary:
    """Tag every document of `inputs` and write JSON lines to `output`; see the module doc."""
    options = options or ExtractOptions()
    if options.workers == 0:
        options = replace(options, workers=os.cpu_count() or 1)
    model_dir, output = Path(model_dir), Path(output)
    paths = [Path(p) for p in inputs]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise NerkitError(f"input file {missing[0]!r} does not exist")
    if not paths:
        raise NerkitError("no input file given")
    check_output_file(output, sources=paths)  # before any work: not a directory, not an input
    parts = output.with_name(output.name + ".parts")
    fresh = not parts.exists()
    _prepare_parts(parts, _manifest(model_dir, paths, options))
    began = time.perf_counter()
    try:
        with _progress_bar(progress) as bar:
            totals, count, skipped = _run_shards(model_dir, parts, paths, options, bar)
    except BaseException:
        if fresh and not any(parts.glob("*.done")):
            shutil.rmtree(parts, ignore_errors=True)  # nothing to resume: a rerun starts clean
        raise
    _concatenate(parts, count, output)
    shutil.rmtree(parts)
    documents, sentences, characters = totals
    return ExtractSummary(
        documents, sentences, characters, count, skipped, time.perf_counter() - began
    )


def _run_shards(
    model_dir: Path, parts: Path, paths: list[Path], options: ExtractOptions, bar: Any
) -> tuple[list[int], int, int]:
    """Tag every unfinished shard; return ([documents, sentences, chars], shards, skipped)."""
    totals, count, skipped = [0, 0, 0], 0, 0

    def add(result: tuple[int, int, int]) -> None:
        for k, value in enumerate(result):
            totals[k] += value
        bar.update(result[0])

    pool, tagger = None, None
    if options.workers > 1:
        context = multiprocessing.get_context("spawn")  # fork + torch threads can deadlock
        pool = context.Pool(options.workers, _init_worker, (model_dir, parts, options))
    else:
        tagger = _ShardTagger(model_dir, parts, options)
    pending: deque[Any] = deque()
    try:
        for index, shard in enumerate(_shards(_records(paths, options), options.shard_lines)):
            count += 1
            if _shard_path(parts, index, ".done").exists():
                skipped += 1
                totals[0] += len(shard)
                bar.update(len(shard))
            elif tagger is not None:
                add(tagger(index, shard))
            else:
                assert pool is not None
                pending.append(pool.apply_async(_work, (index, shard)))
                while len(pending) >= 2 * options.workers:  # bounded: constant memory
                    add(pending.popleft().get())
        while pending:
            add(pending.popleft().get())
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return totals, count, skipped
