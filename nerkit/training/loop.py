"""The one training loop every nerkit task trains through.

`train_while_improving` is a generator in the shape of spaCy's loop of that name: it
knows nothing about the task. The task injects its batches (`Prepared.batches`) and its
dev evaluation (`Prepared.evaluate` -> (main score, scores)); the model only needs
`loss(batch)`. It yields an `info` dict after every optimizer step

    {"step", "epoch", "loss" (running mean of the epoch), "examples", "examples_per_s", "lr"}

and one more at the end of every epoch, with ``"epoch_end": True`` and the dev `score`,
`scores`, `is_best` and the epoch's `seconds`. `fit` consumes it: progress bar, JSON-lines
log, best-model saving, checkpoints, early stopping and any callbacks read the same dicts.

After every epoch `fit` writes a checkpoint (model, optimizer, scheduler, both RNG states,
counters) atomically, so `resume=True` continues a killed run exactly where the last
finished epoch left it: a resumed run ends with the same weights as an uninterrupted one.
The checkpoint is deleted when the run finishes.

Randomness and global state: batch order comes from a `torch.Generator` seeded with
`train.seed`; dropout draws from torch's global generator, which `fit` seeds inside
`torch.random.fork_rng`, and the thread count is set inside `num_threads`: the caller's
RNG state and thread count are restored when `fit` returns or raises.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from nerkit.config import TrainConfig
from nerkit.errors import ArtifactError, ConfigError, NerkitError
from nerkit.runtime import num_threads, resolve_precision
from nerkit.tasks.base import Prepared
from nerkit.training.optim import make_optimizer, make_scheduler

logger = logging.getLogger(__name__)

__all__ = [
    "CHECKPOINT",
    "LOG",
    "RESUMABLE_CHANGES",
    "TrainResult",
    "TrainingError",
    "fit",
    "num_threads",
    "train_while_improving",
]

CHECKPOINT = "checkpoint.pt"
LOG = "train_log.jsonl"

Info = dict[str, Any]


class TrainingError(NerkitError):
    """Training cannot go on (the loss became NaN or infinite)."""


@dataclass
class TrainResult:
    """What a finished run reports: best dev score and epoch, history, speed."""

    output_dir: Path
    best_score: float  # the task's main dev score at the best epoch; -1.0 without a dev set
    best_epoch: int
    epochs_run: int
    history: list[dict[str, Any]] = field(default_factory=list)
    test: dict[str, Any] | None = None
    examples_per_second: float = 0.0  # training examples (sentences, texts) per second

    @property
    def sentences_per_second(self) -> float:
        """Return `examples_per_second` (the name of tagging runs)."""
        return self.examples_per_second


@dataclass
class _State:
    epoch: int = 0  # epochs finished
    step: int = 0  # optimizer steps taken
    best_score: float = -math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Run:
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    generator: torch.Generator
    state: _State

    def checkpoint(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "config": json.dumps(record, sort_keys=True),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "global_rng": torch.get_rng_state(),
            "state": vars(self.state),
        }

    def restore(self, path: Path, record: dict[str, Any]) -> None:
        # tensors, dicts and numbers only: a planted checkpoint cannot run code
        try:
            saved = torch.load(path, weights_only=True)
        except Exception as error:  # torch raises untyped errors for a torn or foreign file
            raise ArtifactError(
                f"{path} cannot be read ({str(error).splitlines()[0]}): delete it and train "
                "again without --resume"
            ) from None
        _check_resumable(path, json.loads(saved.get("config") or "{}"), record)
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        self.generator.set_state(saved["generator"])
        torch.set_rng_state(saved["global_rng"])
        self.state = _State(**saved["state"])


# what a resumed run may change: how long it goes on, and how fast it runs
RESUMABLE_CHANGES = ("train.epochs", "train.patience", "train.num_threads")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in value.items():
        flat.update(_flatten(item, f"{prefix}.{key}" if prefix else key))
    return flat


def _check_resumable(path: Path, saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Raise ConfigError when the config differs from the checkpoint's beyond RESUMABLE_CHANGES."""
    if not saved or not current:
        return
    old, new = _flatten(saved), _flatten(current)
    changed = sorted(
        key
        for key in old.keys() | new.keys()
        if old.get(key) != new.get(key) and not key.startswith(RESUMABLE_CHANGES)
    )
    if changed:
        shown = ", ".join(f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in changed[:4])
        raise ConfigError(
            f"cannot resume {path.parent}: the config differs from the checkpoint's in {shown} "
            f"(a resumed run may change only {', '.join(RESUMABLE_CHANGES)}; train again "
            "without --resume into a new directory)"
        )


