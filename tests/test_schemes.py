"""Tag schemes: rules derived from the encoder, chunking checked against seqeval."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB1, IOB2, IOBES, Tokens

from nerkit.errors import SchemeError
from nerkit.schemes import (
    Scheme,
    convert_tags,
    detect_scheme,
    is_allowed,
    parse_scheme,
    spans_to_tags,
    split_tag,
    tag_inventory,
    tags_to_spans,
    transition_mask,
    violations,
)
from nerkit.types import Span

LABELS = ["PER", "LOC", "B-X"]  # a label containing the delimiter must survive too
SEQEVAL_STRICT = {Scheme.IOB1: IOB1, Scheme.BIO: IOB2, Scheme.BIOES: IOBES, Scheme.BMES: IOBES}
# input spellings a scheme accepts beyond its canonical letters, and seqeval's letter for each
EXTRA_INPUT = {Scheme.BIOES: ["L", "U", "M"], Scheme.BMES: ["I"]}
TO_SEQEVAL = {"L": "E", "U": "S", "M": "I"}

fast = settings(deadline=None, max_examples=80)


@st.composite
def labelled_sentences(draw, max_length=12):
    """Draw a sentence length and non-overlapping spans over it."""
    length = draw(st.integers(min_value=0, max_value=max_length))
    spans, i = [], 0
    while i < length:
        if draw(st.booleans()):
            end = draw(st.integers(min_value=i + 1, max_value=length))
            spans.append(Span(i, end, draw(st.sampled_from(LABELS))))
            i = end
        else:
            i += 1
    return length, spans


def any_tags(scheme: Scheme, max_length: int = 12):
    """Any sequence of tags the scheme accepts, well-formed or not, in any input spelling."""
    tags = tag_inventory(LABELS[:2], scheme)
    tags += [f"{p}-{label}" for p in EXTRA_INPUT.get(scheme, []) for label in LABELS[:2]]
    return st.lists(st.sampled_from(tags), max_size=max_length)


def seqeval_spelling(tags: list[str]) -> list[str]:
    """Rewrite tags into the letters seqeval knows (B, I, E, S, O)."""
    out = []
    for tag in tags:
        prefix, label = split_tag(tag)
        out.append(tag if label is None else f"{TO_SEQEVAL.get(prefix, prefix)}-{label}")
    return out


# --- properties derived from the encoder -----------------------------------------------------


@pytest.mark.parametrize("scheme", list(Scheme))
@fast
@given(sentence=labelled_sentences())
def test_spans_survive_a_round_trip_through_tags(scheme, sentence):
    length, spans = sentence
    tags = spans_to_tags(spans, length, scheme)
    assert tags_to_spans(tags, scheme) == spans
    assert tags_to_spans(tags, scheme, strict=True) == spans


@pytest.mark.parametrize("scheme", list(Scheme))
@fast
@given(sentence=labelled_sentences())
def test_every_encoded_sentence_uses_only_allowed_transitions(scheme, sentence):
    # Derives the constraints from the encoder instead of a hand-typed table, so a wrong rule
    # cannot be "confirmed" by an equally wrong test.
    length, spans = sentence
    encoded = spans_to_tags(spans, length, scheme)
    tags = [None, *encoded, None]
    assert all(is_allowed(prev, cur, scheme) for prev, cur in itertools.pairwise(tags))
    assert violations(encoded, scheme) == []
    assert set(encoded) <= set(tag_inventory(LABELS, scheme))


@pytest.mark.parametrize("scheme", list(Scheme))
@fast
@given(data=st.data())
def test_a_sequence_has_no_violations_iff_it_is_the_encoding_of_its_chunks(scheme, data):
    tags = data.draw(st.lists(st.sampled_from(tag_inventory(["PER", "LOC"], scheme)), max_size=8))
    reencoded = spans_to_tags(tags_to_spans(tags, scheme), len(tags), scheme)
    assert (violations(tags, scheme) == []) == (reencoded == tags)


@pytest.mark.parametrize("source", list(Scheme))
@pytest.mark.parametrize("target", list(Scheme))
@fast
@given(sentence=labelled_sentences())
def test_convert_tags_round_trips(source, target, sentence):
    length, spans = sentence
    tags = spans_to_tags(spans, length, source)
    converted = convert_tags(tags, source, target)
    assert converted == spans_to_tags(spans, length, target)
    assert convert_tags(converted, target, source) == tags


@pytest.mark.parametrize("scheme", list(Scheme))
def test_transition_mask_agrees_with_is_allowed(scheme):
    tags = tag_inventory(["PER", "LOC"], scheme)
    mask = transition_mask(tags, scheme)
    size = len(tags)
    assert len(mask) == size + 2 and all(len(row) == size + 2 for row in mask)
    for i, prev in enumerate([*tags, None]):
        row = i if prev is not None else size
        for j, cur in enumerate([*tags, None]):
            column = j if cur is not None else size + 1
            assert mask[row][column] == is_allowed(prev, cur, scheme), (prev, cur)
    assert not any(row[size] for row in mask)  # nothing goes into START
    assert not any(mask[size + 1])  # nothing leaves END


# --- lenient and strict chunking against seqeval ---------------------------------------------


@pytest.mark.parametrize("scheme", list(Scheme))
@settings(deadline=None, max_examples=200)
@given(data=st.data())
def test_lenient_chunking_equals_seqeval_get_entities(scheme, data):
    tags = data.draw(any_tags(scheme))
    expected = [
        Span(start, end + 1, label) for label, start, end in get_entities(seqeval_spelling(tags))
    ]
    assert tags_to_spans(tags, scheme) == sorted(expected)


@pytest.mark.parametrize("scheme", list(Scheme))
@settings(deadline=None, max_examples=200)
@given(data=st.data())
def test_strict_chunking_equals_seqeval_strict_mode(scheme, data):
    tags = data.draw(any_tags(scheme))
    entities = Tokens(seqeval_spelling(tags), scheme=SEQEVAL_STRICT[scheme]).entities
    expected = sorted(Span(e.start, e.end, e.tag) for e in entities)
    assert tags_to_spans(tags, scheme, strict=True) == expected


# --- explicit cases --------------------------------------------------------------------------


def test_explicit_transitions():
    assert not is_allowed("B-PER", "O", Scheme.BIOES)
    assert not is_allowed("O", "I-PER", Scheme.BIO)
    assert is_allowed("O", "I-PER", Scheme.IOB1)
    assert not is_allowed("O", "B-PER", Scheme.IOB1)
    assert is_allowed("I-PER", "B-PER", Scheme.IOB1)
    assert is_allowed("M-X", "M-X", Scheme.BMES)
    assert not is_allowed("B-X", None, Scheme.BMES)
    assert not is_allowed(None, "E-X", Scheme.BIOES)
    assert is_allowed("B-X", "L-X", Scheme.BIOES)  # BILOU spelling on input
    assert not is_allowed("I-PER", "E-LOC", Scheme.BIOES)


def test_lenient_chunking_examples():
    # an I- after O opens a chunk; an orphan E- opens one; a label change splits
    assert tags_to_spans(["O", "I-PER", "I-PER"], Scheme.BIO) == [Span(1, 3, "PER")]
    assert tags_to_spans(["O", "I-PER", "I-PER"], Scheme.BIO, strict=True) == []
    assert tags_to_spans(["E-PER", "B-LOC", "I-LOC"], Scheme.BIOES) == [
        Span(0, 1, "PER"),
        Span(1, 3, "LOC"),
    ]
    assert tags_to_spans(["E-PER", "B-LOC", "I-LOC"], Scheme.BIOES, strict=True) == []
    assert tags_to_spans(["B-PER", "M-PER", "M-PER", "E-PER"], Scheme.BMES) == [Span(0, 4, "PER")]
    assert tags_to_spans(["U-PER", "B-LOC", "L-LOC"], Scheme.BIOES, strict=True) == [
        Span(0, 1, "PER"),
        Span(1, 3, "LOC"),
    ]


def test_output_uses_canonical_letters():
    assert convert_tags(["U-A", "B-A", "L-A"], Scheme.BIOES, Scheme.BIOES) == ["S-A", "B-A", "E-A"]
    assert convert_tags(["B-A", "I-A", "E-A"], Scheme.BMES, Scheme.BMES) == ["B-A", "M-A", "E-A"]
    assert convert_tags(["I-A", "I-A", "B-A"], Scheme.IOB1, Scheme.BIO) == ["B-A", "I-A", "B-A"]


def test_tag_inventory_order():
    assert tag_inventory(["PER", "LOC", "PER"], Scheme.BIO) == [
        "O",
        "B-LOC",
        "I-LOC",
        "B-PER",
        "I-PER",
    ]
    assert tag_inventory(["X"], Scheme.IOB1) == ["O", "I-X", "B-X"]
    assert tag_inventory(["X"], Scheme.BIOES) == ["O", "B-X", "I-X", "E-X", "S-X"]
    assert tag_inventory(["X"], Scheme.BMES) == ["O", "B-X", "M-X", "E-X", "S-X"]


def test_violations_positions():
    assert violations(["O", "I-PER", "B-PER"], Scheme.BIO) == [1]
    assert violations(["B-PER", "I-PER"], Scheme.BIOES) == [2]
    assert violations(["E-PER"], Scheme.BIOES) == [0]
    assert violations(["B-PER", "O", "B-PER"], Scheme.IOB1) == [0, 2]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], Scheme.BIO),
        (["O", "O"], Scheme.BIO),
        ([], Scheme.BIO),
        (["I-PER", "I-PER", "B-PER", "O", "I-LOC"], Scheme.IOB1),
        (["O", "I-PER", "B-PER"], Scheme.IOB1),
        (["O", "I-PER", "O", "B-PER"], Scheme.BIO),
        (["B-PER", "E-PER", "S-LOC"], Scheme.BIOES),
        (["U-PER", "B-LOC", "L-LOC"], Scheme.BIOES),
        (["B-PER", "M-PER", "E-PER"], Scheme.BMES),
    ],
)
def test_detect_scheme(tags, expected):
    assert detect_scheme(tags) is expected


def test_parse_scheme_aliases():
    assert parse_scheme("iob2") is Scheme.BIO
    assert parse_scheme("BILOU") is Scheme.BIOES
    assert parse_scheme("iobes") is Scheme.BIOES
    assert parse_scheme("bmes") is Scheme.BMES
    assert parse_scheme("IOB1") is Scheme.IOB1


def test_split_tag():
    assert split_tag("B-PER") == ("B", "PER")
    assert split_tag("I-B-X") == ("I", "B-X")
    assert split_tag("O") == ("O", None)


# --- error messages --------------------------------------------------------------------------


def test_unknown_scheme_lists_valid_names():
    with pytest.raises(
        SchemeError, match=r"unknown tagging scheme 'BIOLU'; expected one of IOB1, BIO"
    ):
        parse_scheme("BIOLU")


@pytest.mark.parametrize("tag", ["B", "X-PER", "", "B-", "BB-PER", "O-PER"])
def test_malformed_tag_is_named(tag):
    with pytest.raises(SchemeError, match=rf"malformed tag {tag!r}; expected 'O' or PREFIX-LABEL"):
        split_tag(tag)


def test_tag_outside_the_scheme_is_named():
    with pytest.raises(SchemeError, match=r"tag 'E-PER' does not belong to the BIO scheme"):
        tags_to_spans(["B-PER", "E-PER"], Scheme.BIO)
    with pytest.raises(SchemeError, match=r"tag 'M-PER' does not belong to the BIO scheme"):
        is_allowed("M-PER", None, Scheme.BIO)


def test_bad_spans_are_reported():
    with pytest.raises(SchemeError, match=r"overlap; a tag sequence cannot nest"):
        spans_to_tags([Span(0, 2, "A"), Span(1, 3, "B")], 4, Scheme.BIO)
    with pytest.raises(SchemeError, match=r"ends after the sentence of 2 tokens"):
        spans_to_tags([Span(1, 3, "A")], 2, Scheme.BIO)
