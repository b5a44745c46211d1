"""The Python API every front end calls: train, evaluate, load, predict.

The CLI, the HTTP server and the annotation app are thin layers over these functions.
Heavy modules (torch and the models) are imported when a function runs, not when this
module is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerkit.errors import ArtifactError, NerkitError

if TYPE_CHECKING:
    from nerkit.models.config import Config
    from nerkit.predict import Predictor
    from nerkit.training.loop import TrainResult
    from nerkit.types import Entity

__all__ = ["DEFAULT_MODEL_DIR", "evaluate", "load", "predict", "train"]

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
