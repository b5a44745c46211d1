"""The typed configuration of a tagger and of its training run, and how it is loaded.

One frozen pydantic model, `Config`, with sections `data`, `model` and `train`;
unknown keys are errors reported with their full path. `load_config` reads YAML or
TOML and applies ``a.b=value`` overrides (values parsed as YAML scalars).
The `model` section is all a saved model needs to be rebuilt; `data` and `train`
describe the run that produced it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from nerkit.encoders.config import BiLSTMConfig, EncoderConfig
from nerkit.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "Config",
    "DataConfig",
    "DistillConfig",
    "FeaturesConfig",
    "ModelConfig",
    "TrainConfig",
    "apply_overrides",
    "load_config",
    "parse_config",
]


class _Config(BaseModel):
    # extra="forbid": a misspelt key is an error, not a silently ignored default
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Config):
    """Where the examples come from. Relative paths resolve against the current directory."""

    train: Path
    dev: Path | None = None
    test: Path | None = None
    format: str = "conll"
    scheme: str | None = None  # the scheme of the files' tags, for tag-column formats
    dev_fraction: float = Field(0.1, ge=0.0, lt=1.0)  # carved from train when `dev` is absent
    # the carve's shuffle seed; None: train.seed. Fix it to vary train.seed over one split
    # (seed studies, and ensembles, whose members must share their vocabularies)
    dev_seed: int | None = None
    max_length: PositiveInt = 200  # longer training sentences are cut into pieces


class FeaturesConfig(_Config):
    """Input features of each token.

    `token_dim` embeds the token itself (a character in char mode, a word in word mode);
    `bigram_dim` adds character bigrams (left and right) in char mode; `char_encoder`
    adds per-word character features in word mode. `pretrained` and `bigram_pretrained`
    initialise the token and bigram tables from word2vec text files (training only: the
    saved weights carry them), adding every vector's token to the vocabulary.
    """

    token_dim: PositiveInt = 100
    bigram_dim: int = Field(0, ge=0)
    char_encoder: Literal["none", "cnn", "lstm"] = "none"
    char_dim: PositiveInt = 30
    char_hidden: PositiveInt = 50
    lowercase: bool = False
    min_count: PositiveInt = 1
    bigram_min_count: PositiveInt | None = None  # rarer bigrams share UNK; None: min_count
    pretrained: Path | None = None  # word2vec/GloVe text file for the token embeddings
    freeze_pretrained: bool = False
    # word2vec text file of two-character strings for the bigram embeddings (char mode with
    # bigram_dim equal to the vectors' dimension); its tokens join the bigram vocabulary
    bigram_pretrained: Path | None = None
    freeze_bigram_pretrained: bool = False
    dropout: float = Field(0.5, ge=0.0, lt=1.0)


class ModelConfig(_Config):
    """The architecture: tokenization, tagging scheme, features, encoder and head."""

    tokenization: Literal["char", "word"] = "char"
    scheme: Literal["IOB1", "BIO", "BIOES", "BMES"] = "BIOES"
    features: FeaturesConfig = FeaturesConfig()
    encoder: EncoderConfig = BiLSTMConfig()
    head: Literal["crf", "softmax"] = "crf"


class DistillConfig(_Config):
    """Train against a saved teacher model's tag distribution as well as the gold tags.

    Each training sentence's target is `weight` times the teacher's distribution over tag
    paths (its CRF marginals and expected transitions, or its softmax, with every score
    divided by `temperature`) plus `1 - weight` times the gold path. The teacher must
    predict the same tags; any model directory works (a BERT tagger teaching a BiLSTM).
    """

    teacher: Path
    weight: float = Field(0.5, gt=0.0, le=1.0)
    temperature: float = Field(1.0, gt=0.0)


class TrainConfig(_Config):
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
    # "bf16": embedder/encoder under CPU autocast (the CRF stays float32), ~1.5x faster
    # training on CPUs with native bfloat16; the saved weights are float32 either way
    precision: Literal["fp32", "bf16"] = "fp32"
    distill: DistillConfig | None = None  # knowledge distillation from a trained teacher


class Config(_Config):
    """A whole training run: data, model and training sections."""

    data: DataConfig
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()


def _format_validation_error(error: ValidationError, source: str) -> str:
    problems = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "<root>"
        problems.append(f"{path}: {item['msg']}")
    return f"{source}: invalid config: " + "; ".join(problems)


def parse_config(raw: dict[str, Any], source: str = "config") -> Config:
    """Validate a plain dict into a `Config`; raise ConfigError naming every bad key path."""
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_format_validation_error(error, source)) from None


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
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error.strerror}") from None
    try:
        # YAML is a superset of JSON, so .json configs read as YAML
        raw = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise ConfigError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {error}"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with sections data/model/train")
    return raw


def load_config(
    source: Path | str | Config | dict[str, Any], overrides: list[str] | tuple[str, ...] = ()
) -> Config:
    """Return the validated config from a file, a dict or a Config, with overrides applied."""
    if isinstance(source, Config):
        if not overrides:
            return source
        raw, name = source.model_dump(mode="json"), "config"
    elif isinstance(source, dict):
        raw, name = source, "config"
    else:
        raw, name = read_raw_config(Path(source)), str(source)
    return parse_config(apply_overrides(raw, overrides), name)
