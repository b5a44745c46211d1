"""Running an exported tagger graph with onnxruntime, as a drop-in for a torch `TagScorer`.

`OnnxTagScorer` has the decoding methods the tagging predictor calls (`decode`,
`decode_with_probabilities`, `config`, `tags`, `temperature`, `precision`), so
tokenization, features, windows, batching and entity building stay the predictor's own
code and both runtimes give the same entities. `nerkit.export.export_onnx` writes the
graph; `input_names` says which features it reads.

Shapes: B batch, T padded length, C tags.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nerkit.encoders.features import Batch
from nerkit.errors import NerkitError
from nerkit.tasks.tagging.model import TagScorer

__all__ = ["ONNX_FILE", "TEMPERATURE_KEY", "OnnxTagScorer", "input_names"]

ONNX_FILE = "model.onnx"
TEMPERATURE_KEY = "nerkit_temperature"


def input_names(model: TagScorer) -> list[str]:
    """Return the graph's input names for a tagger: tokens, mask and its extra features.

    Raise NerkitError for a model whose encoder cannot be exported (pretrained transformers
    read sub-word windows built in Python).
    """
    embedder = model.token_encoder.embedder
    if embedder is None:
        raise NerkitError(
            f"ONNX export does not cover pretrained encoders ({model.config.encoder.kind!r}): "
            "their sub-word windows are built in Python (serve the torch model instead)"
        )
    names = ["tokens", "mask"]
    if embedder.bigrams is not None:
        names.append("bigrams")
    if embedder.chars is not None:
        names.append("chars")
    if embedder.lexicon is not None:
        names.extend(["lexicon_ids", "lexicon_weights"])
    return names


class OnnxTagScorer:
    """An onnxruntime session over an exported tagger graph, decoding like a `TagScorer`."""

    precision = "fp32"  # the graph's own precision; int8 graphs are quantized at export

    def __init__(self, session: Any, model: TagScorer, path: Path) -> None:
        self.session, self.path = session, path
        self.config, self.tags = model.config, list(model.tags)
        self.names = input_names(model)
        self.temperature = float(model.temperature)
        recorded = session.get_modelmeta().custom_metadata_map.get(TEMPERATURE_KEY, "1.0")
        if abs(float(recorded) - self.temperature) > 1e-6 * max(1.0, self.temperature):
            raise NerkitError(
                f"{path} was exported with temperature {float(recorded):g}, the model "
                f"directory has {self.temperature:g} (re-run 'nerkit export' after "
                "'nerkit calibrate')"
            )

    @classmethod
    def from_model_dir(
        cls,
        model: TagScorer,
        model_dir: Path,
        onnx_path: Path | str | None = None,
        threads: int = 0,
    ) -> OnnxTagScorer:
        """Open MODEL_DIR/model.onnx (or `onnx_path`) for the loaded torch `model`."""
        try:
            import onnxruntime
        except ModuleNotFoundError:
            raise NerkitError(
                "running ONNX models needs onnxruntime (pip install 'nerkit[export]')"
            ) from None
        path = Path(onnx_path) if onnx_path is not None else Path(model_dir) / ONNX_FILE
        if not path.is_file():
            raise NerkitError(
                f"ONNX file {str(path)!r} does not exist "
                f"(run 'nerkit export {model_dir} --format onnx' first)"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0"))
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        return cls(session, model, path)

    def _run(self, batch: Batch) -> tuple[list[list[int]], Any]:
        feeds = {name: getattr(batch, name).numpy() for name in self.names}
        paths, probabilities, _ = self.session.run(None, feeds)
        lengths = batch.mask.sum(dim=1).tolist()
        decoded = [row[:length] for row, length in zip(paths.tolist(), lengths, strict=True)]
        return decoded, probabilities

    def decode(self, batch: Batch) -> list[list[int]]:
        """Return the best tag ids of each sequence, each as long as its mask."""
        return self._run(batch)[0]

    def decode_with_probabilities(self, batch: Batch) -> tuple[list[list[int]], Tensor]:
        """Return the best tag ids of each sequence and the (B, T, C) tag probabilities."""
        decoded, probabilities = self._run(batch)
        return decoded, torch.from_numpy(np.ascontiguousarray(probabilities))
