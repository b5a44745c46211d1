"""Write LAC's pretrained character and two-character word vectors as word2vec text files.

LAC (Baidu's lexical analysis model, Apache-2.0) ships a 58,224 x 128 float32 embedding
table trained with its segmenter/tagger: 8,223 single characters and about 50k words, one
row per line of ``conf/word.dic`` (``id<TAB>token``; the last entry is OOV). This script
reads the table straight from the wheel as a zip file (no paddle needed):

    pip wheel --no-deps --no-build-isolation lac==2.1.2   # in an env with setuptools<81
    .venv/bin/python benchmarks/lac_vectors.py LAC-2.1.2-py2.py3-none-any.whl \
        --chars lac_chars.txt --bigrams lac_bigrams.txt [--q2b] [--dim 64]

The table is the LAST 58224 * 128 * 4 bytes of ``model/word_emb`` (a Paddle tensor header
precedes it). `--chars` writes the single characters (for `model.features.pretrained`),
`--bigrams` the two-character words (for `model.features.bigram_pretrained`: a bigram of
nerkit is the concatenation of two characters). nerkit does not normalise characters
(only optional lowercasing), so vectors must match the text exactly; LAC looks tokens up
after its own q2b map (full-width -> half-width, traditional -> simplified). With `--q2b`
each q2b source character that LAC itself lacks gets the vector of its target form, so that
``，`` and ``１`` in the data find the vectors of ``,`` and ``1``: on Resume this raises the
share of characters with a vector from 90.6% to 100% (MSRA: 86.9% -> 100%). Bigrams are
written as LAC has them: aliasing them too (every full-width/traditional combination) gives
a table 25 times larger for under 0.1 points more coverage on Resume. `--dim D` projects
the whole table on its D first principal components before writing (smaller, faster models:
the BiLSTM's input projection scales with the vector size).
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

import numpy as np

ROWS, DIM = 58224, 128
PREFIX = "LAC/lac_model/"


def read_table(wheel: Path) -> tuple[list[str], np.ndarray]:
    """Return LAC's tokens in row order and its (ROWS, DIM) float32 embedding table."""
    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(PREFIX + "model/word_emb")
        lines = archive.read(PREFIX + "conf/word.dic").decode("utf-8").split("\n")
    tokens = []
    for number, line in enumerate(line for line in lines if line):
        index, _, token = line.partition("\t")
        if int(index) != number:
            raise ValueError(f"word.dic line {number + 1}: expected id {number}, found {index}")
        tokens.append(token)
    if len(tokens) != ROWS or len(raw) < ROWS * DIM * 4:
        raise ValueError(f"expected {ROWS} tokens and a table of {ROWS}x{DIM} float32 values")
    table = np.frombuffer(raw[len(raw) - ROWS * DIM * 4 :], dtype="<f4").reshape(ROWS, DIM)
    return tokens, table


def principal_components(table: np.ndarray, dim: int) -> np.ndarray:
    """Return the rows of `table` (float32) projected on their `dim` first principal components."""
    if not 0 < dim <= table.shape[1]:
        raise ValueError(f"expected 0 < dim <= {table.shape[1]}, found {dim}")
    centred = table.astype(np.float64) - table.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return (centred @ components[:dim].T).astype(np.float32)


def read_q2b(wheel: Path) -> dict[str, str]:
    """Return LAC's source -> target character map (full-width/traditional -> plain)."""
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(PREFIX + "conf/q2b.dic").decode("utf-8")
    pairs = (line.split("\t") for line in text.split("\n") if line.count("\t") == 1)
    return {source: target for source, target in pairs if source and target}


def _usable(token: str) -> bool:
    # a token with whitespace would break the "token v1 ... vD" line format
    return bool(token) and token != "OOV" and not any(char.isspace() for char in token)


def select(
    tokens: list[str], table: np.ndarray, length: int, q2b: dict[str, str] | None = None
) -> dict[str, np.ndarray]:
    """Return token -> vector for the tokens of `length` characters, plus `q2b` aliases."""
    chosen = {t: table[i] for i, t in enumerate(tokens) if len(t) == length and _usable(t)}
    for source, target in (q2b or {}).items():
        if len(source) == length and _usable(source) and source not in chosen and target in chosen:
            chosen[source] = chosen[target]
    return chosen


def write_vectors(path: Path, vectors: dict[str, np.ndarray]) -> None:
    """Write a word2vec text file: a ``count dim`` header, then ``token v1 ... vD`` lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        dim = len(next(iter(vectors.values()))) if vectors else DIM
        handle.write(f"{len(vectors)} {dim}\n")
        for token, vector in vectors.items():
            handle.write(token + " " + " ".join(f"{v:.6g}" for v in vector.tolist()) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="LAC-2.1.2-py2.py3-none-any.whl")
    parser.add_argument("--chars", type=Path, required=True, help="output: character vectors")
    parser.add_argument("--bigrams", type=Path, help="output: two-character word vectors")
    parser.add_argument(
        "--q2b", action="store_true", help="add full-width/traditional character aliases"
    )
    parser.add_argument("--dim", type=int, default=DIM, help="PCA the table to DIM dimensions")
    args = parser.parse_args(argv)
    tokens, table = read_table(args.wheel)
    if args.dim != DIM:
        table = principal_components(table, args.dim)
    q2b = read_q2b(args.wheel) if args.q2b else None
    outputs = [(args.chars, 1, q2b), *([(args.bigrams, 2, None)] if args.bigrams else [])]
    for path, length, aliases in outputs:
        vectors = select(tokens, table, length, aliases)
        write_vectors(path, vectors)
        print(f"{path}: {len(vectors)} vectors of {args.dim} dimensions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
