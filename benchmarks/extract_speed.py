"""Bulk extraction speed: sentences/s and chars/s on the MSRA test sentences.

Times, in one run and on the same sentences (MSRA test, characters of each sentence
joined; ../shared/data/msra/msra_test_bio):

* `nerkit.extract.extract` with 1 and 2 worker processes (wall clock of the whole call,
  worker start-up and model loading included, output written as gzip JSON lines);
* `nerkit.load(MODEL_DIR).predict` in this process (the model alone, no I/O);
* with --onnx, the ONNX runtime (`nerkit.tasks.tagging.onnx.OnnxTagScorer`) on the fp32 and
  the int8 export of the same model;
* with --chinesener, ChineseNER 0.1 (PyPI, a BiLSTM-CRF that tags one sentence per call).
  It needs a one-line patch for current torch (a uint8 mask in `masked_fill_`); the
  script applies it to a temporary copy of the installed package, never in place.

Run from the repository root (2 cores; the target for the shipped model is >= 2,000
sentences/s with extract's defaults, `--workers 0 --precision auto`,
on 100k lines, `--repeat 30`):

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/extract_speed.py MODEL_DIR \
        [--workers 1,2] [--precision fp32,bf16,auto]
        [--batch-size N] [--shard-lines N] [--repeat 1] [--limit 0] [--onnx] [--chinesener]

`--repeat N` tags the test sentences N times over (a bulk input, so that worker start-up
and model loading do not dominate); `--precision` lists the precisions `extract` is timed
with (see `nerkit.predict.load`). Every line printed is also appended to
benchmarks/results/extract_speed.jsonl with the model directory, date and commit; the
`system` names of the in-process runs ("Predictor.predict", "OnnxPredictor") are kept from
the earlier API so that the series stay comparable.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import provenance
import torch
from msra import MSRA_TEST, msra_sentences

from nerkit.artifacts import load_model
from nerkit.data.formats import read
from nerkit.evaluation.metrics import score_spans
from nerkit.extract import ExtractOptions, extract
from nerkit.predict import load
from nerkit.types import Entity, Span

_BYTE_MASK = "cur_bp.masked_fill_(mask[idx].view(batch_size, 1).expand(batch_size, tag_size), 0)"


def report(system: str, sentences: list[str], seconds: float, **extra: object) -> None:
    chars = sum(len(s) for s in sentences)
    record = {"system": system, "sentences": len(sentences), "seconds": round(seconds, 2),
              "sentences_per_s": round(len(sentences) / seconds, 1),
              "chars_per_s": round(chars / seconds), **extra}  # fmt: skip
    print(json.dumps(record, ensure_ascii=False), flush=True)
    provenance.append("extract_speed.jsonl", record)


def timed(function: Callable[[], object]) -> float:
    began = time.perf_counter()
    function()
    return time.perf_counter() - began


def time_extract(
    model_dir: Path,
    sentences: list[str],
    workers: int,
    scratch: Path,
    precision: str,
    **settings: int,
) -> None:
    """Time `extract`; `settings` (batch_size, shard_lines) override its defaults."""
    source = scratch / "sentences.txt"
    source.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    output = scratch / f"out{workers}.jsonl.gz"
    options = ExtractOptions(workers=workers, precision=precision, **settings)
    shutil.rmtree(output.with_name(output.name + ".parts"), ignore_errors=True)
    output.unlink(missing_ok=True)
    seconds = timed(lambda: extract(model_dir, [source], output, options, progress=False))
    report(f"nerkit extract --workers {workers} --precision {precision}", sentences, seconds,
           model=str(model_dir), batch_size=options.batch_size, shard_lines=options.shard_lines,
           torch_threads=1 if workers != 1 else torch.get_num_threads())  # fmt: skip


@functools.cache
def _msra_gold() -> list[tuple[Span, ...]]:
    return [example.spans for example in read(MSRA_TEST, "conll")]


def msra_f1(found: list[list[Entity]], limit: int) -> float:
    """Return the strict span F1 (in %) of the first MSRA test sentences' predictions."""
    gold = _msra_gold()[: limit or None]
    pred = [[Span(e.start, e.end, e.label) for e in entities] for entities in found[: len(gold)]]
    return round(100 * score_spans(gold, pred).f1, 2)


