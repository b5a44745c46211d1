"""The relation/attribute formats through the one dispatch point: detection, read, write, stats."""

from __future__ import annotations

from nerkit.data.formats import detect_format, read, write
from nerkit.data.stats import compute_stats
from nerkit.types import Attribute, Example, Span

RE_CSV = (
    "sentence,relation,head,head_offset,tail,tail_offset\n"
    "《岳父也是爹》是王军执导的电视剧,导演,岳父也是爹,1,王军,8\n"
)


def test_deepke_files_are_detected_and_read_through_the_dispatch(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(RE_CSV, encoding="utf-8")
    assert detect_format(path) == "deepke-re"
    (example,) = read(path, "deepke-re")
    head, tail = (example.spans[r] for r in (example.relations[0].head, example.relations[0].tail))
    assert (example.mention(head), example.mention(tail)) == ("岳父也是爹", "王军")
    stats = compute_stats([example])
    assert stats.relations == 1 and stats.relations_per_label == {"导演": 1}


def test_finre_lines_are_detected_and_written_back(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("东方证券\t天风证券\tunknown\t东方证券和天风证券发布公告\n", encoding="utf-8")
    assert detect_format(path) == "finre"
    examples = list(read(path, "finre"))
    write(examples, tmp_path / "again.txt", "finre")
    assert list(read(tmp_path / "again.txt", "finre")) == examples


def test_stats_count_attributes_by_name():
    example = Example(
        "张三身高180厘米",
        spans=(Span(0, 2, "PER"),),
        attributes=(Attribute(0, "身高", 4, 7),),
    )
    stats = compute_stats([example, Example("空", relations=())])
    assert stats.attributes == 1 and stats.attributes_per_name == {"身高": 1}
    assert stats.relations == 0
