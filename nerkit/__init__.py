"""nerkit: information extraction for Chinese and English: entities, text classes.

    >>> import nerkit
    >>> predictor = nerkit.load()            # the shipped Chinese model, or load(model_dir)
    >>> predictor.predict(["姚明出生于上海。"])  # entities with start, end, label, text, score

`nerkit.load(dir)` returns the predictor of any model directory: a tagger's gives entities,
a classifier's labels with probabilities; ensembles and ONNX graphs load the same way.

Nothing heavy is imported here: torch, transformers and the web stack load when
the feature that needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nerkit.defaults import PRECISION
from nerkit.errors import NerkitError
from nerkit.types import Entity, Example, Span

if TYPE_CHECKING:
    from nerkit.predict import Predictor
    from nerkit.tasks.base import Report
    from nerkit.training.loop import TrainResult

__version__ = "0.1.0"

__all__ = ["Entity", "Example", "NerkitError", "Span", "__version__", "evaluate", "load", "train"]


def load(
    model_dir: str | None = None, precision: str = PRECISION, runtime: str = "torch"
) -> Predictor:
    """Return a predictor for a model directory (default: the shipped Chinese model)."""
    from nerkit import api

    return api.load(model_dir, precision=precision, runtime=runtime)


def train(config: Any, output_dir: str, **options: Any) -> TrainResult:
    """Train the model a config file, dict or config describes; see `nerkit.api.train`."""
    from nerkit import api

    return api.train(config, output_dir, **options)


def evaluate(model_dir: str | None, data_path: str, format: str | None = None) -> Report:
    """Score a model on an annotated file; see `nerkit.api.evaluate`."""
    from nerkit import api

    return api.evaluate(model_dir, data_path, format=format)
