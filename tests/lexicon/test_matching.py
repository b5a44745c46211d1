"""Lexicon matching and SoftLexicon sets, checked against brute-force enumeration of spans."""

from __future__ import annotations

import importlib.util
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerkit.data.tokenize import tokenize
from nerkit.lexicon import NONE_ID, PAD_ID, Lexicon, LexiconMatcher, collate_sets

_NO_DAACHORSE = importlib.util.find_spec("daachorse") is None
BACKENDS = [
    "python",
    pytest.param("daachorse", marks=pytest.mark.skipif(_NO_DAACHORSE, reason="no daachorse")),
]


def brute_force_matches(lexicon: Lexicon, tokens: list[str]) -> list[tuple[int, int, int]]:
    """Return every (start, end, id) whose tokens concatenate to a lexicon word, sorted."""
    return [
        (i, j, lexicon.id("".join(tokens[i:j])))
        for i in range(len(tokens))
        for j in range(i + 1, len(tokens) + 1)
        if "".join(tokens[i:j]) in lexicon
    ]


def brute_force_sets(lexicon: Lexicon, tokens: list[str], none_frequency: float = 1.0):
    """Return per token the four lists of (id, weight), written straight from the definitions."""
    matches = brute_force_matches(lexicon, tokens)
    sets = []
    for t in range(len(tokens)):
        b = [w for i, j, w in matches if i == t and j - i > 1]
        m = [w for i, j, w in matches if i < t < j - 1]
        e = [w for i, j, w in matches if j - 1 == t and j - i > 1]
        s = [w for i, j, w in matches if i == t and j - i == 1]
        groups = [group or [NONE_ID] for group in (b, m, e, s)]
        frequency = lexicon.frequencies
        z = {w: none_frequency if w == NONE_ID else frequency[w] for g in groups for w in g}
        total = sum(z[w] for group in groups for w in group)
        sets.append([[(w, z[w] / total) for w in group] for group in groups])
    return sets


MIXED = "姚明是中国篮协主席😀，iPhone15在Shanghai卖1️⃣𠀀中国"
MIXED_LEXICON = Lexicon(
    {"中国": 10, "中国篮协": 2, "篮协": 3, "主席": 4, "😀，": 1, "iPhone": 5, "Phone": 1,
     "iPhone15": 2, "15在": 1, "Shanghai卖": 1, "1️⃣𠀀": 1, "𠀀中": 1, "𠀀": 1, "姚": 1}
)  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
def test_mixed_text_in_char_mode_gives_exact_token_offsets(backend):
    tokens = [token.text for token in tokenize(MIXED, "char")]
    found = LexiconMatcher(MIXED_LEXICON, backend=backend).find(tokens)
    spelled = [("".join(tokens[i:j]), i, j) for i, j, _ in found]
    assert found == brute_force_matches(MIXED_LEXICON, tokens)
    # 😀 and 𠀀 are astral (two UTF-16 units) yet one token; the keycap 1️⃣ is three tokens
    assert spelled == [
        ("姚", 0, 1), ("中国", 3, 5), ("中国篮协", 3, 7), ("篮协", 5, 7), ("主席", 7, 9),
        ("😀，", 9, 11), ("iPhone", 11, 17), ("iPhone15", 11, 19), ("Phone", 12, 17),
        ("15在", 17, 20), ("Shanghai卖", 20, 29), ("1️⃣𠀀", 29, 33), ("𠀀", 32, 33),
        ("𠀀中", 32, 34), ("中国", 33, 35),
    ]  # fmt: skip
    assert [MIXED_LEXICON.id(text) for text, _, _ in spelled] == [w for _, _, w in found]


@pytest.mark.parametrize("backend", BACKENDS)
def test_word_mode_matches_never_cut_a_token(backend):
    tokens = [token.text for token in tokenize(MIXED, "word")]
    assert "iPhone15" in tokens and "1️⃣" in tokens and "Shanghai" in tokens
    found = LexiconMatcher(MIXED_LEXICON, backend=backend).find(tokens)
    spelled = {"".join(tokens[i:j]) for i, j, _ in found}
    assert found == brute_force_matches(MIXED_LEXICON, tokens)
    assert {"iPhone15", "Shanghai卖", "1️⃣𠀀", "😀，", "中国篮协"} <= spelled
    assert not {"iPhone", "Phone", "15在"} & spelled  # they would start or end inside a token


def test_backends_agree_on_sets():
    pytest.importorskip("daachorse")
    sentences = [list(MIXED), [t.text for t in tokenize(MIXED, "word")], [], list("中")]
    python = LexiconMatcher(MIXED_LEXICON, backend="python").batch_sets(sentences)
    rust = LexiconMatcher(MIXED_LEXICON, backend="daachorse").batch_sets(sentences)
    assert np.array_equal(python.ids, rust.ids) and np.array_equal(python.weights, rust.weights)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_pickled_matcher_finds_the_same(backend):
    matcher = LexiconMatcher(MIXED_LEXICON, backend=backend, none_frequency=0.5)
    copy = pickle.loads(pickle.dumps(matcher))
    assert copy.backend == backend and copy.lexicon == MIXED_LEXICON
    tokens = list(MIXED)
    assert copy.find(tokens) == matcher.find(tokens)
    assert np.array_equal(copy.sets(tokens).weights, matcher.sets(tokens).weights)


