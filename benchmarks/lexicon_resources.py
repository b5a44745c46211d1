"""Build a pruned SoftLexicon lexicon and its word vectors from offline sources; report coverage.

    pip download --no-deps -d /tmp/x jieba==0.42.1      # dict.txt: 349,046 words, MIT
    # LAC's sdist needs setuptools<81 even to download: do it from a venv that has it, with
    #   pip download --no-deps --no-build-isolation -d /tmp/x lac==2.1.2   (Apache-2.0)
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/lexicon_resources.py \
        --jieba /tmp/x/jieba-0.42.1.tar.gz --lac /tmp/x/LAC-2.1.2.tar.gz \
        [--corpus FILE ...] [--heldout FILE ...] [--most-frequent 20000] [--min-count 1] \
        [--frequencies jieba|corpus] [--dim 128] [--word2vec] [--output DIR]

Lexicon: jieba's ``dict.txt`` (read from the sdist, or a ``dict.txt`` path), pruned to the
words that occur in the `--corpus` files (default: MSRA train and Resume train) plus the
`--most-frequent` most frequent jieba words (`--min-count`: only corpus words found that
many times). Frequencies are jieba's, or with
``--frequencies corpus`` counted in the corpus as Ma et al. do (`Lexicon.recount`).

Vectors (128-d) from LAC's embedding table (``--lac``: its sdist, wheel or unpacked folder),
for each lexicon word, in this order of preference:
    word     LAC has the word (after LAC's own q2b map: full-width -> half-width, ...)
    bigrams  the mean of the vectors of the word's overlapping character bigrams LAC has
    chars    the mean of the vectors of its characters LAC has
    none     no vector: the row keeps its random initialisation
A single-character word is "word" when LAC has the character. `--dim` below 128 projects
the vectors on their first principal components (a smaller table to ship).

Writes into `--output` (default: the user cache, ``$XDG_CACHE_HOME/nerkit/lexicon`` or
``~/.cache/nerkit/lexicon``; inside the repository only under the gitignored
``benchmarks/runs/``, where the configs look): ``jieba.lexicon``
(`Lexicon.save`), ``vectors.npz`` (float16, `nerkit.encoders.lexicon.save_word_vectors`),
``vectors.txt`` with ``--word2vec``, and ``coverage.json``, the figures printed at the end.
Coverage is measured with the full jieba lexicon and with the pruned one, on every corpus
and `--heldout` file (default: MSRA test and Resume test): characters inside a multi-character
word match, gold entities that are lexicon words, and vector sources of the matched words.
"""

from __future__ import annotations

import argparse
import json
import os
import tarfile
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from lac_vectors import principal_components

from nerkit.encoders.lexicon import save_word_vectors
from nerkit.lexicon import Lexicon, LexiconMatcher

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CORPUS = [DATA / "msra" / "msra_train_bio", DATA / "resume" / "train.char.bmes"]
HELDOUT = [DATA / "msra" / "msra_test_bio", DATA / "resume" / "test.char.bmes"]
LAC_ROWS, LAC_DIM = 58224, 128
SOURCES = ("word", "bigrams", "chars", "none")


def read_member(archive: Path, suffix: str) -> bytes:
    """Return the bytes of the file whose path ends with `suffix` in a tar.gz, zip or folder."""
    if archive.is_dir():
        matches = [p for p in archive.rglob("*") if p.as_posix().endswith(suffix)]
        if matches:
            return matches[0].read_bytes()
    elif archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive) as tar:
            for member in tar:
                if member.name.endswith(suffix):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        return handle.read()
    elif archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as wheel:
            for name in wheel.namelist():
                if name.endswith(suffix):
                    return wheel.read(name)
    raise SystemExit(f"{archive}: no file ending in {suffix}")


def read_jieba(path: Path) -> Lexicon:
    """Return jieba's lexicon from its sdist or from a ``dict.txt``."""
    if path.suffix == ".txt":
        return Lexicon.read_jieba(path)
    with tempfile.TemporaryDirectory() as scratch:
        dict_txt = Path(scratch) / "dict.txt"
        dict_txt.write_bytes(read_member(path, "jieba/dict.txt"))
        return Lexicon.read_jieba(dict_txt)


