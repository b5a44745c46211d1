"""nerkit: named entity recognition and information extraction for Chinese and English.

    >>> import nerkit
    >>> predictor = nerkit.load()            # the shipped Chinese model, or load(model_dir)
    >>> predictor.predict(["姚明出生于上海。"])  # entities with start, end, label, text, score

Nothing heavy is imported here: torch, transformers and the web stack load when
the feature that needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nerkit.errors import NerkitError
from nerkit.types import Entity, Example, Span

if TYPE_CHECKING:
    from nerkit.predict import Predictor

__version__ = "0.1.0"

__all__ = ["Entity", "Example", "NerkitError", "Span", "__version__", "evaluate", "load", "train"]


def load(model_dir: str | None = None) -> Predictor:
    """Return a predictor for a model directory (default: the shipped Chinese model)."""
    from nerkit import api

    return api.load(model_dir)


def train(config: Any, output_dir: str, **options: Any) -> Any:
    """Train the model a config file (or `Config`) describes; see `nerkit.api.train`."""
    from nerkit import api

    return api.train(config, output_dir, **options)


def evaluate(model_dir: str | None, data_path: str, format: str | None = None) -> Any:
    """Score a model on an annotated file; see `nerkit.api.evaluate`."""
    from nerkit import api

    return api.evaluate(model_dir, data_path, format=format)
