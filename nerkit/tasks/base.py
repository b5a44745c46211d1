"""The protocol every task implements, and what the tasks share: splits, loaded models.

A task (`nerkit.tasks.tagging`, `nerkit.tasks.classification`) is one object, `TASK` in
its `task` module, that knows how to:

    read_examples(path, data, format)   its labelled examples from a file
    prepare(config, splits, teacher)    a new model, its vocabularies and labels, and the
                                        training batches and dev evaluation for the loop
    build(config, vocab_sizes, labels)  an empty model to load saved weights into
    upgrade_state_dict(state)           weights saved by older versions, renamed
    report(loaded, examples)            a `Report` of a model on labelled examples
    predictor(loaded, precision, runtime)  the task's predictor over a loaded model
    ensemble(members)                   one model from several loaded ones (or an error)

The training loop (`nerkit.training.loop`), model directories (`nerkit.artifacts`) and
the predictor factory (`nerkit.predict.load`) are written once against this protocol.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from nerkit.config import DataConfig, RunConfig
from nerkit.defaults import PRECISION
from nerkit.errors import ArtifactError, ConfigError, DataFormatError, NerkitError

logger = logging.getLogger(__name__)

__all__ = [
    "LoadedModel",
    "LoadedPredictor",
    "Prepared",
    "Report",
    "Splits",
    "Task",
    "check_data_file",
    "check_texts",
    "load_splits",
    "located_error",
    "read_located",
    "saved_schema",
    "warn_unknown_labels",
]


class LoadedModel(NamedTuple):
    """A model read from a model directory: the module in eval mode and what describes it."""

    model: Any  # an nn.Module of the directory's task
    config: Any  # the task's run config
    vocabs: Any  # nerkit.encoders.features.Vocabs
    metadata: dict[str, Any]


@dataclass
class Splits:
    """The examples of a run; `dev` may have been carved from train."""

    train: list[Any]
    dev: list[Any]
    test: list[Any]


@dataclass
class Prepared:
    """What a task hands the training loop: the model and how to batch and score it.

    `batches(generator)` returns one epoch of training batches (each with `len()`, the
    examples it holds) in an order drawn from `generator`; `evaluate()` returns the dev
    score to maximise and every dev score, or is None without a dev set.
    """

    model: Any
    vocabs: Any
    labels: list[str]
    train_size: int
    batches: Callable[[Any], Sequence[Any]]
    evaluate: Callable[[], tuple[float, dict[str, Any]]] | None
    metadata: dict[str, Any] = field(default_factory=dict)


class Report(Protocol):
    """Scores of a model on labelled examples."""

    @property
    def main_score(self) -> float:
        """Return the score `nerkit train` maximises on dev."""
        ...

    def summary(self) -> dict[str, float]:
        """Return the headline scores (logged per epoch, stored in metadata.json)."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """Return every score, JSON-ready."""
        ...

    def format_table(self) -> str:
        """Return the scores as an aligned text table."""
        ...


class Task(Protocol):
    """One kind of model nerkit trains and runs; see the module docstring."""

    name: str

    def read_examples(self, path: Path, data: DataConfig, format: str | None = None) -> list[Any]:
        """Return the labelled examples of a file."""
        ...

    def prepare(self, config: Any, splits: Splits, teacher: LoadedModel | None) -> Prepared:
        """Return a freshly initialised model and its batches, seeded by `train.seed`."""
        ...

    def build(self, config: Any, vocab_sizes: dict[str, int], labels: list[str]) -> Any:
        """Return an untrained model of this config, to load saved weights into."""
        ...

    def upgrade_state_dict(self, state: dict[str, Any]) -> dict[str, Any]:
        """Return saved weights with the parameter names of this version."""
        ...

    def report(self, loaded: LoadedModel, examples: Sequence[Any]) -> Report:
        """Return the scores of a loaded model on labelled examples."""
        ...

    def predictor(self, loaded: LoadedModel, path: Path, precision: str, runtime: str) -> Any:
        """Return the task's predictor over a loaded model."""
        ...

    def ensemble(self, members: Sequence[LoadedModel]) -> Any:
        """Return one model that averages `members`, or raise ArtifactError."""
        ...


