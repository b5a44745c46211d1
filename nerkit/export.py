"""ONNX export of a whole tagger; `nerkit.load(dir, runtime="onnx")` runs the graph.

The exported graph goes from id features to decoded tags in one piece:

    tokens (B, T) int64, mask (B, T) bool [, bigrams (B, T, 2) int64] [, chars (B, T, W) int64]
      [, lexicon_ids (B, T, 4, K) int64, lexicon_weights (B, T, 4, K) float32]
      -> paths (B, T) int64          best tag ids (CRF Viterbi, or softmax argmax); past a
                                     sequence's end they repeat its last tag
      -> probabilities (B, T, C)     posterior tag probabilities (CRF marginals, or softmax),
                                     zero on padding
      -> emissions (B, T, C)         the unnormalised tag scores

B, T, W and K are dynamic (the lexicon sets are matched in Python, `nerkit.lexicon`, and
fed in like the other features). The CRF's Viterbi and forward-backward recursions are TorchScript
loops (`nerkit.crf.scripted`, tested against brute-force enumeration), which the
TorchScript-based exporter turns into ONNX `Loop` nodes, so any batch size and length
work. (torch marks TorchScript and that exporter deprecated in favour of `torch.export`;
they are used here because they turn a Python loop over a dynamic length into an ONNX Loop
today. Moving to the dynamo exporter needs the loops rewritten with `torch.cond`/scan-style
control flow.) Inside the graph forbidden transitions
score -1e4 instead of -inf (exp(-1e4) is 0 in float32, so nothing changes, but no NaN
can come from -inf - -inf in ONNX's log-sum-exp).

Calibration: the head's temperature T (`docs/calibration.md`) is baked into the graph: the
probabilities are computed from emissions and transitions divided by T, the paths from the
raw scores. The graph's metadata property `nerkit_temperature` records T, and
the ONNX runtime (`nerkit.tasks.tagging.onnx.OnnxTagScorer`) refuses a graph whose T differs
from its model directory's (re-export after `nerkit calibrate`).

Pretrained (BERT-style) encoders are not exported: their sub-word windows are built in
Python; exporting one is a one-line `NerkitError`.

Shapes: B batch, T padded length, W longest word in characters, K entries of the largest
lexicon set, C tags.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from nerkit.artifacts import load_model
from nerkit.crf import scripted
from nerkit.data.safe_write import check_output_file
from nerkit.encoders.features import Batch, collate, featurize
from nerkit.errors import NerkitError
from nerkit.tasks.tagging.heads import CRFHead
from nerkit.tasks.tagging.model import Tagger
from nerkit.tasks.tagging.onnx import ONNX_FILE, TEMPERATURE_KEY, input_names

__all__ = ["export_onnx"]

logger = logging.getLogger(__name__)

OPSET = 17


class _ExportedTagger(nn.Module):
    """The tagger as a function of plain tensors: features -> paths, probabilities, emissions."""

    def __init__(self, model: Tagger) -> None:
        super().__init__()
        self.model = model
        self.crf = isinstance(model.head, CRFHead)
        # scripted (not traced): their loops must become ONNX Loops over the dynamic length
        self.viterbi = torch.jit.script(scripted.viterbi_paths)
        self.marginals = torch.jit.script(scripted.marginals)
        self.register_buffer("inverse_temperature", 1.0 / model.head.temperature.detach())
        if self.crf:
            crf = model.head.crf
            for suffix, tempered in (("", False), ("_tempered", True)):
                transitions, start, end = crf.finite_scores(tempered=tempered)
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


def _sample_batch(model: Tagger, vocabs: Any) -> Batch:
    """Return a small ragged batch to trace the graph with (two lengths, padding present)."""
    word = ["Ab", "c", "de"] if model.config.tokenization == "word" else ["张", "三", "好"]
    sentences = [word * 2, word]
    if vocabs.lexicon is not None:  # some words, so that K > 1 somewhere
        sentences.append([char for text in vocabs.lexicon.words[:4] for char in text])
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
    model, config, vocabs, _ = load_model(model_dir)
    if config.task != "tagging":
        raise NerkitError(
            f"ONNX export covers tagging models; {model_dir} holds a {config.task} model "
            "(serve it with 'nerkit serve', which runs torch)"
        )
    names = input_names(model)  # a pretrained encoder: a NerkitError before any work
    model.eval()
    default_name = "model.int8.onnx" if quantize else ONNX_FILE
    target = Path(output) if output is not None else model_dir / default_name
    if target.is_dir():
        check_output_file(target)  # a one-line error naming the directory
    target.parent.mkdir(parents=True, exist_ok=True)
    batch = _sample_batch(model, vocabs)
    inputs = tuple(getattr(batch, name) for name in names)
    axes = {name: {0: "batch", 1: "length"} for name in names}
    if "chars" in axes:
        axes["chars"][2] = "word_length"
    for name in ("lexicon_ids", "lexicon_weights"):
        if name in axes:
            axes[name][3] = "lexicon_entries"
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

            with _quiet_root_logger():  # onnxruntime logs a WARNING:root: line per export
                quantize_dynamic(str(plain), str(target), weight_type=QuantType.QInt8)
    _record_temperature(target, model.temperature)
    return target


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


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
