"""Fuzz every reader of `nerkit.data.formats` with mutated files and count the outcomes.

Each case takes a valid seed file of one format, applies one to three mutations -- byte level
(bit flips, inserted/deleted/duplicated bytes, truncation, invalid UTF-8, a BOM, the whole file
as UTF-16, line-ending swaps) or structural (a JSON node swapped for another type or deleted,
CoNLL columns dropped/added/swapped and tags rewritten, brat fields, separators and offsets
edited) -- reads the result with `nerkit.data.formats.read` (sometimes with ``errors="replace"``,
a scheme, ``skip_invalid`` or another option), and checks the promise of the readers:
every outcome is a valid `Example` (0 <= start < end <= len(text), non-empty string labels,
sorted spans, relations and attributes in range) or a `NerkitError`; anything else is a defect.

    python benchmarks/fuzz_readers.py --cases 20000 --seed 1

prints ``cases / ok / NerkitError / other / invariant`` per format and in total, and the first
failure of each kind with the seed that reproduces it (``--case SEED FORMAT``). The test suite
runs the same engine through hypothesis (tests/data/test_fuzz_readers.py), bounded.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nerkit.data.formats import FORMATS, read
from nerkit.errors import NerkitError
from nerkit.types import Example

# -- seed files: small valid files of every format and shape ---------------------------------

_CONLL = (
    "-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects VBZ O\nGerman JJ B-MISC\ncall NN O\n\n"
    "张 NR B-PER\n三 NR I-PER\n在 P O\n北 NR B-LOC\n京 NR I-LOC\n\nPeter NNP B-PER\n"
    "Blackburn NNP I-PER\n"
)
_CONLL_BMES = "张\tB-NAME\n三\tE-NAME\n在\tO\n北\tB-LOC\n京\tE-LOC\n\n好\tS-X\n"
_CLUENER = [
    {"text": "浙商银行企业信贷部叶老桂", "label": {"company": {"浙商银行": [[0, 3]]},
                                           "name": {"叶老桂": [[9, 11]]}}},
    {"id": 7, "text": "😀北京", "label": {"LOC": {"北京": [[1, 2]]}}},
    {"text": "无标注"},
]  # fmt: skip
_JSONL = [
    {"id": "d1", "text": "张三在北京", "spans": [[0, 2, "PER"], [3, 5, "LOC"]],
     "relations": [[0, 1, "lives_in"]]},
    {"text": "Ada Lovelace x", "spans": [[0, 12, "PER", "Ada Lovelace"]],
     "attributes": [[0, "first", 0, 3]]},
    {"text": "ab", "entities": [{"start": 0, "end": 1, "label": "X", "text": "a"}]},
    {"text": ""},
]  # fmt: skip
_DOCCANO = [
    {"id": 1, "text": "EU rejects German call", "label": [[0, 2, "ORG"], [11, 17, "MISC"]]},
    {"text": "Google was founded by Larry",
     "entities": [{"id": 0, "start_offset": 0, "end_offset": 6, "label": "ORG"},
                  {"id": 1, "start_offset": 22, "end_offset": 27, "label": "PER"}],
     "relations": [{"id": 3, "from_id": 0, "to_id": 1, "type": "foundedBy"}]},
    {"text": "Find a flight to Tacoma", "entities": [[17, 23, "City"]], "cats": ["flight"]},
    {"id": 101319, "data": "This is New Berlin", "label": [[8, 18, "LOC"]]},
]  # fmt: skip
_LS = [
    {"id": 1, "data": {"text": "🐱 Warning:\n🐱 This is a test"},
     "annotations": [{"completed_by": 1, "updated_at": "2024-01-02", "result": [
         {"id": "r1", "from_name": "tag", "to_name": "text", "type": "labels",
          "value": {"start": 2, "end": 27, "text": "Warning:\\n🐱 This is a test",
                    "labels": ["region"]}},
         {"id": "r2", "from_name": "tag", "to_name": "text", "type": "labels",
          "value": {"start": 0, "end": 1, "text": "🐱", "labels": ["CAT", "ANIMAL"]}},
         {"from_id": "r2", "to_id": "r1", "type": "relation", "direction": "bi",
          "labels": ["near"]},
         {"from_id": "r1", "to_id": "r2", "type": "relation", "direction": "left"}]}],
     "predictions": [{"result": [{"id": "p", "type": "labels",
                                  "value": {"start": 0, "end": 1, "labels": ["X"]}}]}]},
    {"data": {"ner": "张三"}, "annotations": [{"result": [
        {"id": "a", "type": "labels", "value": {"start": 0, "end": 2, "text": "张三",
                                                "labels": ["PER"]}},
        {"id": "h", "type": "hypertextlabels",
         "value": {"start": "/p[1]", "end": "/p[1]", "startOffset": 0, "endOffset": 1,
                   "hypertextlabels": ["X"]}},
        {"type": "choices", "value": {"choices": ["ok"]}}]}]},
]  # fmt: skip
_BRAT_TXT = "New York and Paris.\nis\nan example\tof Berlin"
_BRAT_ANN = (
    "T1\tLOC 0 8\tNew York\nT2\tLOC 13 18\tParis\nT3\tToken 20 22;23 25\tis an\n"
    "T4\tLOC 0 3;13 18\tNew Paris\nR1\tnear Arg1:T2 Arg2:T1\nA1\tNegated T1\n"
    "E1\tMove:T1 To:T2\n#1\tAnnotatorNotes T1\ta note\n*\tEquiv T1 T2\n"
)

_DEEPKE_RE = (
    "sentence,relation,head,head_offset,tail,tail_offset\n"
    "《岳父也是爹》是王军执导的电视剧,导演,岳父也是爹,1,王军,8\n"
    "《岳父也是爹》是王军执导的电视剧,出品公司,岳父也是爹,1,电视剧,13\n"
)
_DEEPKE_AE = (
    "sentence,attribute,entity,entity_offset,attribute_value,attribute_value_offset\n"
    "张冬梅，女，汉族，1968年2月生,民族,张冬梅,0,汉族,6\n"
)
_FINRE = (
    "东方证券\t天风证券\tunknown\t东方证券和天风证券发布公告\n"
    "东方证券\t天风证券\t合作\t东方证券和天风证券发布公告\n"
)
_SEMEVAL = [
    {"token": ["the", "crane", "arm", "raises", "."], "h": {"name": "crane", "pos": [1, 2]},
     "t": {"name": "arm", "pos": [2, 3]}, "relation": "Component-Whole(e2,e1)"},
    {"token": ["a", "b", "c"], "h": {"name": "a", "pos": [0, 1]},
     "t": {"name": "c", "pos": [2, 3]}, "relation": "Other"},
]  # fmt: skip

SEEDS: dict[str, list[str]] = {
    "conll": [_CONLL, _CONLL_BMES],
    "cluener": ["".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _CLUENER)],
    "jsonl": ["".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _JSONL)],
    "doccano": ["".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _DOCCANO)],
    "label-studio": [
        json.dumps(_LS, ensure_ascii=False, indent=1),
        json.dumps(_LS[0], ensure_ascii=False, indent=2),
    ],
    "brat": [_BRAT_ANN],
    "deepke-re": [_DEEPKE_RE],
    "deepke-ae": [_DEEPKE_AE],
    "finre": [_FINRE],
    "semeval": ["".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _SEMEVAL)],
}
_OPTIONS: dict[str, list[dict[str, Any]]] = {
    "conll": [{}, {"scheme": "BIO"}, {"scheme": "BIOES"}, {"tag_column": 1}, {"tag_column": -2}],
    "cluener": [{}, {"skip_invalid": True}],
    "jsonl": [{}, {"skip_invalid": True}],
    "doccano": [{}, {"skip_invalid": True}],
    "label-studio": [
        {},
        {"use_predictions": True},
        {"annotator": 1},
        {"data_key": "ner"},
        {"skip_invalid": True},
    ],
    "brat": [{}, {"discontinuous": "merge"}, {"discontinuous": "split"}],
    "deepke-re": [{}],
    "deepke-ae": [{}, {"missing_offsets": "skip"}],
    "finre": [{}, {"offsets": "first"}],
    "semeval": [{}],
}

# -- mutations ---------------------------------------------------------------------------------

_ODD_VALUES: list[Any] = [
    None, 0, -1, 1, 3, 10**6, 2**63, 1.5, math.inf, True, False, "", "x", "PER", "\n", "😀",
    [], [0], [0, 1], [0, 1, "X"], [[0, 1, "X"]], {}, {"start": 0}, {"text": 1},
]  # fmt: skip
_BAD_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\xe4\xb8", b"\xed\xa0\x80", b"\x80", b"\xf8\x88\x80"]


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]


def _insert(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data) + 1)
    junk = rng.choice([b"\t", b" ", b"\n", b"\r", b"\x00", b"[", b"{", b'"', b",", b";", b"-"])
    return data[:i] + junk * rng.randint(1, 3) + data[i:]


def _delete(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 8) :]


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _duplicate(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    j = min(len(data), i + rng.randint(1, 40))
    return data[:j] + data[i:j] + data[j:]


def _bad_utf8(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice(_BAD_UTF8) + data[i:]


def _bom(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return b"\xef\xbb\xbf" + data
    text = data.decode("utf-8", errors="replace")
    return text.encode(rng.choice(["utf-16", "utf-16-le", "utf-16-be"]))


def _line_endings(data: bytes, rng: random.Random) -> bytes:
    old, new = rng.choice([(b"\n", b"\r\n"), (b"\n", b"\r"), (b"\r\n", b"\n"), (b"\n", b"\n\n")])
    return data.replace(old, new)


BYTE_MUTATIONS: list[Callable[[bytes, random.Random], bytes]] = [
    _flip, _insert, _delete, _truncate, _duplicate, _bad_utf8, _bom, _line_endings,
]  # fmt: skip


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _nodes(child, (*path, index))
    return found


def _mutate_json(value: Any, rng: random.Random) -> Any:
    """Return a copy of a JSON value with one node replaced by an odd value, or deleted."""
    value = json.loads(json.dumps(value))
    paths = [p for p in _nodes(value) if p]
    if not paths:
        return rng.choice(_ODD_VALUES)
    path = rng.choice(paths)
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    if rng.random() < 0.3:
        del parent[path[-1]]
    else:
        parent[path[-1]] = rng.choice(_ODD_VALUES)
    return value


def _json_structure(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    if text.lstrip().startswith(("[", "{")) and len(lines) > 1 and not _is_json_lines(text):
        try:
            whole = json.loads(text)
        except ValueError:
            return text
        return json.dumps(_mutate_json(whole, rng), ensure_ascii=False, indent=1)
    i = rng.randrange(len(lines))
    try:
        record = json.loads(lines[i])
    except ValueError:
        return text
    lines[i] = json.dumps(_mutate_json(record, rng), ensure_ascii=False)
    return "\n".join(lines) + "\n"


def _is_json_lines(text: str) -> bool:
    try:
        [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        return False
    return True


_TAGS = ["O", "B-PER", "I-PER", "E-LOC", "S-X", "M-X", "B-", "X-FOO", "I-", "-", "B_PER", "NP-B"]


def _conll_structure(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    columns = lines[i].split()
    choice = rng.randrange(6)
    if choice == 0 and columns:
        del columns[rng.randrange(len(columns))]
    elif choice == 1:
        columns.insert(rng.randrange(len(columns) + 1), rng.choice([*_TAGS, "x", "NN"]))
    elif choice == 2 and len(columns) > 1:
        a, b = rng.sample(range(len(columns)), 2)
        columns[a], columns[b] = columns[b], columns[a]
    elif choice == 3 and columns:
        columns[-1] = rng.choice(_TAGS)
    elif choice == 4:
        lines.insert(i, rng.choice(["", "-DOCSTART-", "-DOCSTART- O", " ", "\t"]))
        return "\n".join(lines)
    else:
        return "\n".join(lines[:i] + lines[i + 1 :])
    lines[i] = rng.choice([" ", "\t", "  "]).join(columns)
    return "\n".join(lines)


def _brat_structure(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    fields = lines[i].split("\t")
    choice = rng.randrange(7)
    if choice == 0:
        lines[i] = lines[i].replace("\t", " ")
    elif choice == 1 and len(fields) > 1:
        lines[i] = "\t".join(fields[: rng.randrange(1, len(fields))])
    elif choice == 2 and len(fields) > 1 and fields[1].split():
        parts = fields[1].split()
        k = rng.randrange(len(parts))
        parts[k] = rng.choice(["-1", "0", "3", "999", "2;1", "x", "T9", "Arg1:T99", ""])
        fields[1] = " ".join(parts)
        lines[i] = "\t".join(fields)
    elif choice == 3 and len(fields) > 1:
        fields[1] += rng.choice([";1 2", ";5 3", ";", " 4", ";0 0"])
        lines[i] = "\t".join(fields)
    elif choice == 4:
        lines.insert(i, rng.choice(["T1\tLOC 0 3\tNew", "R9\tx Arg1:T1", "T", "\t", "T5\t"]))
    elif choice == 5 and len(fields) > 2:
        fields[2] = rng.choice(["", "x", "New\tYork", fields[2] + " "])
        lines[i] = "\t".join(fields)
    else:
        fields[0] = rng.choice(["T1", "R1", "X1", "", "T1\x00"])
        lines[i] = "\t".join(fields)
    return "\n".join(lines)


def _table_structure(text: str, rng: random.Random) -> str:
    """Edit one cell of a comma- or tab-separated line: empty it, swap it, or add a cell."""
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    separator = "\t" if "\t" in lines[i] else ","
    cells = lines[i].split(separator)
    k = rng.randrange(len(cells))
    choice = rng.randrange(4)
    if choice == 0:
        cells[k] = ""
    elif choice == 1:
        cells[k] = rng.choice(["-1", "99999", "x", "1.5", "张", "😀"])
    elif choice == 2:
        cells.insert(k, "extra")
    else:
        del cells[k]
    lines[i] = separator.join(cells)
    return "\n".join(lines)


STRUCTURAL: dict[str, Callable[[str, random.Random], str]] = {
    "conll": _conll_structure,
    "cluener": _json_structure,
    "jsonl": _json_structure,
    "doccano": _json_structure,
    "label-studio": _json_structure,
    "brat": _brat_structure,
    "deepke-re": _table_structure,
    "deepke-ae": _table_structure,
    "finre": _table_structure,
    "semeval": _json_structure,
}


def mutate(format: str, data: bytes, rng: random.Random) -> bytes:
    """Return `data` after one to three random mutations, structural or byte level."""
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.5:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if text.strip():
                data = STRUCTURAL[format](text, rng).encode("utf-8")
        else:
            data = rng.choice(BYTE_MUTATIONS)(data, rng)
    return data


# -- one case ----------------------------------------------------------------------------------


def check_example(example: Any) -> str | None:
    """Return what is wrong with a read Example, or None when it keeps every promise."""
    if not isinstance(example, Example) or not isinstance(example.text, str):
        return f"not an Example with a str text: {example!r}"
    n = len(example.text)
    for span in example.spans:
        if not (isinstance(span.start, int) and isinstance(span.end, int)):
            return f"non-integer offsets {span}"
        if not 0 <= span.start < span.end <= n:
            return f"span {span} out of range for {n} characters"
        if not isinstance(span.label, str) or not span.label:
            return f"bad label {span.label!r}"
    if list(example.spans) != sorted(example.spans):
        return "spans not sorted"
    for r in example.relations:
        in_range = all(isinstance(i, int) and 0 <= i < len(example.spans) for i in (r.head, r.tail))
        if not in_range or not isinstance(r.label, str) or not r.label:
            return f"bad relation {r}"
    for a in example.attributes:
        if not (0 <= a.entity < len(example.spans) and 0 <= a.start < a.end <= n):
            return f"bad attribute {a}"
    for token in example.tokens or ():
        if example.text[token.start : token.end] != token.text:
            return f"token {token} does not match the text"
    return None


def run_case(seed: int, format: str, directory: Path) -> tuple[str, str]:
    """Read one mutated file; return (outcome, detail): ok, nerkit, other or invariant."""
    rng = random.Random(seed)
    original = rng.choice(SEEDS[format]).encode("utf-8")
    options = dict(rng.choice(_OPTIONS[format]))
    if rng.random() < 0.2:
        options["errors"] = "replace"
    target = directory / f"case{seed}"
    target.mkdir()
    if format == "brat":
        txt, ann = _BRAT_TXT.encode("utf-8"), original
        if rng.random() < 0.3:
            txt = mutate("conll", txt, rng) if rng.random() < 0.5 else _flip(txt, rng)
        else:
            ann = mutate(format, ann, rng)
        (target / "d.txt").write_bytes(txt)
        (target / "d.ann").write_bytes(ann)
        path = target
    else:
        path = target / "data"
        path.write_bytes(mutate(format, original, rng))
    try:
        for example in read(path, format, **options):
            problem = check_example(example)
            if problem:
                return "invariant", problem
    except NerkitError as error:
        return "nerkit", str(error)
    except Exception as error:  # the defect this harness looks for
        site = traceback.extract_tb(error.__traceback__)[-1]
        where = f"{Path(site.filename).name}:{site.lineno}"
        return "other", f"{type(error).__name__} at {where}: {error}"
    return "ok", ""


def main(argv: list[str] | None = None) -> int:
    """Run the cases and print the counts; exit code 1 when any case broke the promise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="number of cases (all formats)")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--formats", nargs="*", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--case", nargs=2, metavar=("SEED", "FORMAT"), help="rerun one case")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # skip_invalid and the CoNLL writer log; not the point here
    with tempfile.TemporaryDirectory() as scratch:
        if args.case:
            print(run_case(int(args.case[0]), args.case[1], Path(scratch)))
            return 0
        counts: dict[str, Counter[str]] = {f: Counter() for f in args.formats}
        first: dict[tuple[str, str], str] = {}
        started = time.perf_counter()
        for k in range(args.cases):
            seed, format = args.seed + k, args.formats[k % len(args.formats)]
            outcome, detail = run_case(seed, format, Path(scratch))
            counts[format][outcome] += 1
            if outcome in ("other", "invariant"):
                first.setdefault(
                    (outcome, detail.split(":")[0]), f"--case {seed} {format}: {detail}"
                )
    elapsed = time.perf_counter() - started
    print(f"{'format':<14}{'cases':>8}{'ok':>8}{'NerkitError':>13}{'other':>8}{'invariant':>11}")
    total: Counter[str] = Counter()
    for format, c in counts.items():
        total.update(c)
        print(f"{format:<14}{c.total():>8}{c['ok']:>8}{c['nerkit']:>13}{c['other']:>8}"
              f"{c['invariant']:>11}")  # fmt: skip
    print(f"{'total':<14}{total.total():>8}{total['ok']:>8}{total['nerkit']:>13}"
          f"{total['other']:>8}{total['invariant']:>11}   ({elapsed:.1f} s)")  # fmt: skip
    for detail in first.values():
        print(detail)
    return 1 if total["other"] or total["invariant"] else 0


if __name__ == "__main__":
    sys.exit(main())
