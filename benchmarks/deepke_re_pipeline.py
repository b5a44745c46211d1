"""DeepKE RE zh end to end: typed training files for the NER member, and pipeline speed.

`data` writes the DeepKE RE sentences with their heads and tails as TYPED spans (the reader's
`types=` option with the dataset's relation.csv) to nerkit JSON lines under
benchmarks/runs/deepke_re_pipeline/data/{train,valid,test}.jsonl. Those types come from the
gold relation (docs/relations.md, "DeepKE RE CSV"), which is right for training an NER model
and for scoring a pipeline against typed gold triples, and never fed to the relation model:
the pipeline gives it the NER model's predicted entities, relabelled as its `ENTITY`.
(Heads and tails overlap once, in valid.csv; the tagger's alignment keeps one of the two.)

`speed PIPELINE_DIR` times `nerkit.load(PIPELINE_DIR).predict` on the test sentences (one
torch thread, model loading excluded): texts/s of the whole pipeline, and pairs/s of its
pair stage (relations and attributes: the pipeline's time minus its taggers' alone). Any
pipeline: `--data`/`--format` name the texts (default: DeepKE RE test), e.g. the DeepKE AE
pipeline of `benchmarks/deepke_ae_pipeline.py`.

Run from the repository root:

    .venv/bin/python benchmarks/deepke_re_pipeline.py data
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/deepke_re_pipeline.py speed DIR \
        [--data ../shared/data/deepke_ae_zh/test.csv --format deepke-ae]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

DATA = Path("../shared/data/deepke_re_zh")
OUT = Path("benchmarks/runs/deepke_re_pipeline/data")
SPLITS = {"train": "train.csv", "valid": "valid.csv", "test": "test.csv"}


def write_typed() -> None:
    """Write the typed JSON lines of every split; print counts."""
    from nerkit.data.formats import read, write

    OUT.mkdir(parents=True, exist_ok=True)
    for split, name in SPLITS.items():
        examples = list(read(DATA / name, "deepke-re", types=DATA / "relation.csv"))
        count = write(examples, OUT / f"{split}.jsonl", "jsonl")
        print(f"{split}: {count} examples -> {OUT / f'{split}.jsonl'}")


def speed(model_dir: Path, repeat: int, batch_size: int, data: Path, format: str) -> None:
    """Print the median texts/s of the pipeline and pairs/s of its pair stage.

    The pair stage's time is the pipeline's minus its taggers' (NER, values) alone (medians
    over `repeat` runs, alternating, so both see the same machine load).
    """
    import torch

    from nerkit import load
    from nerkit.data.formats import read

    torch.set_num_threads(1)
    texts = list(dict.fromkeys(e.text for e in read(data, format)))  # AE rows repeat texts
    predictor = load(model_dir)
    predictor.predict(texts[:32], batch_size=batch_size)  # warm-up
    taggers = [m for m in (predictor.ner, predictor.values) if m is not None]
    whole, ner = [], []
    pairs = 0
    for _ in range(repeat):
        began = time.perf_counter()
        for tagger in taggers:
            tagger.predict(texts, batch_size=batch_size)
        ner.append(time.perf_counter() - began)
        before = predictor.pairs_classified
        began = time.perf_counter()
        predictor.predict(texts, batch_size=batch_size)
        whole.append(time.perf_counter() - began)
        pairs = predictor.pairs_classified - before
    total, tagging = statistics.median(whole), statistics.median(ner)
    relation_stage = max(total - tagging, 1e-9)
    print(json.dumps({"texts": len(texts), "pairs": pairs, "seconds": round(total, 3),
                      "tagger_seconds": round(tagging, 3),
                      "texts_per_s": round(len(texts) / total, 1),
                      "pairs_per_s": round(pairs / relation_stage, 1), "threads": 1,
                      "batch_size": batch_size}))  # fmt: skip


def main() -> None:
    """Parse the command line and run `data` or `speed`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("data", help="write the typed JSON lines")
    timed = commands.add_parser("speed", help="time a pipeline directory")
    timed.add_argument("model_dir", type=Path)
    timed.add_argument("--repeat", type=int, default=3)
    timed.add_argument("--batch-size", type=int, default=64)
    timed.add_argument("--data", type=Path, default=DATA / "test.csv")
    timed.add_argument("--format", default="deepke-re")
    args = parser.parse_args()
    if args.command == "data":
        write_typed()
    else:
        speed(args.model_dir, args.repeat, args.batch_size, args.data, args.format)


if __name__ == "__main__":
    main()
