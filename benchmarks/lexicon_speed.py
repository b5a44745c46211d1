"""Measure lexicon matching and SoftLexicon set building on MSRA sentences, one core.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/lexicon_speed.py \
        --lexicon jieba-0.42.1.tar.gz [--sentences 20000] [--batch-size 64] [--repeats 3] \
        [--dim 50]

`--lexicon` is jieba's ``dict.txt``, the jieba 0.42.1 sdist that holds it
(``pip download --no-deps jieba==0.42.1``), or a lexicon written by `Lexicon.save`.
Sentences are the first `--sentences` of MSRA train (``char<TAB>tag`` lines, one character
per line). For every backend (daachorse when installed, pyahocorasick when installed, and
the pure-Python prefix table) it reports sentences per second for matching alone and, for
nerkit's backends, matching plus B/M/E/S sets one sentence at a time and in batches (in
input order, and sorted by length as nerkit's inference batches them), best of `--repeats`,
per second of CPU time of the process (robust to other jobs on the machine).
pyahocorasick is measured for matching only (it is not a nerkit backend): its trie looks
up the children of a node by a linear scan, slow on an alphabet of thousands of Chinese
characters (the root has one child per character that starts a word). Last, the forward
pass of `SoftLexiconEmbedding` (`--dim`, one thread) on the same batches, against the plain
embedding-multiply-sum it replaces.
"""

from __future__ import annotations

import argparse
import io
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from torch import nn

from nerkit.lexicon import Lexicon, LexiconMatcher

MSRA = Path(__file__).resolve().parents[2] / "shared" / "data" / "msra" / "msra_train_bio"
JIEBA_MEMBER = "jieba-0.42.1/jieba/dict.txt"


def read_lexicon(path: Path) -> Lexicon:
    """Return the lexicon of a jieba sdist, a jieba dict.txt or a saved nerkit lexicon."""
    if path.name.endswith(".tar.gz"):
        with tarfile.open(path) as archive:
            member = archive.extractfile(JIEBA_MEMBER)
            if member is None:
                raise SystemExit(f"{path}: no {JIEBA_MEMBER} inside")
            text = io.TextIOWrapper(member, encoding="utf-8").read()
        with tempfile.TemporaryDirectory() as scratch:
            dict_txt = Path(scratch) / "dict.txt"
            dict_txt.write_text(text, encoding="utf-8")
            return Lexicon.read_jieba(dict_txt)
    if path.suffix == ".txt":
        return Lexicon.read_jieba(path)
    return Lexicon.load(path)


def read_sentences(path: Path, limit: int) -> list[list[str]]:
    """Return the first `limit` sentences of a one-token-per-line file (first column)."""
    sentences: list[list[str]] = []
    current: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if fields:
                current.append(fields[0])
            elif current:
                sentences.append(current)
                current = []
                if len(sentences) == limit:
                    break
    if current and len(sentences) < limit:
        sentences.append(current)
    return sentences


def best_rate(run: Callable[[], object], count: int, repeats: int) -> float:
    """Return the best of `repeats` rates, in items per CPU second, of `count` items per run.

    CPU time of this process, not wall time: on a machine shared with other jobs it still
    measures what one core does (everything here is single-threaded).
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return count / best


def pyahocorasick_matcher(lexicon: Lexicon) -> Callable[[Sequence[str]], list] | None:
    """Return a matching function built on pyahocorasick, or None when it is not installed."""
    try:
        import ahocorasick
    except ImportError:
        return None
    automaton = ahocorasick.Automaton()
    for index, word in enumerate(lexicon.words):
        automaton.add_word(word, (index + 2) * 64 + len(word))  # id and length in one int
    automaton.make_automaton()

    def find(tokens: Sequence[str]) -> list:
        return [(end + 1 - (v & 63), end + 1, v >> 6) for end, v in automaton.iter("".join(tokens))]

    return find


def pooling(
    lexicon: Lexicon, batches: list[list[list[str]]], n: int, args: argparse.Namespace
) -> None:
    """Print the rate of SoftLexiconEmbedding's forward (one thread) vs embedding-multiply-sum."""
    import torch

    from nerkit.encoders.lexicon import SoftLexiconEmbedding

    torch.set_num_threads(1)
    matcher = LexiconMatcher(lexicon)
    inputs = [tuple(map(torch.from_numpy, matcher.batch_sets(batch))) for batch in batches]
    module = SoftLexiconEmbedding(len(lexicon) + 2, args.dim).eval()
    table = nn.Embedding.from_pretrained(module.embedding.weight.detach())

    def bag() -> None:
        for ids, weights in inputs:
            module(ids, weights)

    def multiply_sum() -> None:
        for ids, weights in inputs:
            (table(ids) * weights.unsqueeze(-1)).sum(dim=3).flatten(2)

    with torch.inference_mode():
        print(
            f"pooling, D={args.dim}, 1 thread, batches sorted by length: sentences/s: "
            f"SoftLexiconEmbedding (EmbeddingBag) {best_rate(bag, n, args.repeats):,.0f}, "
            f"embedding * weights, sum {best_rate(multiply_sum, n, args.repeats):,.0f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lexicon", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=MSRA)
    parser.add_argument("--sentences", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dim", type=int, default=50, help="word vector size for pooling")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    lexicon = read_lexicon(args.lexicon)
    sentences = read_sentences(args.data, args.sentences)
    chars = sum(map(len, sentences))
    print(f"lexicon: {len(lexicon)} words (read in {time.perf_counter() - start:.1f} s)")
    print(f"sentences: {len(sentences)}, {chars / len(sentences):.1f} characters on average")
    n, size = len(sentences), args.batch_size
    batches = [sentences[i : i + size] for i in range(0, n, size)]
    # nerkit's inference batches sentences of similar length: less padding to fill
    by_length = sorted(sentences, key=len)
    sorted_batches = [by_length[i : i + size] for i in range(0, n, size)]

    backends = ["python"]
    try:
        import daachorse  # noqa: F401

        backends.insert(0, "daachorse")
    except ImportError:
        print("daachorse: not installed")
    for backend in backends:
        start = time.perf_counter()
        matcher = LexiconMatcher(lexicon, backend=backend)
        built = time.perf_counter() - start
        matches = sum(len(matcher.find(tokens)) for tokens in sentences)

        def match(m: LexiconMatcher = matcher) -> None:
            for tokens in sentences:
                m._raw(tokens)  # unsorted matches: what batch_sets uses

        def one_by_one(m: LexiconMatcher = matcher) -> None:
            for tokens in sentences:
                m.sets(tokens)

        def batched(m: LexiconMatcher = matcher, batches: list = batches) -> None:
            for batch in batches:
                m.batch_sets(batch)

        print(
            f"{backend:>13}: built in {built:.2f} s, {matches / n:.1f} matches per sentence; "
            f"sentences/s: matching {best_rate(match, n, args.repeats):,.0f}, "
            f"matching + sets one by one {best_rate(one_by_one, n, args.repeats):,.0f}, "
            f"matching + sets in batches of {size}: input order "
            f"{best_rate(batched, n, args.repeats):,.0f}, sorted by length "
            f"{best_rate(lambda: batched(batches=sorted_batches), n, args.repeats):,.0f}"
        )
    pooling(lexicon, sorted_batches, n, args)
    find = pyahocorasick_matcher(lexicon)
    if find is None:
        print("pyahocorasick: not installed")
    else:

        def aho() -> None:
            for tokens in sentences:
                find(tokens)

        print(f"pyahocorasick: sentences/s: matching {best_rate(aho, n, args.repeats):,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