def _step(run: _Run, batch: Any, config: TrainConfig) -> float:
    """Take one optimizer step on a batch; return its loss."""
    loss = run.model.loss(batch)
    value = loss.item()
    if not math.isfinite(value):
        raise TrainingError(
            f"the training loss became {value} at step {run.state.step + 1} (epoch "
            f"{run.state.epoch + 1}); nothing was saved from this epoch (lower train.lr, "
            "or set train.clip)"
        )
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if config.clip > 0:
        trainable = [p for p in run.model.parameters() if p.requires_grad]
        nn.utils.clip_grad_norm_(trainable, config.clip)
    run.optimizer.step()
    run.scheduler.step()
    run.state.step += 1
    return value


def train_while_improving(run: _Run, prepared: Prepared, config: TrainConfig) -> Iterator[Info]:
    """Train epoch after epoch until `epochs` or `patience` runs out; yield an info per step."""
    state = run.state
    while state.epoch < config.epochs:
        if config.patience and state.bad_epochs >= config.patience:
            logger.info("early stop: no dev improvement in %d epochs", config.patience)
            return
        run.model.train()
        total, seen, started = 0.0, 0, time.perf_counter()
        for batch in prepared.batches(run.generator):
            total += _step(run, batch, config) * len(batch)
            seen += len(batch)
            yield {
                "step": state.step,
                "epoch": state.epoch + 1,
                "loss": total / seen,
                "examples": len(batch),
                "examples_per_s": seen / max(time.perf_counter() - started, 1e-9),
                "lr": run.scheduler.get_last_lr()[0],
            }
        seconds = time.perf_counter() - started
        evaluate = prepared.evaluate
        score, scores = evaluate() if evaluate is not None else (float(state.epoch + 1), {})
        state.epoch += 1
        is_best = score > state.best_score
        if is_best:
            state.best_score, state.best_epoch, state.bad_epochs = score, state.epoch, 0
        else:
            state.bad_epochs += 1
        yield {
            "epoch_end": True,
            "step": state.step,
            "epoch": state.epoch,
            "loss": total / max(seen, 1),
            "score": score,
            "scores": scores,
            "is_best": is_best,
            "seconds": seconds,
            "examples_per_s": seen / max(seconds, 1e-9),
            "lr": run.scheduler.get_last_lr()[0],
        }


