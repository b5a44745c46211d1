"""A whole training run of any task: examples -> `task.prepare` -> `fit` -> model directory.

Everything a run decides is in the config; `config.task` picks the task
(`nerkit.tasks.get_task`). The examples come from the files the config names, or are
passed in memory (`examples=`, e.g. rows of an annotation database). The output directory
ends up holding a loadable model (`nerkit.artifacts`) plus `train_log.jsonl`, and, while
the run is in progress, `checkpoint.pt` for `resume=True`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nerkit.artifacts import (
    file_sha256,
    is_ensemble_dir,
    load_ensemble,
    load_model,
    save_model,
    write_json,
)
from nerkit.config import RunConfig
from nerkit.errors import ConfigError
from nerkit.runtime import num_threads
from nerkit.tasks import get_task
from nerkit.tasks.base import LoadedModel, Prepared, Splits, load_splits
from nerkit.training.loop import CHECKPOINT, LOG, TrainResult, fit

logger = logging.getLogger(__name__)

__all__ = ["check_output_dir", "prepare", "read_splits", "train"]


def read_splits(config: RunConfig) -> Splits:
    """Return the train/dev/test examples of the files a config names (dev carved if absent)."""
    if config.data.train is None:
        raise ConfigError("data.train is not set: name a training file, or pass examples")
    task = get_task(config.task)
    return load_splits(config, lambda path: task.read_examples(path, config.data))


def _teacher(config: RunConfig) -> LoadedModel | None:
    """Return the loaded distillation teacher of `train.distill`, or None."""
    distill = config.train.distill
    if distill is None:
        return None
    path = Path(distill.teacher)
    if is_ensemble_dir(path):  # the mean of its members teaches
        return load_ensemble(path)
    if not (path / "config.json").is_file():
        raise ConfigError(
            f"train.distill.teacher {str(path)!r} is not a model or ensemble directory "
            "(train the teacher first: nerkit train TEACHER_CONFIG --output DIR)"
        )
    return load_model(path)


def prepare(config: RunConfig, splits: Splits | None = None) -> Prepared:
    """Return the task's freshly built model and batches for a config: what `train` trains.

    Benchmarks call this too, so they time exactly what `nerkit train` runs.
    """
    splits = splits if splits is not None else read_splits(config)
    return get_task(config.task).prepare(config, splits, _teacher(config))


def _data_metadata(config: RunConfig, splits: Splits, from_files: bool) -> dict[str, Any]:
    sizes = {"train": len(splits.train), "dev": len(splits.dev), "test": len(splits.test)}
    if not from_files:
        return {"data": {name: {"examples": size} for name, size in sizes.items() if size}}
    files = {"train": config.data.train, "dev": config.data.dev, "test": config.data.test}
    return {
        "data": {
            name: {"path": str(path), "sha256": file_sha256(path), "examples": sizes.get(name, 0)}
            for name, path in files.items()
            if path is not None and Path(path).is_file()
        }
    }


def check_output_dir(output_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse an output that would lose work: a file, another model, a stale checkpoint.

    With `overwrite` an earlier model's files and log are replaced; `resume` needs the
    checkpoint of the run to continue.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise ConfigError(f"--output {str(output_dir)!r} is a file, expected a directory")
    if resume:
        if not (output_dir / CHECKPOINT).is_file():
            raise ConfigError(
                f"nothing to resume: {output_dir / CHECKPOINT} does not exist (the run "
                "finished or never saved an epoch; train again without --resume)"
            )
        return
    found = [name for name in ("metadata.json", CHECKPOINT, LOG) if (output_dir / name).exists()]
    if found and not overwrite:
        what = "a checkpoint of an unfinished run" if found == [CHECKPOINT] else "a model"
        raise ConfigError(
            f"{output_dir} already holds {what} ({', '.join(found)}): pass --resume to continue "
            "a killed run, --overwrite to replace it, or choose another --output"
        )
    for name in (CHECKPOINT, LOG):  # a fresh run starts a fresh log
        (output_dir / name).unlink(missing_ok=True)


def train(
    config: RunConfig,
    output_dir: Path,
    *,
    examples: Splits | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train the model a config describes, save the best epoch to `output_dir`, score test.

    An `output_dir` holding another model is refused unless `overwrite` (see
    `check_output_dir`).
    """
    output_dir = Path(output_dir)
    check_output_dir(output_dir, resume, overwrite)
    splits = examples if examples is not None else read_splits(config)
    prepared = get_task(config.task).prepare(config, splits, _teacher(config))
    metadata = {**_data_metadata(config, splits, examples is None), **prepared.metadata}

    def save_best(scores: dict[str, Any]) -> None:
        save_model(output_dir, prepared.model, config, prepared.vocabs,
                   {**metadata, "dev": scores or None})  # fmt: skip

    result = fit(
        prepared, config.train, output_dir, save_best=save_best, resume=resume,
        progress=progress, on_epoch_end=on_epoch_end, on_step=on_step,
        record=config.model_dump(mode="json"),
    )  # fmt: skip
    if splits.test:
        with num_threads(config.train.num_threads):
            result.test = _score_test(output_dir, config, splits.test)
    return result


def _score_test(output_dir: Path, config: RunConfig, examples: list[Any]) -> dict[str, Any]:
    """Score the saved best model on the test examples and record it in metadata.json."""
    loaded = load_model(output_dir)
    started = time.perf_counter()
    report = get_task(config.task).report(loaded, examples)
    seconds = time.perf_counter() - started
    scores = {**report.summary(), "decode_sents_per_s": round(len(examples) / seconds, 1)}
    write_json(output_dir / "metadata.json", {**loaded.metadata, "test": scores})
    return scores
