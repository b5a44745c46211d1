"""One predictor protocol for every task, and `load`, the one factory every front end calls.

`load(path)` reads the directory: an ensemble directory (`ensemble.json`) gives one
predictor over the averaged members, a pipeline directory (`pipeline.json`) a
`PipelinePredictor` (entities, then relations between them), any other model directory the
predictor of the task its `metadata.json` names (tagging: entities; classification: labels
with probabilities; relations: relations between given entities).
`runtime="onnx"` runs the exported graph (`nerkit export`) instead of torch. The CLI, the
server and bulk extraction only ever call `load`, so each accepts every kind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from nerkit.artifacts import is_ensemble_dir, load_ensemble, load_model
from nerkit.defaults import PRECISION, RUNTIMES
from nerkit.errors import NerkitError
from nerkit.pipeline.directory import is_pipeline_dir
from nerkit.tasks import get_task

__all__ = ["RUNTIMES", "Predictor", "load"]

Runtime = Literal["torch", "onnx"]


@runtime_checkable
class Predictor(Protocol):
    """What every task's predictor offers; `predict` returns the task's outputs per text."""

    task: str
    path: Path
    metadata: dict[str, Any]

    @property
    def name(self) -> str:
        """Return a short name for the model."""
        ...

    @property
    def labels(self) -> list[str]:
        """Return the labels the model predicts (entity labels, or classes), sorted."""
        ...

    @property
    def temperature(self) -> float:
        """Return the calibration temperature of the scores (1.0: uncalibrated)."""
        ...

    def predict(self, texts: list[str], batch_size: int = 64) -> list[Any]:
        """Return the task's outputs for every text: a list of entities, or of labels with
        scores; a pipeline's `PipelineResult` (entities, relations, attributes)."""
        ...

    def info(self) -> dict[str, Any]:
        """Return a JSON-ready description of the model."""
        ...


def load(model_dir: Path | str, precision: str = PRECISION, runtime: str = "torch") -> Predictor:
    """Return the predictor of a model, ensemble or pipeline directory.

    `precision` "auto" (the default) computes scores in bfloat16 where the CPU has native
    bfloat16 (~2x faster; entities almost always those of fp32), else in float32; "fp32"
    and "bf16" force one. `runtime` "onnx" runs
    MODEL_DIR/model.onnx with onnxruntime (tagging models; see `nerkit export`).
    """
    if runtime not in RUNTIMES:
        raise NerkitError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    path = Path(model_dir)
    if is_pipeline_dir(path):
        from nerkit.pipeline.predictor import load_pipeline

        return load_pipeline(path, precision, runtime)  # type: ignore[no-any-return]
    if is_ensemble_dir(path):
        if runtime != "torch":
            raise NerkitError(f"{path} is an ensemble: only the torch runtime runs ensembles")
        loaded = load_ensemble(path)
    else:
        loaded = load_model(path)
    if loaded.config.task == "joint":  # one model as the NER and relation members
        from nerkit.pipeline.predictor import joint_pipeline

        return joint_pipeline(loaded, path, precision, runtime)  # type: ignore[no-any-return]
    return get_task(loaded.config.task).predictor(loaded, path, precision, runtime)  # type: ignore[no-any-return]
