"""Slow: read the real corpora in ../shared/data and check counts against each SOURCE.md.

Skipped when the shared data directory is absent. Run with ``pytest -m slow tests/data``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from nerkit.data.formats import read, write
from nerkit.data.stats import compute_stats

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} is absent"),
]

# (file, format, scheme, sentences, characters, per-label entities) from each SOURCE.md
CASES = [
    ("msra/msra_train_bio", "conll", "BIO", 45_000, 2_171_573,
     {"LOC": 36_860, "ORG": 20_584, "PER": 17_615}),
    ("msra/msra_test_bio", "conll", "BIO", 3_442, 172_601,
     {"LOC": 2_886, "ORG": 1_331, "PER": 1_973}),
    # SOURCE.md: ORG is 4,611 counting B-/S- starts, 4,613 counting conlleval-style, because
    # of 4 BMES violations; the reader chunks conlleval-style.
    ("resume/train.char.bmes", "conll", "BMES", 3_821, 124_099,
     {"CONT": 260, "EDU": 858, "LOC": 47, "NAME": 952, "ORG": 4_613, "PRO": 287, "RACE": 115,
      "TITLE": 6_308}),
    ("resume/dev.char.bmes", "conll", "BMES", 463, 13_890,
     {"CONT": 33, "EDU": 106, "LOC": 2, "NAME": 110, "ORG": 523, "PRO": 18, "RACE": 15,
      "TITLE": 690}),
    ("resume/test.char.bmes", "conll", "BMES", 477, 15_100,
     {"CONT": 28, "EDU": 112, "LOC": 6, "NAME": 112, "ORG": 553, "PRO": 33, "RACE": 14,
      "TITLE": 772}),
    ("cluener/train.json", "cluener", None, 10_748, 401_764,
     {"address": 2_891, "book": 1_139, "company": 2_980, "game": 2_376, "government": 1_835,
      "movie": 1_123, "name": 3_756, "organization": 3_210, "position": 3_141, "scene": 1_521}),
    ("cluener/dev.json", "cluener", None, 1_343, 50_260,
     {"address": 373, "book": 154, "company": 378, "game": 295, "government": 247, "movie": 151,
      "name": 465, "organization": 367, "position": 433, "scene": 209}),
    ("conll2003/train.txt", "conll", "BIO", 14_041, None,
     {"LOC": 7_140, "MISC": 3_438, "ORG": 6_321, "PER": 6_600}),
    ("conll2003/valid.txt", "conll", "BIO", 3_250, None,
     {"LOC": 1_837, "MISC": 922, "ORG": 1_341, "PER": 1_842}),
    ("conll2003/test.txt", "conll", "BIO", 3_453, None,
     {"LOC": 1_668, "MISC": 702, "ORG": 1_661, "PER": 1_617}),
]  # fmt: skip
CONLL_2003 = {"train": (946, 203_621), "valid": (216, 51_362), "test": (231, 46_435)}
VIOLATIONS = {"resume/train.char.bmes": 4}


@pytest.mark.parametrize(("name", "fmt", "scheme", "sentences", "chars", "labels"), CASES)
def test_counts_match_source_md(name, fmt, scheme, sentences, chars, labels):
    examples = list(read(DATA / name, fmt))
    assert len(examples) == sentences
    assert dict(Counter(s.label for e in examples for s in e.spans)) == labels
    if fmt == "conll":
        assert examples[0].meta["scheme"] == scheme  # detected, not given
        # one character per line: the characters are the tokens' (the text adds spaces)
        n_chars = sum(len(t.text) for e in examples for t in e.tokens)
        stats = compute_stats(examples)
        assert stats.scheme_violations == VIOLATIONS.get(name, 0)
    else:
        n_chars = sum(len(e.text) for e in examples)
    if chars is not None:
        assert n_chars == chars
    if name.startswith("conll2003"):
        documents, tokens = CONLL_2003[Path(name).stem]
        assert len({e.meta["doc"] for e in examples}) == documents
        assert sum(len(e.tokens) for e in examples) == tokens
    if name == "cluener/train.json":
        assert sum(bool(e.meta.get("overlaps")) for e in examples) == 1


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("msra/msra_test_bio", "conll"), ("cluener/dev.json", "cluener"),
     ("conll2003/valid.txt", "conll"), ("resume/dev.char.bmes", "conll")],
)  # fmt: skip
def test_real_files_round_trip(tmp_path, name, fmt):
    examples = list(read(DATA / name, fmt))
    scheme = examples[0].meta.get("scheme", "BIO")
    options = {"scheme": scheme} if fmt == "conll" else {}
    out = tmp_path / "out"
    assert write(examples, out, fmt, **options) == len(examples)
    assert list(read(out, fmt, **options)) == examples
