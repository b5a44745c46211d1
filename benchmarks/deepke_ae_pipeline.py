"""DeepKE AE zh end to end: the training files of the two taggers of an attribute pipeline.

`data` writes, for every split of ../shared/data/deepke_ae_zh, two nerkit JSON-lines files
under benchmarks/runs/deepke_ae_pipeline/data/:

- `entities_{split}.jsonl`: the sentences with the entities that carry an attribute as spans
  (label ENTITY, as the reader gives them), for the `ner` member;
- `values_{split}.jsonl`: the same sentences with the attribute values as spans (label VALUE,
  `nerkit.tasks.relations.attributes.value_examples`), for the `values` member.

The attribute member is `benchmarks/configs/deepke_ae_bilstm.yaml` trained with
`model.negative_pairs=true`, on the CSV files themselves. Only annotated entities and values
are spans, so the taggers learn "entities that carry one of the six attributes" and "values of
one of them", which is what the pipeline needs. Then (docs/relations.md, "Attribute
extraction"):

    .venv/bin/python benchmarks/deepke_ae_pipeline.py data
    R=benchmarks/runs/deepke_ae_pipeline
    nerkit train benchmarks/configs/deepke_ae_ner_bilstm_crf.yaml -o $R/ner
    nerkit train benchmarks/configs/deepke_ae_ner_bilstm_crf.yaml -o $R/values \\
        --set data.train=$R/data/values_train.jsonl --set data.dev=$R/data/values_valid.jsonl \\
        --set data.test=$R/data/values_test.jsonl
    nerkit train benchmarks/configs/deepke_ae_bilstm.yaml -o $R/attributes \\
        --set model.negative_pairs=true
    nerkit pipeline build --ner $R/ner --values $R/values --attributes $R/attributes -o $R/pipeline
    nerkit evaluate $R/pipeline ../shared/data/deepke_ae_zh/test.csv --format deepke-ae --json
"""

from __future__ import annotations

from pathlib import Path

DATA = Path("../shared/data/deepke_ae_zh")
OUT = Path("benchmarks/runs/deepke_ae_pipeline/data")
SPLITS = {"train": "train.csv", "valid": "valid.csv", "test": "test.csv"}


def write_taggers_data() -> None:
    """Write the entity and value JSON lines of every split; print counts."""
    from nerkit.data.formats import read, write
    from nerkit.tasks.relations.attributes import value_examples
    from nerkit.types import Example

    OUT.mkdir(parents=True, exist_ok=True)
    for split, name in SPLITS.items():
        examples = list(read(DATA / name, "deepke-ae"))
        texts = len({e.text for e in examples})
        entities = [Example(e.text, e.spans) for e in examples]
        written = {
            "entities": write(entities, OUT / f"entities_{split}.jsonl", "jsonl"),
            "values": write(value_examples(examples), OUT / f"values_{split}.jsonl", "jsonl"),
        }
        attributes = sum(len(e.attributes) for e in examples)
        print(f"{split}: {len(examples)} examples ({texts} distinct texts, {attributes} "
              f"attributes) -> {written['entities']} entity and {written['values']} value "
              f"lines under {OUT}")  # fmt: skip


if __name__ == "__main__":
    write_taggers_data()