def fit(
    prepared: Prepared,
    config: TrainConfig,
    output_dir: Path,
    *,
    save_best: Callable[[dict[str, Any]], None],
    resume: bool = False,
    progress: bool = True,
    on_epoch_end: Callable[[Info], None] | None = None,
    on_step: Callable[[Info], None] | None = None,
    record: dict[str, Any] | None = None,
) -> TrainResult:
    """Train `prepared.model` with its batches; return the run's summary.

    `save_best` is called with the dev scores whenever the main dev score improves (every
    epoch without a dev set); `on_step` and `on_epoch_end` receive the loop's info dicts.
    `record` (the whole run config, JSON-ready) is kept in the checkpoint: resuming with a
    config that differs beyond `RESUMABLE_CHANGES` is refused.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = output_dir / CHECKPOINT
    if resume and not checkpoint_path.is_file():
        raise ConfigError(
            f"nothing to resume: {checkpoint_path} does not exist (the run finished or never "
            "saved an epoch; train again without --resume)"
        )
    model = prepared.model
    steps_per_epoch = len(prepared.batches(torch.Generator().manual_seed(config.seed)))
    if hasattr(model, "precision"):
        model.precision = resolve_precision(config.precision)
    with num_threads(config.num_threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        optimizer = make_optimizer(model, config)
        run = _Run(
            model,
            optimizer,
            make_scheduler(optimizer, config, config.epochs * steps_per_epoch),
            torch.Generator().manual_seed(config.seed),
            _State(),
        )
        record = record or {"train": config.model_dump(mode="json")}
        if resume:
            run.restore(checkpoint_path, record)
            _rewrite_log(output_dir, run.state.history)
            logger.info("resuming after epoch %d", run.state.epoch)
        speeds = _consume(run, prepared, config, output_dir, save_best, progress,
                          on_epoch_end, on_step, record)  # fmt: skip
    checkpoint_path.unlink(missing_ok=True)
    state = run.state
    return TrainResult(
        output_dir=output_dir,
        best_score=state.best_score if prepared.evaluate is not None else -1.0,
        best_epoch=state.best_epoch,
        epochs_run=state.epoch,
        history=list(state.history),
        examples_per_second=sum(speeds) / len(speeds) if speeds else 0.0,
    )


def _consume(
    run: _Run,
    prepared: Prepared,
    config: TrainConfig,
    output_dir: Path,
    save_best: Callable[[dict[str, Any]], None],
    progress: bool,
    on_epoch_end: Callable[[Info], None] | None,
    on_step: Callable[[Info], None] | None,
    record: dict[str, Any],
) -> list[float]:
    """Drive the loop: progress bar, best model, log, checkpoint; return epoch speeds."""
    # on a terminal a live bar; in a log file (nohup, CI) one refreshed line every 30 s
    terminal = sys.stderr.isatty()
    speeds: list[float] = []
    bar = None
    for info in train_while_improving(run, prepared, config):
        if not info.get("epoch_end"):
            if bar is None:
                bar = tqdm(
                    total=prepared.train_size, desc=f"epoch {info['epoch']}", disable=not progress,
                    leave=not terminal, mininterval=0.1 if terminal else 30, ascii=not terminal,
                )  # fmt: skip
            bar.update(info["examples"])
            bar.set_postfix(
                loss=f"{info['loss']:.3f}", per_s=f"{info['examples_per_s']:.0f}", refresh=False
            )
            if on_step is not None:
                on_step(info)
            continue
        if bar is not None:
            bar.close()
            bar = None
        speeds.append(info["examples_per_s"])
        if info["is_best"]:
            save_best(info["scores"])
        _record(run, output_dir, _log_line(info), record)
        if on_epoch_end is not None:
            on_epoch_end(info)
    if bar is not None:
        bar.close()
    return speeds


def _log_line(info: Info) -> dict[str, Any]:
    """Return an epoch's JSON-lines record: loss, every scalar dev score, speed, lr."""
    scores = {f"dev_{k}": v for k, v in info["scores"].items() if isinstance(v, int | float)}
    return {
        "epoch": info["epoch"],
        "loss": round(info["loss"], 5),
        **scores,
        "seconds": round(info["seconds"], 2),
        "train_sents_per_s": round(info["examples_per_s"], 1),
        "lr": info["lr"],
    }


def _record(run: _Run, output_dir: Path, line: dict[str, Any], record: dict[str, Any]) -> None:
    """Append an epoch's line to the history and the JSON-lines log, then checkpoint.

    A kill between the two leaves a log line the checkpoint does not know: a resumed run
    rewrites the log from the checkpoint's history (`_rewrite_log`), so no line is doubled.
    """
    run.state.history.append(line)
    with open(output_dir / LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(line, allow_nan=False) + "\n")
    logger.info("epoch %s", line)
    temporary = output_dir / (CHECKPOINT + ".tmp")
    torch.save(run.checkpoint(record), temporary)
    os.replace(temporary, output_dir / CHECKPOINT)


def _rewrite_log(output_dir: Path, history: list[dict[str, Any]]) -> None:
    """Replace the JSON-lines log with the checkpoint's history (atomically)."""
    temporary = output_dir / (LOG + ".tmp")
    temporary.write_text("".join(json.dumps(line) + "\n" for line in history), encoding="utf-8")
    os.replace(temporary, output_dir / LOG)
