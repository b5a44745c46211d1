"""Train one benchmark config, score the best dev epoch on test, append a line to the results.

Usage (from anywhere; data paths in configs are relative to the repository root):

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/train.py \
        benchmarks/configs/resume_bilstm_crf.yaml [--set train.epochs=5 ...] [--output DIR]

`--model NAME` swaps the config's encoder and head for one of the model zoo's (see MODELS),
so any row of the README table is one command on its dataset's config, e.g.

    benchmarks/train.py benchmarks/configs/msra_bilstm_crf.yaml --model idcnn_crf

Appends to benchmarks/results/ner.jsonl one JSON line: config, overrides, test P/R/F1 at the
best dev epoch, best epoch, epochs run, wall time, train and decode sentences/s, commit, date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import time
from pathlib import Path

import provenance

from nerkit import api
from nerkit.config import read_raw_config

ROOT = Path(__file__).resolve().parents[1]


def _encoder_of(config: str) -> str:
    """Return an override that sets model.encoder to the encoder of a benchmark config."""
    raw = read_raw_config(ROOT / "benchmarks" / "configs" / config)
    return "model.encoder=" + json.dumps(raw["model"]["encoder"])  # JSON is YAML flow syntax


# The model zoo as overrides on a dataset config. The recurrent variants keep the config's
# hidden size and dropout; IDCNN and the Transformer take the encoders tuned on Resume dev.
MODELS: dict[str, list[str]] = {
    "bilstm_softmax": ["model.encoder.kind=bilstm", "model.head=softmax"],
    "bilstm_crf": ["model.encoder.kind=bilstm", "model.head=crf"],
    "bigru_crf": ["model.encoder.kind=bigru", "model.head=crf"],
    "bilstm_attention_crf": [
        "model.encoder.kind=bilstm_attention", "model.encoder.num_heads=4", "model.head=crf"
    ],
    "idcnn_crf": [_encoder_of("resume_idcnn_crf.yaml"), "model.head=crf"],
    "transformer_crf": [_encoder_of("resume_transformer_crf.yaml"), "model.head=crf"],
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument(
        "--model",
        choices=sorted(MODELS),
        default=None,
        help="replace the config's encoder and head by a zoo model",
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    overrides = (MODELS[args.model] if args.model else []) + args.overrides
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config_path = args.config.resolve()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = config_path.stem + (f"-{args.model}" if args.model else "")
    output = (args.output or ROOT / "benchmarks" / "runs" / f"{name}-{stamp}").resolve()
    os.chdir(ROOT)
    commit = provenance.commit()  # the code that trains, not whatever HEAD is when the run ends
    started = time.perf_counter()
    result = api.train(config_path, output, overrides=overrides, resume=args.resume)
    wall = time.perf_counter() - started
    test = result.test or {}
    record = {
        "config": str(config_path.relative_to(ROOT)) if config_path.is_relative_to(ROOT)
        else str(config_path),
        "model": args.model,  # its overrides are MODELS[model], applied before these
        "overrides": args.overrides,
        "test_precision": test.get("precision"),
        "test_recall": test.get("recall"),
        "test_f1": test.get("f1"),
        "best_dev_f1": result.best_score,
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "wall_seconds": round(wall, 1),
        "train_sents_per_s": round(result.examples_per_second, 1),
        "decode_sents_per_s": test.get("decode_sents_per_s"),
        "commit": commit,
        "output": str(output),
    }  # fmt: skip
    print(json.dumps(provenance.append("ner.jsonl", record), indent=2))


if __name__ == "__main__":
    main()
