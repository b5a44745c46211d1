"""CoNLL reader/writer: columns, DOCSTART, scheme detection, text reconstruction, errors."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nerkit.data.formats.conll import join_tokens, read_conll, write_conll
from nerkit.data.tokenize import tokenize
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Span, Token

CONLL_2003 = """-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER
"""


def test_reads_four_columns_docstart_and_detects_iob1(tmp_path):
    path = tmp_path / "eng.train"
    path.write_text(CONLL_2003, encoding="utf-8")
    first, second = list(read_conll(path))
    assert first.text == "EU rejects German call"
    assert first.spans == (Span(0, 2, "ORG"), Span(11, 17, "MISC"))
    assert first.tokens[1] == Token("rejects", 3, 10)
    assert first.meta["scheme"] == "IOB1" and first.meta["scheme_detected"]
    assert first.meta["docstart"] and first.meta["doc"] == 1 and first.meta["line"] == 3
    assert first.meta["columns"][0] == ("NNP", "B-NP")
    assert second.spans == (Span(0, 15, "PER"),) and "docstart" not in second.meta


def test_character_per_line_chinese_with_bmes_and_fullwidth(tmp_path):
    path = tmp_path / "train.char.bmes"
    path.write_text("高 B-NAME\n小 M-NAME\n勇 E-NAME\n： O\n１ O\n９ O\na O\n\n", encoding="utf-8")
    (example,) = read_conll(path)
    assert example.text == "高小勇：１９a"  # a character-per-line sentence: no separators
    assert example.spans == (Span(0, 3, "NAME"),)
    assert example.meta["scheme"] == "BMES"


def test_character_per_line_sentences_get_their_original_text_back():
    text, tokens = join_tokens(["1", "9", "9", "7", "年", "，", "A", "P", "E", "C"])
    assert text == "1997年，APEC"
    assert [token.start for token in tokens] == list(range(10))
    assert join_tokens(["I", "."])[0] == "I ."  # single characters but no CJK: English spacing


def test_join_rule_spaces_only_between_non_wide_neighbours():
    text, tokens = join_tokens(["我", "在", "Apple", "工作", "。", "OK", "!"])
    assert text == "我在 Apple 工作。 OK !"
    assert [text[t.start : t.end] for t in tokens] == ["我", "在", "Apple", "工作", "。", "OK", "!"]


def test_bom_crlf_and_tab_columns(tmp_path):
    path = tmp_path / "msra.bio"
    path.write_bytes("\ufeff中\tB-LOC\r\n国\tI-LOC\r\n\r\n".encode())
    (example,) = read_conll(path, scheme="BIO")
    assert example.text == "中国" and example.spans == (Span(0, 2, "LOC"),)


def test_violations_are_recorded_and_chunked_leniently(tmp_path):
    path = tmp_path / "bad.bio"
    path.write_text("a O\nb I-PER\nc I-PER\n", encoding="utf-8")
    (example,) = read_conll(path, scheme="BIO")
    assert example.spans == (Span(2, 5, "PER"),)
    assert example.meta["violations"] == [1]


def test_tag_column_option(tmp_path):
    path = tmp_path / "x.conll"
    path.write_text("Paris B-LOC NNP\n", encoding="utf-8")
    (example,) = read_conll(path, tag_column=1)
    assert example.spans == (Span(0, 5, "LOC"),) and example.meta["columns"] == [("NNP",)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("EU B-ORG\nrejects\n", r"bad\.conll:2: expected a token and a tag"),
        ("EU B-ORG\nx X-ORG\n", r"bad\.conll:2: malformed tag 'X-ORG'"),
        ("EU B-ORG\n\nx S-ORG\n", r"bad\.conll:3: tag 'S-ORG' does not belong to the BIO"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.conll"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        list(read_conll(path, scheme="BIO" if "S-ORG" in content else None))


def test_invalid_bytes_name_the_line_or_are_replaced(tmp_path):
    path = tmp_path / "latin1.conll"
    path.write_bytes(b"a O\nb\xe9 O\n")
    with pytest.raises(DataFormatError, match=r"latin1\.conll:2: expected UTF-8"):
        list(read_conll(path))
    (example,) = read_conll(path, errors="replace")
    assert example.text == "a b\ufffd"


def test_writer_round_trip_keeps_columns_and_docstart(tmp_path):
    source = tmp_path / "in.conll"
    source.write_text(CONLL_2003, encoding="utf-8")
    examples = list(read_conll(source))
    out = tmp_path / "out.conll"
    assert write_conll(examples, out, scheme="IOB1") == 2
    assert out.read_text(encoding="utf-8") == CONLL_2003 + "\n"
    assert list(read_conll(out)) == examples


def test_writer_rejects_a_span_inside_a_token_naming_the_document(tmp_path):
    example = Example("New York", (Span(0, 2, "LOC"),), id="doc7")
    with pytest.raises(NerkitError, match=r"document 0 \(id 'doc7'\): span \[0, 2\) LOC 'Ne'"):
        write_conll([example], tmp_path / "x.conll")


_CHARS = st.sampled_from([*"ab Z9９Ａ中文。，、", " ", "😀", "𠀀", "-", "é", "\u3000"])


@st.composite
def tokenised_documents(draw):
    text = draw(st.text(alphabet=_CHARS, min_size=1, max_size=30))
    tokens = tokenize(text)
    spans, i = [], 0
    while i < len(tokens):
        if draw(st.booleans()):
            j = draw(st.integers(i + 1, min(len(tokens), i + 3)))
            spans.append(Span(tokens[i].start, tokens[j - 1].end, draw(st.sampled_from("AB"))))
            i = j
        else:
            i += 1
    return Example(text, tuple(spans))


def _squeeze(example: Example, span: Span) -> tuple[str, str]:
    return "".join(example.mention(span).split()), span.label


@pytest.mark.parametrize("scheme", ["BIO", "BIOES", "BMES", "IOB1"])
# deadline=None: every write fsyncs (nerkit.data.safe_write), slow on a loaded machine
@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40, deadline=None
)
@given(example=tokenised_documents())
def test_random_documents_survive_write_then_read(tmp_path, scheme, example):
    path = tmp_path / "r.conll"
    written = write_conll([example], path, scheme=scheme)
    back = list(read_conll(path, scheme=scheme))
    if not example.text.split():
        assert written == 0 and back == []
        return
    (read_back,) = back
    # the text is rebuilt from the tokens (whitespace may change): compare squeezed mentions
    assert [_squeeze(read_back, s) for s in read_back.spans] == [
        _squeeze(example, s) for s in example.spans
    ]
    assert [t.text for t in read_back.tokens] == [t.text for t in tokenize(example.text)]
    assert list(read_conll(path, scheme=scheme)) == back
    write_conll(back, path, scheme=scheme)
    assert list(read_conll(path, scheme=scheme)) == back
