"""thunlp/FinRE format: offset recovery, ambiguity policy and counts, multi-label, errors."""

from __future__ import annotations

import pytest

from nerkit.data.formats.finre import occurrences, read_finre, write_finre
from nerkit.errors import DataFormatError, NerkitError
from nerkit.types import Example, Relation, Span

E = "ENTITY"
SENTENCE = "东方航空AH股临时停牌传将与上航合并"
AMBIGUOUS = "友达光电苏州公司证实,有团体参观过友达台湾总部"
LINES = (
    f"东方航空\t上航\tunknown\t{SENTENCE}\n\n"
    f"东方航空\t上航\t合并\t{SENTENCE}\n\n"
    f"上航\t东方航空\t合并\t{SENTENCE}\n\n"
    f"友达光电\t友达\t自己\t{AMBIGUOUS}\n\n"
)


def write(tmp_path, text, name="train.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_lines_of_one_sentence_become_one_example_and_multi_labels_are_kept(tmp_path):
    first, _ = read_finre(write(tmp_path, LINES))
    assert first.text == SENTENCE
    assert first.spans == (Span(0, 4, E), Span(14, 16, E))
    # the pair (东方航空, 上航) holds two labels: two relations, unknown kept as in the file
    assert first.relations == (
        Relation(0, 1, "unknown"), Relation(0, 1, "合并"), Relation(1, 0, "合并")
    )  # fmt: skip
    assert first.meta["lines"] == (1, 3, 5)
    assert "ambiguous_mentions" not in first.meta


def test_nearest_policy_avoids_the_occurrence_inside_the_other_entity(tmp_path):
    _, second = read_finre(write(tmp_path, LINES))
    assert second.spans == (Span(0, 4, E), Span(17, 19, E))
    assert [second.mention(s) for s in second.spans] == ["友达光电", "友达"]
    assert second.meta["ambiguous_mentions"] == 1  # 友达 occurs twice
    assert "overlapping_pairs" not in second.meta and "overlaps" not in second.meta


def test_first_policy_follows_mg_lattice_and_counts_the_overlap(tmp_path):
    _, second = read_finre(write(tmp_path, LINES), offsets="first")
    assert second.spans == (Span(0, 2, E), Span(0, 4, E))
    assert second.relations == (Relation(1, 0, "自己"),)
    assert second.meta["overlapping_pairs"] == 1 and second.meta["overlaps"] is True


def test_same_head_and_tail_string(tmp_path):
    text = "马士基将旗下业务整合,成立马士基服务集团"
    path = write(tmp_path, f"马士基\t马士基\t拥有\t{text}\n")
    (nearest,) = read_finre(path)
    assert nearest.spans == (Span(0, 3, E), Span(13, 16, E))
    (first,) = read_finre(path, offsets="first")
    assert first.relations == (Relation(0, 0, "拥有"),) and first.meta["self_pairs"] == 1


def test_nearest_picks_the_closest_pair_of_occurrences(tmp_path):
    text = "甲公司与乙公司合作,乙公司后来收购了甲公司的子公司丙"
    (example,) = read_finre(write(tmp_path, f"乙公司\t丙\t拥有\t{text}\n"))
    assert [(s.start, example.mention(s)) for s in example.spans] == [(10, "乙公司"), (25, "丙")]
    assert example.meta["ambiguous_mentions"] == 1


def test_occurrences_include_overlapping_matches():
    assert occurrences("aaaa", "aa") == [0, 1, 2]
    assert occurrences("abc", "d") == []


def test_exact_duplicate_lines_are_kept_once_and_counted(tmp_path):
    line = f"东方航空\t上航\t合并\t{SENTENCE}\n"
    (example,) = read_finre(write(tmp_path, line + "\n" + line))
    assert example.relations == (Relation(0, 1, "合并"),) and example.meta["duplicate_rows"] == 1


def test_crlf_and_bom_are_accepted(tmp_path):
    path = tmp_path / "train.txt"
    path.write_bytes(("\ufeff" + LINES).replace("\n", "\r\n").encode("utf-8"))
    assert [e.text for e in read_finre(path)] == [SENTENCE, AMBIGUOUS]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f"东方航空\t上航\t{SENTENCE}", r"expected 4 tab-separated columns .*found 3"),
        (f"东方航空\t国航\t合并\t{SENTENCE}", r"'国航' does not occur in the sentence"),
        (f"东方航空\t\t合并\t{SENTENCE}", r"expected non-empty head, tail and relation"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path, LINES.split("\n\n")[0] + "\n\n" + line + "\n", name="file.txt")
    with pytest.raises(DataFormatError, match=r"file\.txt:3: " + message):
        list(read_finre(path))


def test_unknown_policy_is_refused(tmp_path):
    with pytest.raises(NerkitError, match=r"offsets must be 'first' or 'nearest', got 'last'"):
        list(read_finre(write(tmp_path, LINES), offsets="last"))


@pytest.mark.parametrize("policy", ["first", "nearest"])
def test_write_then_read_gives_the_same_examples(tmp_path, policy):
    examples = list(read_finre(write(tmp_path, LINES), offsets=policy))
    assert write_finre(examples, tmp_path / "out.txt") == 2
    assert list(read_finre(tmp_path / "out.txt", offsets=policy)) == examples
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == LINES


@pytest.mark.parametrize(
    ("example", "message"),
    [
        (Example("a\tb", (Span(0, 1, E), Span(2, 3, E)), relations=(Relation(0, 1, "r"),)),
         "has a tab or a newline"),
        (Example("ab", (Span(0, 1, E),)), "has no relations"),
        (Example("abc", (Span(0, 1, E), Span(1, 2, E), Span(2, 3, E)),
                 relations=(Relation(0, 1, "r"),)), "has 1 entities outside every relation"),
    ],
)  # fmt: skip
def test_writing_what_the_format_cannot_hold_is_refused(tmp_path, example, message):
    with pytest.raises(NerkitError, match=message):
        write_finre([example], tmp_path / "out.txt")
