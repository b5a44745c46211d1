"""The Python API every front end calls: train, evaluate, load, predict, calibrate.

The CLI, the HTTP server and the annotation app are thin layers over these functions.
Heavy modules (torch and the models) are imported when a function runs, not when this
module is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nerkit.defaults import PRECISION
from nerkit.errors import ArtifactError, NerkitError

if TYPE_CHECKING:
    from nerkit.config import RunConfig
    from nerkit.predict import Predictor
    from nerkit.tasks.base import Report, Splits
    from nerkit.training.loop import TrainResult
    from nerkit.types import Example

__all__ = [
    "DEFAULT_MODEL_DIR",
    "build_pipeline",
    "calibrate",
    "evaluate",
    "held_out_examples",
    "load",
    "predict",
    "train",
]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "resources" / "default"


def train(
    config: Path | str | RunConfig | dict[str, Any],
    output_dir: Path | str,
    overrides: Sequence[str] = (),
    resume: bool = False,
    progress: bool = True,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
    examples: Splits | tuple[Sequence[Any], Sequence[Any], Sequence[Any]] | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
    overwrite: bool = False,
) -> TrainResult:
    """Train the model a config (file, dict or config object) describes; save it to `output_dir`.

    `examples` trains from memory instead of the files in `config.data`: a `Splits`, or
    (train, dev, test) sequences of the task's examples (an empty dev: no dev set). Returns
    a `TrainResult` with the best dev score and epoch, the per-epoch history and, when there
    are test examples, the test scores of the best epoch. `on_step` / `on_epoch_end` receive
    the training loop's info dicts (see `nerkit.training.loop`). An `output_dir` that
    already holds a model is refused unless `overwrite`.
    """
    from nerkit.tasks import load_config
    from nerkit.tasks.base import Splits
    from nerkit.training.run import train as run_training

    resolved = load_config(config, tuple(overrides))
    if examples is not None and not isinstance(examples, Splits):
        examples = Splits(*(list(part) for part in examples))
    return run_training(
        resolved, Path(output_dir), examples=examples, resume=resume, overwrite=overwrite,
        progress=progress, on_epoch_end=on_epoch_end, on_step=on_step,
    )  # fmt: skip


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


def load(
    model_dir: Path | str | None = None, precision: str = PRECISION, runtime: str = "torch"
) -> Predictor:
    """Return the predictor of a model, ensemble or pipeline directory (default: shipped model).

    The task and kind come from the directory (`nerkit.predict.load`). `precision` "auto"
    (the default) computes scores in bfloat16 where the CPU has it natively (~2x faster),
    "fp32" and "bf16" force one. `runtime` "onnx" runs MODEL_DIR/model.onnx.
    """
    from nerkit.predict import load as load_predictor

    return load_predictor(resolve_model_dir(model_dir), precision=precision, runtime=runtime)


def predict(
    texts: Sequence[str], model_dir: Path | str | None = None, batch_size: int = 64
) -> list[list[Any]]:
    """Return the task's outputs for each text with the model in `model_dir` (loads it)."""
    return load(model_dir).predict(list(texts), batch_size=batch_size)


def evaluate(
    model_dir: Path | str | None,
    data_path: Path | str,
    format: str | None = None,
    scheme: str | None = None,
) -> Report:
    """Return the `Report` of a saved model on a labelled data file (any task).

    `format` defaults to the format the model was trained on; `scheme` is the tag scheme of
    a CoNLL file (default: that of the training data; "auto" detects it). A pipeline
    directory is scored end to end (`nerkit.pipeline.report`): strict and boundaries triple
    F1 and entity F1; its data default to the NER member's training format. A joint model
    (`task: joint`) is scored the same way by its task.
    """
    from nerkit.artifacts import is_ensemble_dir, load_ensemble, load_model
    from nerkit.pipeline import is_pipeline_dir
    from nerkit.tasks import get_task

    path = resolve_model_dir(model_dir)
    if is_pipeline_dir(path):
        return _evaluate_pipeline(path, Path(data_path), format)
    loaded = load_ensemble(path) if is_ensemble_dir(path) else load_model(path)
    task = get_task(loaded.config.task)
    data = loaded.config.data
    if scheme is not None:
        data = data.model_copy(update={"scheme": None if scheme == "auto" else scheme})
    examples = task.read_examples(Path(data_path), data, format=format)
    if not examples:
        raise NerkitError(f"{data_path} holds no example to evaluate on")
    return task.report(loaded, examples)


