"""DeepKE RE and AE CSV: reading, grouping, types, offsets, errors and round trips."""

from __future__ import annotations

import pytest

from nerkit.data.formats.deepke import (
    read_deepke_ae,
    read_deepke_re,
    read_deepke_schema,
    write_deepke_ae,
    write_deepke_re,
)
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Attribute, Example, Relation, Span

RE_HEADER = "sentence,relation,head,head_offset,tail,tail_offset\n"
RE_ROWS = (
    "黄得功，安徽合肥人,出生地,黄得功,0,安徽合肥,4\n"
    "《逐风行》是纵横中文网的小说,连载网站,逐风行,1,纵横中文网,6\n"
    "《逐风行》是纵横中文网的小说,导演,逐风行,1,纵横中文网,6\n"
)
AE_HEADER = "sentence,attribute,entity,entity_offset,attribute_value,attribute_value_offset\n"
AE_ROWS = (
    "张冬梅，女，汉族，1968年生,民族,张冬梅,0,汉族,6\n"
    "张冬梅，女，汉族，1968年生,朝代,张冬梅,0,1968年,9\n"
    "Peggy身高165厘米,身高,peggy,-1,165厘米,7\n"
)
RELATION_CSV = (
    "head_type,tail_type,relation,index\n"
    "None,None,None,0\n人物,地点,出生地,1\n网络小说,网站,连载网站,2\n影视作品,人物,导演,3\n"
)


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_rows_of_one_sentence_become_one_example_with_shared_spans(tmp_path):
    examples = list(read_deepke_re(write(tmp_path, "re.csv", RE_HEADER + RE_ROWS)))
    assert len(examples) == 2
    first, second = examples
    assert first.spans == (Span(0, 3, "ENTITY"), Span(4, 8, "ENTITY"))
    assert first.relations == (Relation(0, 1, "出生地"),)
    assert second.spans == (Span(1, 4, "ENTITY"), Span(6, 11, "ENTITY"))
    assert second.relations == (Relation(0, 1, "连载网站"), Relation(0, 1, "导演"))
    assert second.meta["line"] == 3 and second.meta["lines"] == (3, 4)
    assert [second.mention(s) for s in second.spans] == ["逐风行", "纵横中文网"]


def test_types_from_relation_csv_label_the_spans(tmp_path):
    types = write(tmp_path, "relation.csv", RELATION_CSV)
    path = write(tmp_path, "re.csv", RE_HEADER + RE_ROWS)
    first, second = read_deepke_re(path, types=types)
    assert [s.label for s in first.spans] == ["人物", "地点"]
    # the same mention typed differently by two relations becomes two spans
    assert second.spans == (Span(1, 4, "影视作品"), Span(1, 4, "网络小说"),
                            Span(6, 11, "人物"), Span(6, 11, "网站"))  # fmt: skip
    assert second.meta["overlaps"] is True


def test_read_deepke_schema_of_relation_and_attribute_csv(tmp_path):
    schema = read_deepke_schema(write(tmp_path, "relation.csv", RELATION_CSV))
    assert schema.no_relation == ("None",)
    assert schema.relation_labels == ("出生地", "连载网站", "导演")
    assert schema.allows("人物", "出生地", "地点") and not schema.allows("地点", "出生地", "人物")
    attributes = read_deepke_schema(
        write(tmp_path, "attribute.csv", "attribute,index\nNone,0\n民族,1\n")
    )
    assert [a.name for a in attributes.attributes] == ["民族"]


def test_bom_and_crlf_are_accepted(tmp_path):
    path = write(tmp_path, "re.csv", "\ufeff" + (RE_HEADER + RE_ROWS).replace("\n", "\r\n"))
    assert len(list(read_deepke_re(path))) == 2


def test_duplicate_rows_of_a_sentence_are_kept_once_and_counted(tmp_path):
    row = "黄得功，安徽合肥人,出生地,黄得功,0,安徽合肥,4\n"
    (example,) = read_deepke_re(write(tmp_path, "re.csv", RE_HEADER + row + row))
    assert example.relations == (Relation(0, 1, "出生地"),)
    assert example.meta["duplicate_rows"] == 1


def test_ae_rows_become_attributes_and_minus_one_offsets_are_searched(tmp_path):
    first, second = read_deepke_ae(write(tmp_path, "ae.csv", AE_HEADER + AE_ROWS))
    assert first.spans == (Span(0, 3, "ENTITY"),)
    assert first.attributes == (Attribute(0, "民族", 6, 8), Attribute(0, "朝代", 9, 14))
    assert [first.attribute_value(a) for a in first.attributes] == ["汉族", "1968年"]
    assert second.spans == (Span(0, 5, "ENTITY"),)
    assert second.mention(second.spans[0]) == "Peggy"  # the sentence's case, not the file's
    assert second.meta["searched_offsets"] == 1


