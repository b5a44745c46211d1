"""ONNX export of a whole tagger, and `OnnxPredictor`, which runs it with onnxruntime.

The exported graph goes from id features to decoded tags in one piece:

    tokens (B, T) int64, mask (B, T) bool [, bigrams (B, T, 2) int64] [, chars (B, T, W) int64]
      -> paths (B, T) int64          best tag ids (CRF Viterbi, or softmax argmax); past a
                                     sequence's end they repeat its last tag
      -> probabilities (B, T, C)     posterior tag probabilities (CRF marginals, or softmax),
                                     zero on padding
      -> emissions (B, T, C)         the unnormalised tag scores

B, T and W are dynamic. The CRF's Viterbi and forward-backward recursions are TorchScript
loops (`_viterbi`, `_marginals`), which the TorchScript-based exporter turns into ONNX
`Loop` nodes, so any batch size and length work. (torch marks TorchScript and that exporter
deprecated in favour of `torch.export`; they are used here because they turn a Python loop
over a dynamic length into an ONNX Loop today. Moving to the dynamo exporter needs the loops
rewritten with `torch.cond`/scan-style control flow.) Inside the graph forbidden transitions
score -1e4 instead of -inf (exp(-1e4) is 0 in float32, so nothing changes, but no NaN
can come from -inf - -inf in ONNX's log-sum-exp).

Calibration: the head's temperature T (`docs/calibration.md`) is baked into the graph: the
probabilities are computed from emissions and transitions divided by T, the paths from the
raw scores. The graph's metadata property `nerkit_temperature` records T, and
`OnnxPredictor` refuses a graph whose T differs from its model directory's (re-export after
`nerkit calibrate`).

`OnnxPredictor` is a `Predictor` whose model is replaced by the onnxruntime session:
tokenization, featurisation, windows, batching and entity building are the Predictor's
own code, so both give the same entities.

Shapes: B batch, T padded length, W longest word in characters, C tags.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from nerkit.artifacts import load_model
from nerkit.errors import NerkitError
from nerkit.models.features import Batch, collate, featurize
from nerkit.models.heads import CRFHead
from nerkit.models.tagger import Tagger
from nerkit.predict import Predictor

__all__ = ["OnnxPredictor", "export_onnx"]

logger = logging.getLogger(__name__)

_FORBIDDEN = -1e4
OPSET = 17
TEMPERATURE_KEY = "nerkit_temperature"


def _viterbi(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    """Return the best path (B, T) of each sequence; padded steps repeat the last real tag."""
    batch, length, num_tags = emissions.size(0), emissions.size(1), emissions.size(2)
    score = start.unsqueeze(0) + emissions[:, 0]  # (B, C)
    identity = torch.arange(num_tags).unsqueeze(0).expand(batch, num_tags)
    history = [identity]  # per step (B, C): best previous tag; step 0 is a placeholder
    for t in range(1, length):
        candidates = score.unsqueeze(2) + transitions.unsqueeze(0)  # (B, C_prev, C_next)
        best, previous = candidates.max(dim=1)
        step = mask[:, t].unsqueeze(1)  # (B, 1)
        score = torch.where(step, best + emissions[:, t], score)
        # a padded step points every tag to itself, so the trace-back walks through it
        history.append(torch.where(step, previous, identity))
    current = (score + end.unsqueeze(0)).argmax(dim=1)  # (B,)
    backward = [current]
    for k in range(length - 1):
        t = length - 1 - k
        current = history[t].gather(1, current.unsqueeze(1)).squeeze(1)
        backward.append(current)
    return torch.stack(backward, dim=1).flip([1])


def _marginals(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    """Return the posterior tag probabilities (B, T, C) by forward-backward in log space."""
    length = emissions.size(1)
    alpha = start.unsqueeze(0) + emissions[:, 0]  # (B, C)
    alphas = [alpha]
    for t in range(1, length):
        step = torch.logsumexp(alpha.unsqueeze(2) + transitions.unsqueeze(0), dim=1)
        alpha = torch.where(mask[:, t].unsqueeze(1), step + emissions[:, t], alpha)
        alphas.append(alpha)
    log_z = torch.logsumexp(alpha + end.unsqueeze(0), dim=1)  # (B,)
    final = end.unsqueeze(0).expand_as(alpha)
    beta = final
    betas = [beta]
    for k in range(length - 1):
        t = length - 2 - k
        ahead = (emissions[:, t + 1] + beta).unsqueeze(1)  # (B, 1, C_next)
        step = torch.logsumexp(transitions.unsqueeze(0) + ahead, dim=2)  # (B, C)
        beta = torch.where(mask[:, t + 1].unsqueeze(1), step, final)
        betas.append(beta)
    forward_scores = torch.stack(alphas, dim=1)  # (B, T, C)
    backward_scores = torch.stack(betas, dim=1).flip([1])  # (B, T, C)
    probabilities = torch.exp(forward_scores + backward_scores - log_z.view(-1, 1, 1))
    return probabilities * mask.unsqueeze(2).to(probabilities.dtype)


class _ExportedTagger(nn.Module):
    """The tagger as a function of plain tensors: features -> paths, probabilities, emissions."""

    def __init__(self, model: Tagger) -> None:
        super().__init__()
        self.model = model
        self.crf = isinstance(model.head, CRFHead)
        # scripted (not traced): their loops must become ONNX Loops over the dynamic length
        self.viterbi = torch.jit.script(_viterbi)
        self.marginals = torch.jit.script(_marginals)
        self.register_buffer("inverse_temperature", 1.0 / model.head.temperature.detach())
        if self.crf:
            crf = model.head.crf
            for suffix, tempered in (("", False), ("_tempered", True)):
                transitions, start, end = crf._scores(_FORBIDDEN, tempered=tempered)
                self.register_buffer("transitions" + suffix, transitions.detach().clone())
                self.register_buffer("start" + suffix, start.detach().clone())
                self.register_buffer("end" + suffix, end.detach().clone())

    def forward(self, tokens: Tensor, mask: Tensor, *extra: Tensor) -> tuple[Tensor, ...]:
        names = input_names(self.model)[2:]
        features = dict(zip(names, extra, strict=True))
        emissions = self.model.emissions(Batch(tokens=tokens, mask=mask, **features))
        tempered = emissions * self.inverse_temperature
        if not self.crf:
            probabilities = tempered.softmax(dim=2) * mask.unsqueeze(2).to(emissions.dtype)
            return emissions.argmax(dim=2), probabilities, emissions
        paths = self.viterbi(emissions, mask, self.transitions, self.start, self.end)
        probabilities = self.marginals(
            tempered, mask, self.transitions_tempered, self.start_tempered, self.end_tempered
        )
        return paths, probabilities, emissions


def input_names(model: Tagger) -> list[str]:
    """Return the graph's input names for a tagger: tokens, mask and its extra features."""
    names = ["tokens", "mask"]
    if model.embedder.bigrams is not None:
        names.append("bigrams")
    if model.embedder.chars is not None:
        names.append("chars")
    return names