def _evaluate_pipeline(path: Path, data_path: Path, format: str | None) -> Report:
    """Return the `EndToEndReport` of a pipeline directory on gold entities, relations and
    attributes."""
    from nerkit.pipeline.predictor import load_pipeline
    from nerkit.pipeline.report import report
    from nerkit.tasks import get_task

    predictor = load_pipeline(path)
    data = predictor.ner.config.data
    examples = get_task("relations").read_examples(data_path, data, format=format)
    if not examples:
        raise NerkitError(f"{data_path} holds no example to evaluate on")
    return report(predictor, examples)


def build_pipeline(
    output: Path | str,
    ner: Path | str,
    relations: Path | str | None = None,
    schema: Path | str | None = None,
    overwrite: bool = False,
    schema_from: Path | str | None = None,
    schema_format: str | None = None,
    *,
    values: Path | str | None = None,
    attributes: Path | str | None = None,
) -> Path:
    """Write a pipeline directory of model directories; return its path.

    Members: `ner`, and `relations`, or `values` (a tagger of attribute values) with
    `attributes` (a model with `model.targets: attributes`), or all four.

    The pipeline schema, written in the NER model's entity types, prunes the candidate
    relation pairs and the relation labels (see `nerkit.pipeline.predictor` for the type
    rule): `schema`, a JSON file holding a `Schema` dict (`Schema.to_dict`), or `schema_from`,
    typed labelled data (in `schema_format`, default: detected) whose schema is inferred
    (`infer_schema`); neither: the relation model's saved schema.
    """
    import json

    from nerkit.data.formats import detect_format, read
    from nerkit.data.schema import Schema, infer_schema
    from nerkit.pipeline import build_pipeline as build

    if schema is not None and schema_from is not None:
        raise NerkitError("give a schema file or data to infer it from, not both")
    parsed = None
    if schema_from is not None:
        source = Path(schema_from)
        if not source.exists():
            raise NerkitError(f"data file {str(source)!r} does not exist")
        parsed = infer_schema(read(source, schema_format or detect_format(source)))
        if not parsed.relations:
            raise NerkitError(f"{source} holds no relation to infer a schema from")
    elif schema is not None:
        try:
            parsed = Schema.from_dict(json.loads(Path(schema).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
            raise NerkitError(f"cannot read the schema {schema}: {error}") from None
    return build(
        output, ner, relations, parsed, overwrite=overwrite, values=values, attributes=attributes
    )


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
    config: Any,
    info: dict[str, Any],
    dev: Path | None,
    format: str | None,
    scheme: str | None,
) -> tuple[list[Example], dict[str, Any]]:
    from nerkit.checksums import file_sha256
    from nerkit.tasks.tagging.data import read_examples
    from nerkit.training.run import read_splits

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
    examples = read_splits(config.model_copy(update={"data": data})).dev
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
    from nerkit.tasks.tagging.calibration import calibrate as fit
    from nerkit.tasks.tagging.calibration import collect_entities

    model_dir = Path(model_dir)
    model, config, vocabs, info = load_model(model_dir)
    if config.task != "tagging":
        raise NerkitError(
            f"{model_dir} is a {config.task} model: 'nerkit calibrate' fits the entity "
            "confidences of taggers (classifiers are calibrated when they are trained)"
        )
    held_out = Path(dev) if dev else None
    examples, source = _held_out(model_dir, config, info, held_out, format, scheme)
    if not examples:
        raise NerkitError(f"the held-out data {source['path']} holds no example")
    entities = collect_entities(model, vocabs, examples, max_length=config.model.max_length)
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