def test_minus_one_offsets_can_be_skipped_or_refused(tmp_path):
    path = write(tmp_path, "ae.csv", AE_HEADER + AE_ROWS)
    *_, last = read_deepke_ae(path, missing_offsets="skip")
    assert last.attributes == () and last.meta["skipped_rows"] == 1
    with pytest.raises(DataFormatError, match=r"ae\.csv:4: 'peggy' is not at offset -1"):
        list(read_deepke_ae(path, missing_offsets="error"))


def test_offset_that_does_not_match_names_file_and_line(tmp_path):
    rows = RE_ROWS + "黄得功，安徽合肥人,出生地,黄得功,1,安徽合肥,4\n"
    path = write(tmp_path, "re.csv", RE_HEADER + rows)
    with pytest.raises(DataFormatError, match=r"re\.csv:5: '黄得功' is not at offset 1: the "
                       r"sentence has '得功，'"):  # fmt: skip
        list(read_deepke_re(path))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("黄得功，安徽合肥人,出生地,黄得功,x,安徽合肥,4", r"expected an integer offset, found 'x'"),
        ("黄得功，安徽合肥人,出生地,黄得功,0", r"expected 6 columns \(.*\), found 4"),
        ("黄得功，安徽合肥人,,黄得功,0,安徽合肥,4", r"expected a relation label"),
        ("黄得功，安徽合肥人,出生地,,0,安徽合肥,4", r"expected a non-empty mention"),
        ("黄得功，安徽合肥人,出生地,黄得功,0,安徽合肥人们,4", r"'安徽合肥人们' is not at offset 4"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, row, message):
    path = write(tmp_path, "file.csv", RE_HEADER + RE_ROWS.splitlines()[0] + "\n" + row + "\n")
    with pytest.raises(DataFormatError, match=r"file\.csv:3: " + message):
        list(read_deepke_re(path))


def test_wrong_header_says_which_format(tmp_path):
    with pytest.raises(DataFormatError, match=r"file\.csv:1: expected the header 'sentence,"
                       r"relation,.*\(is this the other DeepKE format"):  # fmt: skip
        list(read_deepke_re(write(tmp_path, "file.csv", AE_HEADER + AE_ROWS)))


def test_relation_missing_from_relation_csv_names_the_line(tmp_path):
    types = write(tmp_path, "relation.csv", RELATION_CSV)
    path = write(tmp_path, "file.csv", RE_HEADER + "甲在乙,国籍,甲,0,乙,2\n")
    with pytest.raises(DataFormatError, match=r"file\.csv:2: relation '国籍' is not in"):
        list(read_deepke_re(path, types=types))


def test_invalid_utf8_and_unterminated_quote_name_the_line(tmp_path):
    path = write(tmp_path, "file.csv", RE_HEADER)
    path.write_bytes(path.read_bytes() + b"\xff,x\n")
    with pytest.raises(DataFormatError, match=r"file\.csv:2: expected UTF-8"):
        list(read_deepke_re(path))
    path = write(tmp_path, "quote.csv", RE_HEADER + RE_ROWS + '"open,出生地,a,0,b,1\n')
    with pytest.raises(DataFormatError, match=r"quote\.csv:5: malformed CSV"):
        list(read_deepke_re(path))


def test_quoted_fields_with_commas_keep_their_offsets(tmp_path):
    row = '"甲,乙在丙",出生地,乙,2,丙,4\n'
    (example,) = read_deepke_re(write(tmp_path, "re.csv", RE_HEADER + row))
    assert example.text == "甲,乙在丙"
    assert [example.mention(s) for s in example.spans] == ["乙", "丙"]


@pytest.mark.parametrize("kind", ["re", "ae"])
def test_write_then_read_gives_the_same_examples(tmp_path, kind):
    read, write_, text = {
        "re": (read_deepke_re, write_deepke_re, RE_HEADER + RE_ROWS),
        "ae": (read_deepke_ae, write_deepke_ae, AE_HEADER + AE_ROWS),
    }[kind]
    examples = list(read(write(tmp_path, "in.csv", text)))
    assert write_(examples, tmp_path / "out.csv") == len(examples)
    again = list(read(tmp_path / "out.csv"))
    assert again == examples
    if kind == "re":  # the file itself round-trips byte for byte
        assert (tmp_path / "out.csv").read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    ("example", "message"),
    [
        (Example("abc", (Span(0, 1, "X"),)), r"'abc' has no relations"),
        (Example("abc", (Span(0, 1, "X"), Span(1, 2, "X")), relations=(Relation(0, 1, "r"),),
                 attributes=(Attribute(0, "a", 2, 3),)), r"also has attributes"),
        (Example("abc", (Span(0, 1, "X"), Span(1, 2, "X"), Span(2, 3, "X")), id="7",
                 relations=(Relation(0, 1, "r"),)), r"'7' has 1 entities outside every triple"),
    ],
)  # fmt: skip
def test_writing_what_the_csv_cannot_hold_is_refused(tmp_path, example, message):
    with pytest.raises(
        NerkitError, match=r"a DeepKE RE CSV holds one row per RE triple.*" + message
    ):
        write_deepke_re([example], tmp_path / "out.csv")