def time_onnx(
    model_dir: Path,
    reference: list[list[Entity]],
    sentences: list[str],
    scratch: Path,
    limit: int,
) -> None:
    """Time the fp32 and int8 ONNX exports; report agreement with torch and MSRA test F1."""
    from nerkit.export import export_onnx
    from nerkit.tasks.tagging.onnx import OnnxTagScorer
    from nerkit.tasks.tagging.predictor import TaggingPredictor

    def triples(found: list[list[Entity]]) -> list[list[tuple[int, int, str]]]:
        return [[(e.start, e.end, e.label) for e in entities] for entities in found]

    for quantize in (None, "int8"):
        path = export_onnx(model_dir, scratch / "m.onnx", quantize=quantize)
        loaded = load_model(model_dir)  # the graph in `path`, not MODEL_DIR/model.onnx
        scorer = OnnxTagScorer.from_model_dir(loaded.model, model_dir, path)
        onnx_predictor = TaggingPredictor(loaded._replace(model=scorer), model_dir, "fp32")
        began = time.perf_counter()
        found = onnx_predictor.predict(sentences)
        seconds = time.perf_counter() - began
        same = sum(a == b for a, b in zip(triples(found), triples(reference), strict=True))
        report(f"OnnxPredictor {quantize or 'fp32'}", sentences, seconds, model=str(model_dir),
               sentences_identical_to_torch=same, msra_test_f1=msra_f1(found, limit))  # fmt: skip


@contextlib.contextmanager
def chinesener_copy() -> Iterator[Callable[[str], object]]:
    """Yield ChineseNER's sentence tagger, run from a patched temporary copy of the package."""
    spec = importlib.util.find_spec("ChineseNER")
    if spec is None or spec.origin is None:
        raise SystemExit("ChineseNER is not installed (.venv/bin/pip install ChineseNER==0.1)")
    with tempfile.TemporaryDirectory() as scratch:
        package = Path(scratch) / "ChineseNER"
        shutil.copytree(Path(spec.origin).parent, package)
        crf = package / "crf.py"
        crf.write_text(crf.read_text().replace(_BYTE_MASK, _BYTE_MASK[:-4] + ".bool(), 0)"))
        here, argv = os.getcwd(), sys.argv
        sys.path.insert(0, scratch)
        try:
            os.chdir(package)  # it reads its vocabulary from data/ relative to the cwd
            sys.argv = [argv[0]]  # and parses sys.argv for its hyper-parameters
            from ChineseNER.model import load

            model = load()
            yield model.get_entity_from_sent
        finally:
            os.chdir(here)
            sys.argv = argv
            sys.path.remove(scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--limit", type=int, default=0, help="first N sentences (0: all)")
    parser.add_argument("--repeat", type=int, default=1, help="tag the sentences N times over")
    parser.add_argument("--precision", default="fp32", help="comma-separated: fp32,bf16,auto")
    parser.add_argument("--batch-size", type=int, help="extract's batch size (default: its own)")
    parser.add_argument("--shard-lines", type=int, help="extract's shard size (default: its own)")
    parser.add_argument("--onnx", action="store_true", help="also time the ONNX exports")
    parser.add_argument("--chinesener", action="store_true", help="also time ChineseNER 0.1")
    args = parser.parse_args()
    if not MSRA_TEST.is_file():
        raise SystemExit(f"{MSRA_TEST} is not available")
    sentences = msra_sentences()[: args.limit or None] * args.repeat
    print(f"# {len(sentences)} MSRA test sentences, {sum(map(len, sentences))} chars, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        for precision in args.precision.split(","):
            for workers in [int(w) for w in args.workers.split(",")]:
                settings = {"batch_size": args.batch_size, "shard_lines": args.shard_lines}
                time_extract(args.model_dir, sentences, workers, Path(scratch), precision,
                             **{k: v for k, v in settings.items() if v is not None})  # fmt: skip
        predictor = load(args.model_dir)
        began = time.perf_counter()
        reference = predictor.predict(sentences)
        seconds = time.perf_counter() - began
        report("Predictor.predict (in process)", sentences, seconds, model=str(args.model_dir),
               torch_threads=torch.get_num_threads(),
               msra_test_f1=msra_f1(reference, args.limit))  # fmt: skip
        if args.onnx:
            time_onnx(args.model_dir, reference, sentences, Path(scratch), args.limit)
    if args.chinesener:
        with chinesener_copy() as tag:
            seconds = timed(lambda: [tag(s) for s in sentences])
            threads = torch.get_num_threads()
            name = "ChineseNER 0.1 (one sentence per call)"
            report(name, sentences, seconds, torch_threads=threads)


if __name__ == "__main__":
    main()
