"""Training and decoding speed of the model zoo on Resume, every model in one process.

For each config (default: the Resume configs of the results table), in this process:

* training: builds the model and its optimizer exactly as `nerkit train` does, then times
  `--epochs` epochs of the training loop's own step (length-bucketed batches, loss, backward,
  clipping, optimizer, scheduler); reports training sentences/s and characters/s;
* decoding: saves that model, loads it with `nerkit.load` and times `Predictor.predict` on
  every Resume test sentence at batch 10 and 100 (the batch sizes of the NCRF++ figures in
  ../shared/BENCHMARKS.md), 1-best only (`confidence=False`) and with confidences.

Each round decodes the model as trained so far (the number of spans it finds, not its
accuracy, changes the time); no accuracy is reported here (that of each config comes from
`benchmarks/train.py`). The machine should be otherwise
idle: run it alone, with `OMP_WAIT_POLICY=PASSIVE`. Models are measured one after the other,
`--rounds` times in turn, and the medians are reported.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/zoo_speed.py [CONFIG ...] \
        [--threads 1] [--precision fp32|bf16] [--epochs 1] [--rounds 3] [--set k=v ...]

Appends one JSON line per config to benchmarks/results/zoo_speed.jsonl.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import provenance
import torch

from nerkit.artifacts import save_model
from nerkit.models.config import load_config
from nerkit.models.features import build_vocabs, collate, featurize
from nerkit.predict import Predictor
from nerkit.training.data import load_splits, tag_list, tagged_sequences
from nerkit.training.loop import bucketed_batches, make_optimizer, make_scheduler
from nerkit.training.run import build_model
from nerkit.vocab import LabelSet

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [
    "resume_bilstm_crf_fast.yaml",
    "resume_bilstm_crf.yaml",
    "resume_idcnn_crf.yaml",
    "resume_transformer_crf.yaml",
    "resume_bilstm_attention_crf.yaml",
]
DECODE_BATCHES = (10, 100)


class Subject:
    """One config: its model, training instances, optimizer, and Resume test texts."""

    def __init__(self, path: Path, overrides: list[str], precision: str) -> None:
        self.name = path.stem
        self.config = load_config(path, [*overrides, f"train.precision={precision}"])
        splits = load_splits(self.config)
        model_config = self.config.model
        pieces = tagged_sequences(
            splits.train,
            model_config.tokenization,
            model_config.scheme,
            self.config.data.max_length,
        )
        self.vocabs = build_vocabs([tokens for tokens, _ in pieces], model_config)
        tags = tag_list(splits.train, model_config.scheme)
        self.model = build_model(self.config, self.vocabs, tags)
        self.model.precision = precision
        labels = LabelSet(tags)
        self.instances = [
            featurize(tokens, self.vocabs, model_config, labels.ids(t)) for tokens, t in pieces
        ]
        self.chars = sum(len(instance) for instance in self.instances)
        self.optimizer = make_optimizer(self.model, self.config.train)
        steps = math.ceil(len(self.instances) / self.config.train.batch_size)
        self.scheduler = make_scheduler(self.optimizer, self.config.train, 10 * steps)
        self.generator = torch.Generator().manual_seed(0)
        self.texts = [example.text for example in splits.test]
        self.directory = Path(tempfile.mkdtemp(prefix=f"zoo-{self.name}-"))

    def train_seconds(self, epochs: int) -> float:
        """Time `epochs` epochs of training steps; return the seconds."""
        self.model.train()
        clip = self.config.train.clip
        started = time.perf_counter()
        for _ in range(epochs):
            lengths = [len(i) for i in self.instances]
            size = self.config.train.batch_size
            for indices in bucketed_batches(lengths, size, self.generator):
                loss = self.model.loss(collate([self.instances[k] for k in indices]))
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if clip > 0:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
                self.optimizer.step()
                self.scheduler.step()
        return time.perf_counter() - started

    def decode_seconds(self, precision: str) -> dict[str, float]:
        """Save the model, load it as users do, time `predict` on the test texts."""
        save_model(self.directory, self.model, self.config, self.vocabs)
        predictor = Predictor(self.directory, precision=precision)
        predictor.predict(self.texts[:100])  # warm-up
        seconds = {}
        for size in DECODE_BATCHES:
            for confidence in (False, True):
                started = time.perf_counter()
                predictor.predict(self.texts, batch_size=size, confidence=confidence)
                key = f"batch{size}" + ("_confidence" if confidence else "")
                seconds[key] = time.perf_counter() - started
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("configs", nargs="*", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    os.chdir(ROOT)  # config data paths are relative to the repository root
    torch.set_num_threads(args.threads)
    paths = args.configs or [ROOT / "benchmarks" / "configs" / name for name in CONFIGS]
    subjects = [Subject(path, args.overrides, args.precision) for path in paths]
    train: dict[str, list[float]] = {s.name: [] for s in subjects}
    decode: dict[str, list[dict[str, float]]] = {s.name: [] for s in subjects}
    for _ in range(args.rounds):
        for subject in subjects:
            train[subject.name].append(subject.train_seconds(args.epochs))
            decode[subject.name].append(subject.decode_seconds(args.precision))
    for subject in subjects:
        record = _record(subject, args, train[subject.name], decode[subject.name])
        print(json.dumps(provenance.append("zoo_speed.jsonl", record)))


def _record(
    subject: Subject, args: argparse.Namespace, train: list[float], decode: list[dict[str, float]]
) -> dict[str, Any]:
    seconds = statistics.median(train) / args.epochs
    record: dict[str, Any] = {
        "config": subject.name,
        "overrides": args.overrides,
        "threads": args.threads,
        "precision": args.precision,
        "train_sents_per_s": round(len(subject.instances) / seconds, 1),
        "train_chars_per_s": round(subject.chars / seconds),
        "epoch_seconds": round(seconds, 2),
    }
    for key in decode[0]:
        median = statistics.median(run[key] for run in decode)
        record[f"decode_{key}_sents_per_s"] = round(len(subject.texts) / median, 1)
    return record


if __name__ == "__main__":
    main()
