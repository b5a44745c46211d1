"""Package a trained model directory as nerkit's shipped default model.

Copies the model files into `nerkit/resources/default/` (`nerkit.api.DEFAULT_MODEL_DIR`),
stores the floating-point weights as float16 (half the size; they are cast back to float32
when loaded), scores the copy on the MSRA test file, and writes the scores into its
metadata and a model card (`MODEL_CARD.md`). Run from the repository root after training
`benchmarks/configs/msra_default.yaml` (make its LAC and lexicon resources first, as its
header says), then fit the confidence temperature on the dev carve; the card's "Speed" and
"Confidence" sections are then written by hand from `benchmarks/extract_speed.py` and
`benchmarks/calibration.py` runs:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/train.py \
        benchmarks/configs/msra_default.yaml --output benchmarks/runs/msra_default
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/ship_default.py benchmarks/runs/msra_default
    .venv/bin/nerkit calibrate nerkit/resources/default
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import torch
from msra import MSRA_TEST
from safetensors.torch import load_file, save_file

from nerkit import api
from nerkit.artifacts import file_sha256

TARGET = api.DEFAULT_MODEL_DIR
COPIED = ("config.json", "labels.json", "vocab.json", "metadata.json", "train_log.jsonl",
          "lexicon.tsv.gz")  # fmt: skip


def half_precision(source: Path, target: Path) -> None:
    """Write the state dict of `source` to `target` with float tensors as float16."""
    state = load_file(str(source))
    save_file({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, str(target))


def model_card(metadata: dict, test: dict, seconds: float) -> str:
    """Return the Markdown model card of the shipped model."""
    config = json.loads((TARGET / "config.json").read_text(encoding="utf-8"))
    model, train = config["model"], config["train"]
    features = model["features"]
    labels = ", ".join(sorted(test["per_label"]))
    vectors, lexicon = _pretrained(features), _lexicon(features)
    bigram_count = features["bigram_min_count"]
    epochs = train["epochs"]
    schedule = (f"up to {epochs} epochs with early stopping on dev F1" if train["patience"]
                else f"{epochs} epochs, the best on dev F1 kept")  # fmt: skip
    rows = "\n".join(
        f"| {label} | {s['precision'] * 100:.2f} | {s['recall'] * 100:.2f} | "
        f"{s['f1'] * 100:.2f} | {s['support']} |"
        for label, s in sorted(test["per_label"].items())
    )
    return f"""# nerkit default Chinese NER model

Character BiLSTM-CRF for simplified Chinese, labels {labels} (MSRA conventions).

* Training data: MSRA NER (SIGHAN 2006) train, 45,000 sentences; 5% carved out (seeded) as dev.
* Features: character embeddings ({features["token_dim"]}-d, characters seen at least
  {features["min_count"]} times) and left/right character bigrams
  ({features["bigram_dim"]}-d, seen at least {bigram_count} times){vectors}.{lexicon}
* Encoder: BiLSTM, {model["encoder"]["hidden_size"]} per direction; head: CRF constrained by
  the {model["scheme"]} scheme. Weights stored as float16.
* Training: {train["optimizer"]} lr {train["lr"]}, batch {train["batch_size"]}, {schedule}
  (best epoch on dev F1: {metadata["best_epoch"]}), precision {train.get("precision", "fp32")}.
  Config: `benchmarks/configs/msra_default.yaml`; reproduce with the commands in
  `benchmarks/ship_default.py`.

## MSRA test (3,442 sentences), strict span match, float16 weights as shipped

Overall: P {test["precision"] * 100:.2f}, R {test["recall"] * 100:.2f},
**F1 {test["f1"] * 100:.2f}** (scored in {seconds:.0f} s by `nerkit evaluate`).

| label | P | R | F1 | support |
|---|---|---|---|---|
{rows}
"""


def _pretrained(features: dict) -> str:
    if not features.get("pretrained"):
        return ""
    return (", both initialised from LAC 2.1.2's embedding table (Baidu, Apache-2.0; "
            "`benchmarks/lac_vectors.py`)")  # fmt: skip


def _lexicon(features: dict) -> str:
    if not features.get("lexicon"):
        return ""
    dim = features["lexicon_dim"]
    return f"""
* Lexicon (SoftLexicon, Ma et al. 2020): for each character, the words of jieba 0.42.1's
  dictionary (MIT) that begin, continue, end at or are that character, pooled by word
  frequency into 4 x {dim} features; the lexicon is pruned to the words found in the training
  data plus the {features["lexicon_most_frequent"]:,} most frequent (`lexicon.tsv.gz`), its
  vectors initialised from LAC's word vectors (PCA to {dim}-d,
  `benchmarks/lexicon_resources.py`)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(2)
    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    for name in COPIED:
        if (args.model_dir / name).is_file():
            shutil.copy2(args.model_dir / name, TARGET / name)
    half_precision(args.model_dir / "weights.safetensors", TARGET / "weights.safetensors")
    metadata = json.loads((TARGET / "metadata.json").read_text(encoding="utf-8"))
    if isinstance(metadata.get("sha256"), dict):  # the float16 file is a new file
        metadata["sha256"]["weights.safetensors"] = file_sha256(TARGET / "weights.safetensors")
        (TARGET / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    started = time.perf_counter()
    report = api.evaluate(TARGET, MSRA_TEST, format="conll").to_dict()
    seconds = time.perf_counter() - started
    history = [json.loads(line) for line in (TARGET / "train_log.jsonl").open(encoding="utf-8")]
    metadata["best_epoch"] = max(history, key=lambda row: row["dev_f1"])["epoch"]
    metadata["shipped"] = {
        "weights": "float16",
        "msra_test": {k: report[k] for k in ("precision", "recall", "f1")},
        "weights_sha256": file_sha256(TARGET / "weights.safetensors"),
    }
    (TARGET / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    (TARGET / "MODEL_CARD.md").write_text(model_card(metadata, report, seconds), encoding="utf-8")
    print(f"shipped to {TARGET}: MSRA test F1 {report['f1'] * 100:.2f}")


if __name__ == "__main__":
    main()
