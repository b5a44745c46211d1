"""Should the CRF's scheme constraints apply in training, or only when decoding?

Trains the same config (same seed, same batches) three ways and scores dev after every
epoch and test at the best dev epoch:

* ``train+decode``: forbidden transitions removed in training and decoding (nerkit's policy);
* ``decode-only``: a free CRF in training, the constraints added for decoding (AllenNLP's policy);
* ``none``: no constraints at all.

Usage, from the repository root (a few minutes per variant on Resume):

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/crf_constraints.py \
        benchmarks/configs/resume_bilstm_crf.yaml --set train.epochs=10

Appends one JSON line per variant to benchmarks/results/crf_constraints.jsonl.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import provenance
import torch

from nerkit.runtime import num_threads
from nerkit.tasks import load_config
from nerkit.tasks.tagging.scoring import score_examples, summary
from nerkit.training.loop import fit
from nerkit.training.run import prepare, read_splits

VARIANTS = ("train+decode", "decode-only", "none")


@contextmanager
def constraints(crf: torch.nn.Module, mask: torch.Tensor):
    """Temporarily give `crf` the transition mask `mask`."""
    saved = crf.allowed.clone()
    crf.allowed.copy_(mask)
    try:
        yield
    finally:
        crf.allowed.copy_(saved)


def run_variant(config, variant: str) -> dict:
    splits = read_splits(config)
    # exactly what `nerkit train` builds (vocabularies, pretrained vectors, seeded model)
    prepared = prepare(config, splits)
    model, vocabs = prepared.model, prepared.vocabs
    crf = model.head.crf
    scheme_mask = crf.allowed.clone()
    free = torch.ones_like(scheme_mask)
    if variant != "train+decode":
        crf.allowed.copy_(free)
    decode_mask = free if variant == "none" else scheme_mask
    best: dict = {"dev": -1.0}

    def score(examples: list) -> dict:
        return summary(score_examples(model, vocabs, config.model, examples))

    def evaluate() -> tuple[float, dict]:
        with constraints(crf, decode_mask):
            dev = score(splits.dev)
            if dev["f1"] > best["dev"]:
                best.update(dev=dev["f1"], test=score(splits.test))
        return dev["f1"], dev

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch, num_threads(config.train.num_threads):
        result = fit(
            replace(prepared, evaluate=evaluate), config.train, Path(scratch),
            save_best=lambda scores: None, progress=False,
        )  # fmt: skip
    return {
        "variant": variant,
        "dev_f1_per_epoch": [round(h["dev_f1"], 4) for h in result.history],
        "best_epoch": result.best_epoch,
        "best_dev_f1": round(best["dev"], 4),
        "test_at_best_dev": {k: round(v, 4) for k, v in best["test"].items()},
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    args = parser.parse_args()
    config = load_config(args.config, tuple(args.overrides))
    for variant in args.variants:
        row = run_variant(config, variant)
        row.update(config=str(args.config), overrides=args.overrides)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        provenance.append("crf_constraints.jsonl", row)


if __name__ == "__main__":
    main()
