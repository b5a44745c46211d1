"""The typed configuration shared by every task, and how config files are read.

Torch-free and low in the layers: `BaseConfig` (frozen, unknown keys rejected with their
full path), the `data` and `train` sections every run has, and `RunConfig`, whose `task`
field picks the package under `nerkit.tasks` that adds the `model` section. A config file
without `task` is a tagging run, so every config and model directory written before tasks
existed keeps working. `nerkit.tasks.load_config` is the entry point that dispatches.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, model_validator

from nerkit.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "BaseConfig",
    "DataConfig",
    "DistillConfig",
    "RunConfig",
    "TrainConfig",
    "apply_overrides",
    "read_raw_config",
    "validate",
]


class BaseConfig(BaseModel):
    """The base of every nerkit config: frozen, and a misspelt key is an error."""

    # extra="forbid": a misspelt key is an error, not a silently ignored default
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(BaseConfig):
    """Where the examples come from. Relative paths resolve against the current directory.

    `format` names a reader of `nerkit.data.formats` for tagging, or the text format of a
    classification task (jsonl, csv, tsv). `text_field` and `label_field` name the columns
    or JSON keys of classification files.
    """

    train: Path | None = None  # None: the examples are passed in memory (api.train)
    dev: Path | None = None
    test: Path | None = None
    format: str = "conll"
    scheme: str | None = None  # the scheme of the files' tags, for tag-column formats
    text_field: str = "text"
    label_field: str = "label"
    dev_fraction: float = Field(0.1, ge=0.0, lt=1.0)  # carved from train when `dev` is absent
    # the carve's shuffle seed; None: train.seed. Fix it to vary train.seed over one split
    # (seed studies, and ensembles, whose members must share their vocabularies)
    dev_seed: int | None = None


class DistillConfig(BaseConfig):
    """Train against a saved teacher model's distribution as well as the gold labels.

    Tagging: each training sentence's target is `weight` times the teacher's distribution
    over tag paths (its CRF marginals and expected transitions, or its softmax, with every
    score divided by `temperature`) plus `1 - weight` times the gold path; the teacher must
    predict the same tags. Classification and relations: each text's or entity pair's target
    is `weight` times the teacher's class probabilities at `temperature` plus `1 - weight`
    times the gold classes; the teacher must be a model of the same task with the same
    classes. Any model directory of that kind works (a BERT model teaching a BiLSTM).
    """

    teacher: Path
    weight: float = Field(0.5, gt=0.0, le=1.0)
    temperature: float = Field(1.0, gt=0.0)


class TrainConfig(BaseConfig):
    """Optimisation, batching, stopping and reproducibility."""

    optimizer: Literal["adamw", "sgd"] = "adamw"
    lr: float = Field(2e-3, gt=0.0)
    momentum: float = Field(0.9, ge=0.0, lt=1.0)  # sgd only
    weight_decay: float = Field(0.0, ge=0.0)
    warmup: float = Field(0.0, ge=0.0, lt=1.0)  # fraction of all steps
    schedule: Literal["linear", "constant"] = "linear"
    clip: float = Field(5.0, ge=0.0)  # max gradient norm; 0 disables clipping
    batch_size: PositiveInt = 32
    epochs: PositiveInt = 30
    patience: int = Field(5, ge=0)  # epochs without dev improvement before stopping; 0 = never
    seed: int = 42
    num_threads: PositiveInt = 2
    # "bf16": embedder/encoder under CPU autocast (the heads stay float32), ~1.5x faster
    # training on CPUs with native bfloat16 (an error elsewhere); "auto": bf16 where the CPU
    # has it, else fp32. The saved weights are float32 either way
    precision: Literal["fp32", "bf16", "auto"] = "fp32"
    distill: DistillConfig | None = None  # knowledge distillation from a trained teacher


class RunConfig(BaseConfig):
    """What every training run has; each task's config adds its `model` section.

    `default_format` is the `data.format` a task's files have when the config names none.
    """

    default_format: ClassVar[str] = "conll"

    task: str = "tagging"
    data: DataConfig
    train: TrainConfig = TrainConfig()

    @model_validator(mode="before")
    @classmethod
    def _default_format(cls, raw: Any) -> Any:
        """Give `data.format` the task's default when it is not set."""
        data = raw.get("data") if isinstance(raw, dict) else None
        if isinstance(data, dict) and "format" not in data:
            return {**raw, "data": {**data, "format": cls.default_format}}
        return raw


def validation_message(error: ValidationError, source: str) -> str:
    """Return one line naming every invalid key path of a pydantic error."""
    problems = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "<root>"
        problems.append(f"{path}: {item['msg']}")
    return f"{source}: invalid config: " + "; ".join(problems)


def validate(cls: type[BaseConfig], raw: dict[str, Any], source: str = "config") -> Any:
    """Validate a plain dict into `cls`; raise ConfigError naming every bad key path."""
    try:
        return cls.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(validation_message(error, source)) from None


def apply_overrides(raw: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Return a copy of `raw` with each ``a.b.c=value`` applied; values are YAML scalars."""
    result: dict[str, Any] = json.loads(json.dumps(raw, default=str))
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"expected an override like 'train.lr=0.001', got {override!r} "
                "(use KEY=VALUE with a dotted key)"
            )
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        node = result
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"cannot set {key!r}: {part!r} is a value, not a section")
            node = child
        node[parts[-1]] = value
    return result


def read_raw_config(path: Path) -> dict[str, Any]:
    """Return the plain dict in a YAML, TOML or JSON config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError(f"cannot read config {path}: {reason}") from None
    try:
        # YAML is a superset of JSON, so .json configs read as YAML
        raw = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with sections data/model/train")
    return raw
