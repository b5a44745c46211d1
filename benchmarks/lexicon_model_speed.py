"""Cost of lexicon features in a whole model: build untrained models, time the matching paths.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/lexicon_model_speed.py \
        [--config benchmarks/configs/msra_lexicon_bilstm_crf.yaml] [--output DIR] \
        [--batch-size 64] [--repeat 5]

1. Builds the model `nerkit train` would start from for `--config` (its vocabularies, its
   lexicon pruned to the training data and its vectors, through `training.run.prepare`),
   untrained, and saves it to DIR/lexicon; the same config without the lexicon goes to
   DIR/plain. Prediction speed does not depend on the weights, so time them with

       OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/predict_speed.py DIR/lexicon

2. Times, on MSRA test in length-sorted batches of `--batch-size` (as the predictor runs),
   the two ways to build lexicon sets: per instance at featurize time (`LexiconMatcher.sets`)
   then `collate_sets`, or per batch at collate time (`batch_sets`, what nerkit does), and
   the model's own `featurize` + `collate` with and without the lexicon. Rates are
   sentences per CPU second of this process (the machine is shared), medians of `--repeat`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from msra import msra_sentences

from nerkit.artifacts import load_model, save_model
from nerkit.data.tokenize import tokenize
from nerkit.encoders.features import collate, featurize
from nerkit.lexicon import collate_sets
from nerkit.tasks import load_config
from nerkit.training.run import prepare

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "benchmarks" / "configs" / "msra_lexicon_bilstm_crf.yaml"
OFF = [f"model.features.{key}=null" for key in ("lexicon", "lexicon_vectors")]


def build(config_path: Path, directory: Path, overrides: list[str]) -> Path:
    """Save the untrained model of a config (with `overrides`) to `directory`; return it."""
    config = load_config(config_path, overrides)
    prepared = prepare(config)
    return save_model(directory, prepared.model, config, prepared.vocabs)


def rate(work: Callable[[], object], count: int, repeat: int) -> float:
    """Return the median sentences per CPU second of `work` over `count` sentences."""
    seconds = []
    for _ in range(repeat):
        start = time.process_time()
        work()
        seconds.append(time.process_time() - start)
    return count / statistics.median(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "runs" / "lexspeed")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-build", action="store_true", help="reuse the saved models")
    args = parser.parse_args(argv)
    if not args.no_build:
        build(args.config, args.output / "lexicon", [])
        build(args.config, args.output / "plain", OFF)
    _, config, vocabs, _ = load_model(args.output / "lexicon")
    _, plain_config, plain_vocabs, _ = load_model(args.output / "plain")
    sentences = [[t.text for t in tokenize(text, mode="char")] for text in msra_sentences()]
    sentences.sort(key=len)
    size = args.batch_size
    batches = [sentences[i : i + size] for i in range(0, len(sentences), size)]
    matcher = vocabs.matcher
    assert matcher is not None
    rates = {
        "sets_then_collate_sets": lambda: [
            collate_sets([matcher.sets(s) for s in batch]) for batch in batches
        ],
        "batch_sets": lambda: [matcher.batch_sets(batch) for batch in batches],
        "featurize_collate_lexicon": lambda: [
            collate([featurize(s, vocabs, config.model) for s in batch]) for batch in batches
        ],
        "featurize_collate_plain": lambda: [
            collate([featurize(s, plain_vocabs, plain_config.model) for s in batch])
            for batch in batches
        ],
    }
    result = {
        "sentences": len(sentences),
        "lexicon_words": len(vocabs.lexicon or ()),
        "batch_size": size,
        "sentences_per_cpu_s": {
            name: round(rate(work, len(sentences), args.repeat)) for name, work in rates.items()
        },
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
