"""Lexicon files: word lists, jieba's dict.txt, the compact saved form, pruning and recounting."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from nerkit.errors import DataFormatError, NerkitError
from nerkit.lexicon import NONE, NONE_ID, PAD_ID, Lexicon


def test_ids_put_padding_and_none_first():
    lexicon = Lexicon({"中国": 5, "上海": 2})
    assert (PAD_ID, NONE_ID) == (0, 1)
    assert lexicon.id("中国") == 2 and lexicon.id("上海") == 3 and lexicon.id("北京") is None
    assert lexicon.id_words() == ["<pad>", NONE, "中国", "上海"]
    assert lexicon.frequencies.tolist() == [0, 1, 5, 2]
    assert lexicon.frequency("上海") == 2 and lexicon.frequency("北京") == 0
    assert len(lexicon) == 2 and "中国" in lexicon and list(lexicon) == ["中国", "上海"]


def test_a_repeated_word_keeps_its_largest_frequency():
    assert Lexicon([("中国", 2), ("上海", 1), ("中国", 7)]).frequencies.tolist() == [0, 1, 7, 1]


@pytest.mark.parametrize("word", ["", "中 国", "a\tb", 3])
def test_unusable_words_are_refused(word):
    with pytest.raises(NerkitError, match="non-empty word without whitespace"):
        Lexicon({word: 1})


@pytest.mark.parametrize("frequency", [0, -3, 1.5, True])
def test_frequencies_must_be_positive_integers(frequency):
    with pytest.raises(NerkitError, match="frequency"):
        Lexicon({"中国": frequency})


def test_word_lists_read_with_optional_frequencies(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\ufeff中国 12\n\n上海\n#\nAT&T\t3\n", encoding="utf-8")
    lexicon = Lexicon.read_text(path)
    assert lexicon.words == ["中国", "上海", "#", "AT&T"]
    assert lexicon.frequencies.tolist()[2:] == [12, 1, 1, 3]


def test_jieba_dict_reads_word_frequency_and_tag(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("AT&T 3 nz\n中国篮协 9 nt\n上海 20\n", encoding="utf-8")
    lexicon = Lexicon.read_jieba(path)
    assert lexicon.words == ["AT&T", "中国篮协", "上海"]
    assert lexicon.frequencies.tolist()[2:] == [3, 9, 20]


@pytest.mark.parametrize(
    ("reader", "text", "message"),
    [
        ("read_jieba", "中国 3 ns\n上海\n", "dict.txt:2: expected 'word frequency"),
        ("read_text", "中国 3 ns\n", "dict.txt:1: expected a word and a frequency"),
        ("read_text", "中国 3\n上海 x\n", "dict.txt:2: expected a positive integer"),
        ("read_text", "中国 ²\n", "dict.txt:1: expected a positive integer"),
        ("read_jieba", "中国 0 ns\n", "dict.txt:1: expected a positive integer"),
    ],
)
def test_format_errors_name_file_and_line(tmp_path, reader, text, message):
    path = tmp_path / "dict.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        getattr(Lexicon, reader)(path)


def test_read_detects_the_format(tmp_path):
    (tmp_path / "dict.txt").write_text("中国 3 ns\n上海 2 ns\n", encoding="utf-8")
    (tmp_path / "words.txt").write_text("中国 3\n上海\n", encoding="utf-8")
    Lexicon({"中国": 3, "上海": 2}).save(tmp_path / "saved.lexicon")
    expected = {"dict.txt": [3, 2], "words.txt": [3, 1], "saved.lexicon": [3, 2]}
    for name, frequencies in expected.items():
        lexicon = Lexicon.read(tmp_path / name)
        assert lexicon.words == ["中国", "上海"] and lexicon.frequencies.tolist()[2:] == frequencies
    assert Lexicon.read(tmp_path / "dict.txt", format="jieba") == Lexicon.read(
        tmp_path / "dict.txt"
    )
    with pytest.raises(DataFormatError, match="expected a word and a frequency"):
        Lexicon.read(tmp_path / "dict.txt", format="words")
    with pytest.raises(NerkitError, match="found no file"):
        Lexicon.read(tmp_path / "missing.txt")


def test_a_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(NerkitError, match="found no file"):
        Lexicon.read_text(tmp_path / "nope.txt")


def test_save_load_round_trip_is_identical_and_deterministic(tmp_path):
    lexicon = Lexicon({"中国": 5, "😀a": 1, "AT&T": 3, "𠀀": 2})
    first, second = tmp_path / "a.lexicon", tmp_path / "b.lexicon"
    lexicon.save(first)
    Lexicon.load(first).save(second)
    assert Lexicon.load(first) == lexicon
    assert first.read_bytes() == second.read_bytes()


def test_loading_something_else_says_what_to_do(tmp_path):
    text = tmp_path / "words.txt"
    text.write_text("中国 3\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"Lexicon\.read_text"):
        Lexicon.load(text)
    wrong = tmp_path / "wrong.lexicon"
    wrong.write_bytes(gzip.compress("something 1\n中国\t3\n".encode()))
    with pytest.raises(DataFormatError, match="expected header"):
        Lexicon.load(wrong)


def test_prune_keeps_corpus_words_and_the_most_frequent():
    lexicon = Lexicon({"中国": 5, "篮协": 1, "上海": 50, "北京": 40, "天津": 40, "国": 2})
    corpus = [list("中国篮协"), list("无关")]
    assert lexicon.prune(keep=corpus).words == ["中国", "篮协", "国"]
    pruned = lexicon.prune(keep=corpus, most_frequent=2)
    assert pruned.words == ["中国", "篮协", "上海", "北京", "国"]  # 北京 wins the tie by order
    assert pruned.frequency("上海") == 50
    assert lexicon.prune(most_frequent=100) == lexicon
    twice = [list("中国篮协"), list("中国")]
    assert lexicon.prune(keep=twice, min_count=2).words == ["中国", "国"]


def test_recount_counts_only_matches_no_longer_match_covers():
    lexicon = Lexicon({"中国": 500, "中国篮协": 1, "篮协": 7, "国": 9, "上海": 3})
    sentences = [list("中国篮协主席"), list("中国人"), list("中国篮协")]
    counts = lexicon.recount(sentences, add=1)
    # 中国篮协 twice; 中国 once (in 中国人); 篮协 and 国 always inside a longer match
    assert counts.frequencies.tolist()[2:] == [2, 3, 1, 1, 1]
    with pytest.raises(ValueError, match="add must be >= 1"):
        lexicon.recount(sentences, add=0)


def test_frequencies_are_int64():
    assert Lexicon({"中国": 2**40}).frequencies.dtype == np.int64