def test_an_empty_token_is_refused():
    with pytest.raises(ValueError, match="token 1 is an empty string"):
        LexiconMatcher(MIXED_LEXICON).find(["中", "", "国"])


def test_an_empty_lexicon_is_refused():
    with pytest.raises(Exception, match="at least one word"):
        LexiconMatcher(Lexicon({}))


ALPHABET = ["中", "国", "a", "b", "1", "😀", "𠀀", "\u20e3"]
TOKENS = [*ALPHABET, "ab", "1\u20e3", "中国"]  # a few multi-character tokens, as word mode makes


@st.composite
def lexicons_and_sentences(draw):
    """Draw a small lexicon over a tiny alphabet (so words repeat and overlap) and sentences."""
    words = draw(
        st.dictionaries(
            st.text(alphabet=ALPHABET, min_size=1, max_size=4),
            st.integers(min_value=1, max_value=50),
            min_size=1,
            max_size=12,
        )
    )
    sentences = draw(st.lists(st.lists(st.sampled_from(TOKENS), max_size=10), max_size=4))
    return Lexicon(words), sentences


@pytest.mark.parametrize("backend", BACKENDS)
@settings(deadline=None, max_examples=100)
@given(case=lexicons_and_sentences())
def test_matches_equal_brute_force_enumeration(backend, case):
    lexicon, sentences = case
    matcher = LexiconMatcher(lexicon, backend=backend)
    for tokens in sentences:
        assert matcher.find(tokens) == brute_force_matches(lexicon, tokens)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(deadline=None, max_examples=100)
@given(case=lexicons_and_sentences(), none_frequency=st.sampled_from([1.0, 0.5]))
def test_sets_equal_brute_force_enumeration(backend, case, none_frequency):
    lexicon, sentences = case
    matcher = LexiconMatcher(lexicon, backend=backend, none_frequency=none_frequency)
    for tokens in sentences:
        ids, weights = matcher.sets(tokens)
        expected = brute_force_sets(lexicon, tokens, none_frequency)
        k = max([len(group) for token in expected for group in token], default=1)
        assert ids.shape == weights.shape == (len(tokens), 4, k)
        assert ids.dtype == np.int64 and weights.dtype == np.float32
        for t, groups in enumerate(expected):
            for role, group in enumerate(groups):
                got = [(int(w), float(z)) for w, z in zip(ids[t, role], weights[t, role]) if w]
                assert [w for w, _ in got] == [w for w, _ in group]
                assert [z for _, z in got] == pytest.approx([z for _, z in group], rel=1e-6)
                assert not weights[t, role, len(group) :].any()  # padding: id 0, weight 0
                assert not ids[t, role, len(group) :].any()
        if len(tokens):
            assert weights.sum(axis=(1, 2)) == pytest.approx(np.ones(len(tokens)), rel=1e-6)


@settings(deadline=None, max_examples=100)
@given(case=lexicons_and_sentences())
def test_batched_sets_equal_one_by_one_plus_padding(case):
    lexicon, sentences = case
    matcher = LexiconMatcher(lexicon, backend="python")
    ids, weights = matcher.batch_sets(sentences)
    width = max(map(len, sentences), default=0)
    assert ids.shape[:3] == (len(sentences), width, 4)
    for b, tokens in enumerate(sentences):
        one_ids, one_weights = matcher.sets(tokens)
        k = one_ids.shape[2]
        assert np.array_equal(ids[b, : len(tokens), :, :k], one_ids)
        assert np.array_equal(weights[b, : len(tokens), :, :k], one_weights)
        assert not ids[b, len(tokens) :].any() and not weights[b, len(tokens) :].any()
        assert not ids[b, :, :, k:].any() and not weights[b, :, :, k:].any()
    collated = collate_sets([matcher.sets(tokens) for tokens in sentences])
    assert np.array_equal(collated.ids, ids) and np.array_equal(collated.weights, weights)


def test_a_token_without_words_gets_none_in_every_set_with_equal_weights():
    ids, weights = LexiconMatcher(Lexicon({"中国": 3})).sets(list("中国人"))
    assert ids[2].tolist() == [[NONE_ID]] * 4
    assert weights[2].tolist() == [[0.25]] * 4
    # 中: B = 中国 (z 3), M, E, S = NONE (z 1 each): weights 3/6 and 1/6
    assert ids[0, :, 0].tolist() == [2, NONE_ID, NONE_ID, NONE_ID]
    assert weights[0, :, 0] == pytest.approx([0.5, 1 / 6, 1 / 6, 1 / 6])


def test_empty_sentence_and_empty_batch_have_the_right_shapes():
    matcher = LexiconMatcher(Lexicon({"中国": 3}))
    assert matcher.sets([]).ids.shape == (0, 4, 1)
    assert matcher.batch_sets([]).weights.shape == (0, 0, 4, 1)
    ids, _ = matcher.batch_sets([[], list("中国")])
    assert ids.shape == (2, 2, 4, 1) and not ids[0].any() and PAD_ID == 0
