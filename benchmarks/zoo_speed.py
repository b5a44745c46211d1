"""Training and decoding speed of the model zoo on Resume, every model in one process.

For each config (default: the Resume configs of the results table), in this process:

* training: builds the model, its batches and its optimizer exactly as `nerkit train` does
  (`nerkit.training.run.prepare`, pretrained vectors included), then times `--epochs`
  epochs of the training loop's own step (length-bucketed batches, loss, backward,
  clipping, optimizer, scheduler); reports training sentences/s and characters/s;
* decoding: saves that model, loads it with `nerkit.load` and times `predict` on
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
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import provenance
import torch

from nerkit.artifacts import save_model
from nerkit.predict import load
from nerkit.tasks import load_config
from nerkit.training.optim import make_optimizer, make_scheduler
from nerkit.training.run import prepare, read_splits

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
    """One config: its prepared model and batches, optimizer, and Resume test texts."""

    def __init__(self, path: Path, overrides: list[str], precision: str) -> None:
        self.name = path.stem
        self.config = load_config(path, [*overrides, f"train.precision={precision}"])
        splits = read_splits(self.config)
        # exactly what `nerkit train` builds: vocabularies, pretrained vectors, seeded model
        self.prepared = prepare(self.config, splits)
        self.model, self.vocabs = self.prepared.model, self.prepared.vocabs
        self.model.precision = precision
        self.generator = torch.Generator().manual_seed(0)
        epoch = self.prepared.batches(torch.Generator().manual_seed(0))
        self.sentences = self.prepared.train_size
        self.chars = sum(int(batch.mask.sum()) for batch in epoch)
        self.optimizer = make_optimizer(self.model, self.config.train)
        self.scheduler = make_scheduler(self.optimizer, self.config.train, 10 * len(epoch))
        self.texts = [example.text for example in splits.test]
        self.directory = Path(tempfile.mkdtemp(prefix=f"zoo-{self.name}-"))

    def train_seconds(self, epochs: int) -> float:
        """Time `epochs` epochs of training steps; return the seconds."""
        self.model.train()
        clip = self.config.train.clip
        started = time.perf_counter()
        for _ in range(epochs):
            for batch in self.prepared.batches(self.generator):  # collated as the loop does
                loss = self.model.loss(batch)
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
        predictor = load(self.directory, precision=precision)
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
        "train_sents_per_s": round(subject.sentences / seconds, 1),
        "train_chars_per_s": round(subject.chars / seconds),
        "epoch_seconds": round(seconds, 2),
    }
    for key in decode[0]:
        median = statistics.median(run[key] for run in decode)
        record[f"decode_{key}_sents_per_s"] = round(len(subject.texts) / median, 1)
    return record


if __name__ == "__main__":
    main()