class LoadedPredictor:
    """What every task's predictor holds: a loaded model, its directory, its precision.

    Subclasses add `task`, `labels`, `predict` and `info` (`nerkit.predict.Predictor`).
    """

    task: str

    def __init__(self, loaded: LoadedModel, path: Path, precision: str = PRECISION) -> None:
        """Wrap a loaded model; `precision` "auto" computes the scores in bfloat16 where the
        CPU has it natively (about 2x faster), "fp32" and "bf16" force one."""
        from nerkit.errors import NerkitError
        from nerkit.runtime import resolve_precision

        self.path = Path(path)
        self.model, self.config, self.vocabs, self.metadata = loaded
        try:
            self.model.precision = resolve_precision(precision)
        except ValueError as error:
            raise NerkitError(str(error)) from None

    @property
    def name(self) -> str:
        """Return a short name for the model: its directory name."""
        return str(self.metadata.get("name") or self.path.resolve().name)

    @property
    def precision(self) -> str:
        """Return the precision the scores are computed in: "fp32" or "bf16"."""
        return str(self.model.precision)

    @property
    def temperature(self) -> float:
        """Return the calibration temperature of the scores (1.0: uncalibrated)."""
        return float(self.model.temperature)


def check_texts(texts: Any, batch_size: int) -> list[str]:
    """Return `texts` as a list after checking what every predictor's `predict` takes.

    A bare string, an item that is not a string, or a batch size below 1 is a TypeError or
    ValueError naming the problem; any iterable of strings (a generator too) is accepted.
    """
    if isinstance(texts, str):
        raise TypeError("predict() takes a list of texts; wrap a single text in a list")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    items = list(texts)
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise TypeError(f"texts[{index}] is {type(text).__name__}, expected str: {text!r:.60}")
    return items


def warn_unknown_labels(kind: str, found: set[str], known: set[str], where: str) -> None:
    """Log a warning naming the labels of `found` that are not in `known` (R14)."""
    unknown = sorted(found - known)
    if not unknown:
        return
    also = "; none of them is known" if not found & known else ""
    logger.warning(
        "%s labels %s %s are not among the %s labels %s%s (their scores will be 0)",
        kind,
        unknown[:8],
        where,
        "model's" if kind == "gold" else "training",
        sorted(known)[:8],
        also,
    )


def check_data_file(path: Path) -> Path:
    """Return `path` when it is a file; raise ConfigError saying how relative paths resolve."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(
            f"data file {str(path)!r} does not exist (relative paths resolve against the "
            f"current directory {Path.cwd()})"
        )
    return path


def read_located(path: Path, format: str) -> list[Any]:
    """Return the examples of a data file, each knowing its file (`meta["path"]`), so that
    errors found later name file:line."""
    from nerkit.data.formats import read

    examples = list(read(check_data_file(path), format))
    for example in examples:
        example.meta.setdefault("path", str(path))
    return examples


def located_error(
    example: Any, number: int, item: int, problem: str, hint: str, what: str
) -> NerkitError:
    """Return the error of item `item` (relations first, then attributes) of example `number`
    (1-based): `file:line: problem (hint)` when the example came from a file
    (`meta["path"]`, `read_located`) whose reader recorded lines (`meta["lines"]` per item,
    or `meta["line"]`), else `what, example N: problem (hint)`."""
    lines = example.meta.get("lines", ())
    line = lines[item] if item < len(lines) else example.meta.get("line")
    path = example.meta.get("path")
    if path is not None and isinstance(line, int):
        return DataFormatError(path, line, problem, hint)
    return NerkitError(f"{what}, example {number}: {problem} ({hint})")


def saved_schema(metadata: dict[str, Any]) -> Any:
    """Return the `Schema` a model directory's metadata.json records (relation, joint models)."""
    from nerkit.data.schema import Schema

    if "schema" not in metadata:
        task = metadata.get("task", "this")
        raise ArtifactError(f"metadata.json of this {task} model has no 'schema' (re-train it)")
    return Schema.from_dict(metadata["schema"])


def load_splits(config: RunConfig, read: Callable[[Path], list[Any]]) -> Splits:
    """Return train/dev/test examples; dev is carved from train when no dev file is given."""
    data = config.data
    train = read(data.train)
    if not train:
        raise ConfigError(f"the training file {str(data.train)!r} holds no example")
    test = read(data.test) if data.test else []
    if data.dev:
        dev = read(data.dev)
        if not dev:
            logger.warning("the dev file %s holds no example: training without a dev set", data.dev)
        return Splits(train, dev, test)
    if data.dev_fraction == 0:
        return Splits(train, [], test)
    order = list(range(len(train)))
    seed = config.train.seed if data.dev_seed is None else data.dev_seed
    random.Random(seed).shuffle(order)
    size = max(1, round(len(train) * data.dev_fraction))
    dev_ids = set(order[:size])
    dev = [e for i, e in enumerate(train) if i in dev_ids]
    rest = [e for i, e in enumerate(train) if i not in dev_ids]
    logger.info("carved %d dev examples from %d training examples", len(dev), len(train))
    return Splits(rest, dev, test)
