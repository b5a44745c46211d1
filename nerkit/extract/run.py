"""`extract`: shards tagged in this process or by worker processes, then joined.

`ShardTagger` tags one shard with one loaded predictor (sentence pieces of long documents,
offsets shifted back; a pipeline's relations also across nearby pieces with `pair_window`,
`nerkit.pipeline.documents`) and writes it to the parts directory; worker processes each
hold one.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import sys
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

from nerkit.data.safe_write import check_output_file
from nerkit.data.sentences import split_sentences
from nerkit.errors import NerkitError
from nerkit.extract.options import ExtractOptions, ExtractSummary
from nerkit.extract.parts import concatenate, prepare_parts, run_manifest, shard_path, write_shard
from nerkit.extract.reading import in_shards, read_records

__all__ = ["ShardTagger", "extract"]

logger = logging.getLogger(__name__)


class ShardTagger:
    """Tags shards of records with one loaded predictor and writes them to the parts dir."""

    def __init__(
        self, model_dir: Path, parts: Path, options: ExtractOptions, check: bool = True
    ) -> None:
        """Load the model; with `check`, refuse or warn about `pair_window` (see below): the
        parent process checks once for all its workers, which pass False."""
        from nerkit.predict import load

        self.predictor = load(model_dir, precision=options.precision, runtime=options.runtime)
        self.parts, self.options = parts, options
        if options.pair_window and check:
            self._check_pair_window(model_dir)

    def _check_pair_window(self, model_dir: Path) -> None:
        """Refuse `pair_window` for a model that is no pipeline; warn where it misleads."""
        from nerkit.pipeline.documents import says_no_relation

        if self.predictor.task != "pipeline":
            raise NerkitError(
                f"pair_window is for pipelines (entities and relations); {model_dir} is a "
                f"{self.predictor.task} model"
            )
        if not says_no_relation(self.predictor):
            logger.warning(
                "%s: the relation model was trained without no-relation pairs, so every "
                "pair across sentences gets a relation (train it with "
                "model.negative_pairs: true for --pair-window)",
                model_dir,
            )

    def __call__(self, index: int, shard: list[dict[str, Any]]) -> tuple[int, int, int]:
        """Tag and write one shard; return (documents, sentences, characters)."""
        texts = [record.pop("_text") for record in shard]
        if self.predictor.task == "classification":  # labels of whole documents
            return self._classify(index, shard, texts)
        if self.predictor.task == "pipeline":
            return self._pipeline(index, shard, texts)
        pieces = [
            (i, start, end) for i, text in enumerate(texts) for start, end in self._split(text)
        ]
        found = self.predictor.predict(
            [texts[i][start:end] for i, start, end in pieces], batch_size=self.options.batch_size
        )
        rows: list[dict[str, list[Any]]] = [{"entities": []} for _ in shard]
        for (i, start, _), piece in zip(pieces, found, strict=True):
            rows[i]["entities"].extend(_shifted(e.to_dict(), start) for e in piece)
        return self._write(index, shard, texts, rows, len(pieces),
                           sum(end - start for _, start, end in pieces))  # fmt: skip

    def _pipeline(
        self, index: int, shard: list[dict[str, Any]], texts: list[str]
    ) -> tuple[int, int, int]:
        from nerkit.pipeline.documents import predict_documents

        pieces = [self._split(text) for text in texts]
        found = predict_documents(self.predictor, texts, pieces, self.options.pair_window,
                                  self.options.batch_size)  # fmt: skip
        rows = [result.to_dict() for result in found]
        return self._write(index, shard, texts, rows, sum(len(p) for p in pieces),
                           sum(end - start for p in pieces for start, end in p))  # fmt: skip

    def _write(
        self,
        index: int,
        shard: list[dict[str, Any]],
        texts: list[str],
        rows: list[dict[str, list[Any]]],
        sentences: int,
        characters: int,
    ) -> tuple[int, int, int]:
        for record, text, doc_rows in zip(shard, texts, rows, strict=True):
            if self.options.keep_text:
                record["text"] = text
            record.update(doc_rows)
        write_shard(self.parts, index, shard)
        return len(shard), sentences, characters

    def _classify(
        self, index: int, shard: list[dict[str, Any]], texts: list[str]
    ) -> tuple[int, int, int]:
        found = self.predictor.predict(texts, batch_size=self.options.batch_size)
        rows = [{"labels": [label.to_dict() for label in labels]} for labels in found]
        return self._write(index, shard, texts, rows, len(shard), sum(len(t) for t in texts))

    def _split(self, text: str) -> list[tuple[int, int]]:
        if self.options.split_chars and len(text) > self.options.split_chars:
            return split_sentences(text)
        stripped = text.strip()
        return [(0, len(text))] if stripped else []


def _shifted(row: dict[str, Any], offset: int) -> dict[str, Any]:
    """Return an entity dict with its offsets moved."""
    return {**row, "start": row["start"] + offset, "end": row["end"] + offset}


# Worker processes hold their tagger here: set once by the pool initializer, per process.
_WORKER: dict[str, Any] = {}


def _init_worker(model_dir: Path, parts: Path, options: ExtractOptions) -> None:
    import torch

    torch.set_num_threads(1)  # N workers x 1 thread: no oversubscription of the cores
    try:
        _WORKER["tagger"] = ShardTagger(model_dir, parts, options, check=False)
    except NerkitError as error:
        # an initializer that raises makes the pool respawn workers for ever: keep the
        # error and raise it from the first task instead, where the parent sees it
        _WORKER["error"] = NerkitError(str(error))


def _work(index: int, shard: list[dict[str, Any]]) -> tuple[int, int, int]:
    if "error" in _WORKER:
        raise _WORKER["error"]
    return _WORKER["tagger"](index, shard)


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
    prepare_parts(parts, run_manifest(model_dir, paths, options))
    began = time.perf_counter()
    try:
        with _progress_bar(progress) as bar:
            totals, count, skipped = _run_shards(model_dir, parts, paths, options, bar)
    except BaseException:
        if fresh and not any(parts.glob("*.done")):
            shutil.rmtree(parts, ignore_errors=True)  # nothing to resume: a rerun starts clean
        raise
    concatenate(parts, count, output)
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
        if options.pair_window:  # refuse or warn once, here, not in every worker
            ShardTagger(model_dir, parts, options)
        context = multiprocessing.get_context("spawn")  # fork + torch threads can deadlock
        pool = context.Pool(options.workers, _init_worker, (model_dir, parts, options))
    else:
        tagger = ShardTagger(model_dir, parts, options)
    pending: deque[Any] = deque()
    try:
        for index, shard in enumerate(in_shards(read_records(paths, options), options.shard_lines)):
            count += 1
            if shard_path(parts, index, ".done").exists():
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