def read_lac(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Return LAC's token -> 128-d vector (views into one table) and its q2b character map."""
    raw = read_member(path, "lac_model/model/word_emb")
    lines = read_member(path, "lac_model/conf/word.dic").decode("utf-8").split("\n")
    tokens = [line.partition("\t")[2] for line in lines if line]
    if len(tokens) != LAC_ROWS or len(raw) < LAC_ROWS * LAC_DIM * 4:
        raise SystemExit(f"{path}: expected {LAC_ROWS} tokens and a {LAC_ROWS}x{LAC_DIM} table")
    # the table is the last ROWS * DIM float32 values: a Paddle tensor header precedes it
    table = np.frombuffer(raw[len(raw) - LAC_ROWS * LAC_DIM * 4 :], dtype="<f4")
    table = table.reshape(LAC_ROWS, LAC_DIM)
    vectors = {t: table[i] for i, t in enumerate(tokens) if t.strip() and t != "OOV"}
    q2b_text = read_member(path, "lac_model/conf/q2b.dic").decode("utf-8")
    pairs = (line.split("\t") for line in q2b_text.split("\n") if line.count("\t") == 1)
    return vectors, {source: target for source, target in pairs if source and target}


def read_corpus(path: Path) -> tuple[list[list[str]], list[list[tuple[int, int]]]]:
    """Return the sentences (first column) and gold entity spans of a BIO or BMES file."""
    sentences: list[list[str]] = []
    entities: list[list[tuple[int, int]]] = []
    tokens: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in [*handle, ""]:
            fields = line.split()
            if fields:
                tokens.append(fields[0])
                tags.append(fields[-1])
            elif tokens:
                sentences.append(tokens)
                entities.append(spans(tags))
                tokens, tags = [], []
    return sentences, entities


def spans(tags: Sequence[str]) -> list[tuple[int, int]]:
    """Return the (start, end) of the entities of BIO/BIOES/BMES tags (types ignored)."""
    found, start = [], None
    for i, tag in enumerate([*tags, "O"]):
        prefix = tag[0]
        if start is not None and prefix not in "IME":
            found.append((start, i))
            start = None
        if prefix in "BS":
            start = i
        if prefix in "ES" and start is not None:
            found.append((start, i + 1))
            start = None
    return found


def word_vector(
    word: str, lac: dict[str, np.ndarray], q2b: dict[str, str]
) -> tuple[str, np.ndarray | None]:
    """Return the source ("word", "bigrams", "chars", "none") and the vector of a word."""
    folded = "".join(q2b.get(char, char) for char in word)
    for form in (word, folded):
        if form in lac:
            return "word", lac[form]
    bigrams = [lac[folded[i : i + 2]] for i in range(len(folded) - 1) if folded[i : i + 2] in lac]
    if bigrams:
        return "bigrams", np.mean(bigrams, axis=0)
    chars = [lac[char] for char in folded if char in lac]
    if chars:
        return "chars", np.mean(chars, axis=0)
    return "none", None


def coverage(
    matcher: LexiconMatcher,
    sentences: list[list[str]],
    entities: list[list[tuple[int, int]]],
    sources: dict[int, str],
) -> dict[str, float]:
    """Return coverage figures of one corpus under one lexicon (see the module docstring).

    Vector sources are counted over multi-character word matches (occurrences and distinct
    words); single-character words are characters, which LAC almost always has.
    """
    covered = characters = gold = known = singles = singles_with_vector = 0
    occurrences: Counter[str] = Counter()
    types: set[int] = set()
    for tokens, entity_spans in zip(sentences, entities):
        inside = np.zeros(len(tokens), dtype=bool)
        found = matcher.find(tokens)
        words = {(start, end) for start, end, _ in found}
        for start, end, word_id in found:
            if end - start == 1:
                singles += 1
                singles_with_vector += sources[word_id] == "word"
                continue
            occurrences[sources[word_id]] += 1
            types.add(word_id)
            inside[start:end] = True
        covered, characters = covered + int(inside.sum()), characters + len(tokens)
        gold += len(entity_spans)
        known += sum(span in words for span in entity_spans)
    total = sum(occurrences.values())
    type_sources = Counter(sources[w] for w in types)
    return {
        "sentences": len(sentences),
        "multichar_matches_per_sentence": round(total / max(1, len(sentences)), 2),
        "multichar_words_matched": len(types),
        "chars_inside_a_multichar_match": round(covered / max(1, characters), 4),
        "entities_that_are_lexicon_words": round(known / max(1, gold), 4),
        "single_char_matches_with_lac_vector": round(singles_with_vector / max(1, singles), 4),
        **{
            f"multichar_matches_vector_{s}": round(occurrences[s] / max(1, total), 4)
            for s in SOURCES
        },
        **{
            f"multichar_words_vector_{s}": round(type_sources[s] / max(1, len(types)), 4)
            for s in SOURCES
        },
    }


def reduce(vectors: dict[str, np.ndarray], dim: int) -> dict[str, np.ndarray]:
    """Return the vectors projected on their `dim` first principal components."""
    words = list(vectors)
    return dict(zip(words, principal_components(np.stack([vectors[w] for w in words]), dim)))


def default_output() -> Path:
    """Return the user cache folder for lexicon resources."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "nerkit" / "lexicon"


def vector_sources(
    lexicon: Lexicon, lac: dict[str, np.ndarray], q2b: dict[str, str]
) -> tuple[dict[int, str], dict[str, np.ndarray]]:
    """Return each id's vector source and the vectors of the words that have one."""
    sources, vectors = {}, {}
    for word in lexicon:
        source, vector = word_vector(word, lac, q2b)
        word_id = lexicon.id(word)
        assert word_id is not None
        sources[word_id] = source
        if vector is not None:
            vectors[word] = vector
    return sources, vectors


def measure(
    lexicon: Lexicon,
    corpora: Iterable[tuple[str, tuple[list[list[str]], list[list[tuple[int, int]]]]]],
    lac: dict[str, np.ndarray],
    q2b: dict[str, str],
) -> dict[str, dict[str, float]]:
    """Return the coverage of every corpus under `lexicon`."""
    sources, _ = vector_sources(lexicon, lac, q2b)
    matcher = LexiconMatcher(lexicon)
    return {name: coverage(matcher, *data, sources) for name, data in corpora}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jieba", type=Path, required=True, help="jieba sdist or dict.txt")
    parser.add_argument("--lac", type=Path, required=True, help="LAC sdist, wheel or folder")
    parser.add_argument("--corpus", type=Path, nargs="+", default=CORPUS)
    parser.add_argument("--heldout", type=Path, nargs="*", default=HELDOUT)
    parser.add_argument("--most-frequent", type=int, default=20000)
    parser.add_argument("--min-count", type=int, default=1, help="matches needed in --corpus")
    parser.add_argument("--dim", type=int, default=LAC_DIM, help="PCA the vectors to DIM")
    parser.add_argument("--frequencies", choices=["jieba", "corpus"], default="jieba")
    parser.add_argument("--word2vec", action="store_true", help="also write vectors.txt")
    parser.add_argument("--output", type=Path, default=default_output())
    args = parser.parse_args(argv)
    output = args.output.resolve()
    runs = REPO / "benchmarks" / "runs"  # gitignored: the configs read the files from there
    if (output == REPO or REPO in output.parents) and not (
        output == runs or runs in output.parents
    ):
        raise SystemExit(
            f"--output {output} is inside the repository: choose benchmarks/runs/... (ignored "
            "by git) or a folder outside it"
        )

    start = time.perf_counter()
    full, (lac, q2b) = read_jieba(args.jieba), read_lac(args.lac)
    data = {path: read_corpus(path) for path in [*args.corpus, *args.heldout]}
    name = {path: f"{path.parent.name}/{path.name}" for path in data}
    took = time.perf_counter() - start
    print(f"read {len(full)} jieba words and {len(lac)} LAC vectors in {took:.1f} s")

    train = [tokens for path in args.corpus for tokens in data[path][0]]
    lexicon = full.prune(keep=train, most_frequent=args.most_frequent, min_count=args.min_count)
    if args.frequencies == "corpus":
        lexicon = lexicon.recount(train)
    sources, vectors = vector_sources(lexicon, lac, q2b)
    if args.dim < LAC_DIM:
        vectors = reduce(vectors, args.dim)
    output.mkdir(parents=True, exist_ok=True)
    lexicon.save(output / "jieba.lexicon")
    save_word_vectors(output / "vectors.npz", vectors)
    if args.word2vec:
        with open(output / "vectors.txt", "w", encoding="utf-8") as handle:
            handle.write(f"{len(vectors)} {args.dim}\n")
            for word, vector in vectors.items():
                handle.write(word + " " + " ".join(f"{v:.5g}" for v in vector.tolist()) + "\n")

    corpora = [(name[path], data[path]) for path in data]
    report = {
        "lexicon": {
            "full_words": len(full),
            "pruned_words": len(lexicon),
            "most_frequent": args.most_frequent,
            "min_count": args.min_count,
            "dim": args.dim,
            "frequencies": args.frequencies,
            "lexicon_bytes": (output / "jieba.lexicon").stat().st_size,
            "vectors_npz_bytes": (output / "vectors.npz").stat().st_size,
            **{f"words_vector_{s}": sum(v == s for v in sources.values()) for s in SOURCES},
        },
        "full": measure(full, corpora, lac, q2b),
        "pruned": measure(lexicon, corpora, lac, q2b),
    }
    (output / "coverage.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(json.dumps(report, indent=1, ensure_ascii=False))
    print(f"wrote {output} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
