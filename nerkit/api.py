"""The Python API every front end calls: train, evaluate, load, predict, calibrate.

The CLI, the HTTP server and the annotation app are thin layers over these functions.
Heavy modules (torch and the models) are imported when a function runs, not when this
module is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nerkit.errors import ArtifactError, NerkitError

if TYPE_CHECKING:
    from nerkit.models.config import Config
    from nerkit.predict import Predictor
    from nerkit.training.loop import TrainResult
    from nerkit.types import Entity, Example

__all__ = [
    "DEFAULT_MODEL_DIR",
    "calibrate",
    "evaluate",
    "held_out_examples",
    "load",
    "predict",
    "train",
]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"


def train(
    config: Path | str | Config | dict[str, Any],
    output_dir: Path | str,
    overrides: Sequence[str] = (),
    resume: bool = False,
    progress: bool = True,
    on_epoch_end: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train the model a config (file, dict or `Config`) describes; save it to `output_dir`.

    Returns a `TrainResult` with the best dev F1 and epoch, the per-epoch history and,
    when the config names a test file, the test scores of the best epoch.
    """
    from nerkit.models.config import load_config
    from nerkit.training.run import train as run_training

    resolved = load_config(config, tuple(overrides))
    return run_training(
        resolved, Path(output_dir), resume=resume, progress=progress, on_epoch_end=on_epoch_end
    )


def resolve_model_dir(model_dir: Path | str | None) -> Path:
    """Return `model_dir`, or the shipped default model when it is None."""
    if model_dir is not None:
        return Path(model_dir)
    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        raise ArtifactError(
            f"no model directory given and no default model is installed at {DEFAULT_MODEL_DIR} "
            "(pass a directory written by 'nerkit train')"
        )
    return DEFAULT_MODEL_DIR


def load(model_dir: Path | str | None = None, precision: str = "fp32") -> Predictor:
    """Return the `Predictor` of a model directory (default: the shipped model).

    `precision` "bf16" computes tag scores in bfloat16 (~2x faster on CPUs with native
    bfloat16, see `Predictor`); "auto" picks bf16 where the CPU has it.
    """
    from nerkit.predict import Predictor

    return Predictor(resolve_model_dir(model_dir), precision=precision)


def predict(
    texts: Sequence[str], model_dir: Path | str | None = None, batch_size: int = 64
) -> list[list[Entity]]:
    """Return the entities of each text with the model in `model_dir` (loads it each call)."""
    return load(model_dir).predict(list(texts), batch_size=batch_size)


def evaluate(model_dir: Path | str | None, data_path: Path | str, format: str | None = None) -> Any:
    """Return the span-level `Report` of a saved model on a labelled data file.

    `format` defaults to the format the model was trained on.
    """
    from nerkit.artifacts import load_model
    from nerkit.training.data import read_examples
    from nerkit.training.scoring import score_examples

    model, config, vocabs, _ = load_model(resolve_model_dir(model_dir))
    examples = read_examples(Path(data_path), config.data, format=format)
    if not examples:
        raise NerkitError(f"{data_path} holds no example to evaluate on")
    return score_examples(model, vocabs, config, examples)


def held_out_examples(
    model_dir: Path, dev: Path | None = None, format: str | None = None, scheme: str | None = None
) -> tuple[list[Example], dict[str, Any]]:
    """Return held-out examples for a saved model and a JSON-ready note of their source.

    With `dev`, its examples; otherwise the model's own dev set rebuilt from its config.json
    exactly as training built it (`data.dev`, or the same seeded carve from `data.train`), so
    nothing fitted on it has seen training or test sentences.
    """
    from nerkit.artifacts import load_model

    _, config, _, info = load_model(model_dir)
    return _held_out(model_dir, config, info, dev, format, scheme)


def _held_out(
    model_dir: Path,
    config: Config,
    info: dict[str, Any],
    dev: Path | None,
    format: str | None,
    scheme: str | None,
) -> tuple[list[Example], dict[str, Any]]:
    from nerkit.checksums import file_sha256
    from nerkit.training.data import load_splits, read_examples

    data = config.data.model_copy(update={"scheme": scheme}) if scheme else config.data
    if dev is not None:
        examples = read_examples(dev, data, format)
        return examples, {"path": str(dev), "sha256": file_sha256(dev), "examples": len(examples)}
    if data.dev is None and data.dev_fraction == 0:
        raise NerkitError(
            f"{model_dir} was trained without a dev set (data.dev_fraction 0): "
            "pass a held-out DEV_FILE that is neither training nor test data"
        )
    expected = ((info.get("data") or {}).get("train") or {}).get("sha256")
    trained_on = Path(data.train)
    carved = data.dev is None and expected and trained_on.is_file()
    if carved and file_sha256(trained_on) != expected:
        raise NerkitError(
            f"{data.train} is not the file {model_dir} was trained on (sha256 differs), "
            "so the carved dev set would not be held out: pass a DEV_FILE"
        )
    examples = load_splits(config.model_copy(update={"data": data})).dev
    source = str(data.dev) if data.dev else f"{data.train} (dev carve {data.dev_fraction:g})"
    return examples, {"path": source, "examples": len(examples), "seed": config.train.seed}


def calibrate(
    model_dir: Path | str,
    dev: Path | str | None = None,
    format: str | None = None,
    scheme: str | None = None,
    objective: Literal["nll", "ece"] = "nll",
    write: bool = True,
) -> dict[str, Any]:
    """Fit the confidence temperature T of a saved model on held-out data; return the record.

    The held-out data are `dev`, or the model's own dev set (`held_out_examples`). Unless
    `write` is false, T and the record are stored in the model directory. Predicted entities
    never change, only their scores.
    """
    import datetime as dt

    from nerkit.artifacts import load_model, write_temperature
    from nerkit.models.calibration import calibrate as fit
    from nerkit.models.calibration import collect_entities

    model_dir = Path(model_dir)
    model, config, vocabs, info = load_model(model_dir)
    held_out = Path(dev) if dev else None
    examples, source = _held_out(model_dir, config, info, held_out, format, scheme)
    if not examples:
        raise NerkitError(f"the held-out data {source['path']} holds no example")
    entities = collect_entities(model, vocabs, examples, max_length=config.data.max_length)
    if len(entities) == 0:
        raise NerkitError(
            f"the model predicts no entity on {source['path']}: nothing to calibrate on"
        )
    result = fit(entities, objective)
    record = {**result.to_dict(), "objective": objective, "held_out": source,
              "date": dt.date.today().isoformat()}  # fmt: skip
    if write:
        write_temperature(model_dir, result.temperature, record)
    return record