def _sample_batch(model: Tagger, vocabs: Any) -> Batch:
    """Return a small ragged batch to trace the graph with (two lengths, padding present)."""
    word = ["Ab", "c", "de"] if model.config.tokenization == "word" else ["张", "三", "好"]
    sentences = [word * 2, word]
    return collate([featurize(sentence, vocabs, model.config) for sentence in sentences])


def export_onnx(
    model_dir: Path | str, output: Path | str | None = None, quantize: str | None = None
) -> Path:
    """Export the tagger of `model_dir` to ONNX; return the file written.

    `output` defaults to MODEL_DIR/model.onnx (model.int8.onnx when quantized).
    `quantize="int8"` applies onnxruntime's dynamic int8 quantization to the weights.
    """
    if quantize not in (None, "int8"):
        raise NerkitError(f"quantize must be 'int8' or absent, got {quantize!r}")
    model_dir = Path(model_dir)
    model, _, vocabs, _ = load_model(model_dir)
    model.eval()
    default_name = "model.int8.onnx" if quantize else "model.onnx"
    target = Path(output) if output is not None else model_dir / default_name
    target.parent.mkdir(parents=True, exist_ok=True)
    names = input_names(model)
    batch = _sample_batch(model, vocabs)
    inputs = tuple(getattr(batch, name) for name in names)
    axes = {name: {0: "batch", 1: "length"} for name in names}
    if "chars" in axes:
        axes["chars"][2] = "word_length"
    outputs = ["paths", "probabilities", "emissions"]
    axes.update({name: {0: "batch", 1: "length"} for name in outputs})
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        # The tracer's warnings are about shape checks it freezes (input sizes of the RNN,
        # the unbinding of q/k/v): those sizes are fixed by the model, not by B or T. The RNN
        # "batch_size other than 1" warning is about initial states passed as inputs; the
        # tagger passes none, and the tests run the graph at batch sizes 1, 3 and 64.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size")
        # torch.jit.script and the TorchScript-based exporter are deprecated in favour of
        # torch.export; they are used on purpose (see the module docstring)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        plain = Path(scratch) / "model.onnx" if quantize else target
        torch.onnx.export(
            _ExportedTagger(model), inputs, str(plain), input_names=names,
            output_names=outputs, dynamic_axes=axes, opset_version=OPSET, dynamo=False,
        )  # fmt: skip
        _relax_loop_shapes(plain)
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(plain), str(target), weight_type=QuantType.QInt8)
    _record_temperature(target, float(model.head.temperature))
    return target


def _relax_loop_shapes(path: Path) -> None:
    """Drop the intermediate shapes the tracer recorded, which are wrong for loop-grown tensors.

    Tracing sees one fixed length, so it annotates tensors that the Viterbi and
    forward-backward loops grow with that length's shapes; onnxruntime would warn on every
    run that the real shapes differ. The graph inputs and outputs keep their dynamic shapes.
    """
    import onnx

    model = onnx.load(str(path))
    graphs = [model.graph]
    while graphs:
        graph = graphs.pop()
        for info in graph.value_info:
            _clear_shape(info)
        if graph is not model.graph:  # a loop body: its carried values change shape
            # (inputs 0 and 1 are the scalar iteration count and condition, output 0 the condition)
            for info in [*graph.input[2:], *graph.output[1:]]:
                _clear_shape(info)
        for node in graph.node:
            graphs.extend(attribute.g for attribute in node.attribute if attribute.HasField("g"))
    onnx.save(model, str(path))


def _record_temperature(path: Path, temperature: float) -> None:
    """Write the calibration temperature into the graph's metadata (`nerkit_temperature`)."""
    import onnx

    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, {TEMPERATURE_KEY: repr(temperature)})
    onnx.save(model, str(path))


def _clear_shape(info: Any) -> None:
    if info.type.HasField("tensor_type"):  # sequences (the loops' lists) have no shape
        info.type.tensor_type.ClearField("shape")


class _OnnxTagger:
    """Stands in for a `Tagger` where `nerkit.models.inference.tag_sequences` needs one."""

    training = False

    def __init__(self, model: Tagger, session: Any) -> None:
        self.config, self.tags = model.config, list(model.tags)
        self.names = input_names(model)
        self.session = session

    def eval(self) -> _OnnxTagger:
        return self

    def train(self, mode: bool = True) -> _OnnxTagger:
        return self

    def decode_with_probabilities(self, batch: Batch) -> tuple[list[list[int]], Tensor]:
        """Return the best tag ids of each sequence and the (B, T, C) tag probabilities."""
        feeds = {name: getattr(batch, name).numpy() for name in self.names}
        paths, probabilities, _ = self.session.run(None, feeds)
        lengths = batch.mask.sum(dim=1).tolist()
        decoded = [row[:length] for row, length in zip(paths.tolist(), lengths, strict=True)]
        return decoded, torch.from_numpy(np.ascontiguousarray(probabilities))


class OnnxPredictor(Predictor):
    """A `Predictor` that runs the exported ONNX graph with onnxruntime (same `predict`)."""

    def __init__(
        self, model_dir: Path | str, onnx_path: Path | str | None = None, threads: int = 0
    ) -> None:
        import onnxruntime

        super().__init__(model_dir)
        path = Path(onnx_path) if onnx_path is not None else self.path / "model.onnx"
        if not path.is_file():
            raise NerkitError(
                f"ONNX file {str(path)!r} does not exist "
                f"(run 'nerkit export {self.path} --format onnx' first)"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0"))
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        _check_temperature(path, session, float(self.model.head.temperature))
        self.onnx_path = path
        self.model = _OnnxTagger(self.model, session)  # type: ignore[assignment]


def _check_temperature(path: Path, session: Any, expected: float) -> None:
    """Raise `NerkitError` when the graph was exported at another temperature than the model's."""
    recorded = session.get_modelmeta().custom_metadata_map.get(TEMPERATURE_KEY, "1.0")
    if abs(float(recorded) - expected) > 1e-6 * max(1.0, expected):
        raise NerkitError(
            f"{path} was exported with temperature {float(recorded):g}, the model directory "
            f"has {expected:g} (re-run 'nerkit export' after 'nerkit calibrate')"
        )
