"""SoftLexiconEmbedding: shapes, the pooling definition, gradients, batching, save -> load."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from nerkit.encoders.lexicon import SoftLexiconEmbedding, read_word_vectors, save_word_vectors
from nerkit.errors import ConfigError, DataFormatError
from nerkit.lexicon import Lexicon, LexiconMatcher

LEXICON = Lexicon({"中国": 10, "中国篮协": 2, "篮协": 3, "主席": 4, "中": 6, "国": 1, "上海": 9})
SENTENCES = [list("姚明是中国篮协主席"), list("他出生于上海"), list("中国")]


def tensors(sets):
    return torch.from_numpy(sets.ids), torch.from_numpy(sets.weights)


def test_output_is_the_weighted_sum_per_set_concatenated(gen):
    module = SoftLexiconEmbedding(len(LEXICON) + 2, 3, scale=4.0)
    ids, weights = tensors(LexiconMatcher(LEXICON).batch_sets(SENTENCES))
    output = module(ids, weights)
    assert output.shape == (3, 9, 12) and module.output_dim == 12
    table = module.embedding.weight
    b, t = 0, 3  # 中 of 中国篮协: B = 中国, 中国篮协; S = 中
    for role in range(4):
        expected = sum(float(w) * table[i] for i, w in zip(ids[b, t, role], weights[b, t, role]))
        assert torch.allclose(output[b, t, 3 * role : 3 * role + 3], 4.0 * expected, atol=1e-6)
    assert not output[1, 6:].any() and not output[2, 2:].any()  # padding rows are zero


def test_gradient_reaches_the_table_but_not_padding():
    module = SoftLexiconEmbedding(len(LEXICON) + 2, 4)
    ids, weights = tensors(LexiconMatcher(LEXICON).batch_sets(SENTENCES))
    module(ids, weights).pow(2).sum().backward()
    grad = module.embedding.weight.grad
    assert grad is not None and grad[1:].abs().sum() > 0
    assert not grad[0].any()  # the padding row
    used = torch.unique(ids)
    assert (grad[used[used > 0]].abs().sum(dim=1) > 0).all()


def test_frozen_table_gets_no_gradient():
    module = SoftLexiconEmbedding(len(LEXICON) + 2, 4, freeze=True)
    assert not any(p.requires_grad for p in module.parameters())


def test_batched_equals_one_by_one():
    module = SoftLexiconEmbedding(len(LEXICON) + 2, 5).eval()
    matcher = LexiconMatcher(LEXICON)
    batched = module(*tensors(matcher.batch_sets(SENTENCES)))
    for b, tokens in enumerate(SENTENCES):
        alone = module(*tensors(matcher.batch_sets([tokens])))
        assert torch.allclose(batched[b, : len(tokens)], alone[0], atol=1e-6)


def test_state_dict_round_trip_gives_identical_outputs(tmp_path):
    module = SoftLexiconEmbedding(len(LEXICON) + 2, 5, dropout=0.3).eval()
    torch.save(module.state_dict(), tmp_path / "weights.pt")
    loaded = SoftLexiconEmbedding(len(LEXICON) + 2, 5, dropout=0.3).eval()
    loaded.load_state_dict(torch.load(tmp_path / "weights.pt", weights_only=True))
    inputs = tensors(LexiconMatcher(LEXICON).batch_sets(SENTENCES))
    assert torch.equal(module(*inputs), loaded(*inputs))


@pytest.mark.parametrize("shape", [(0, 0, 4, 1), (2, 0, 4, 1), (1, 3, 4, 1)])
def test_empty_and_tiny_inputs_keep_their_shape(shape):
    module = SoftLexiconEmbedding(len(LEXICON) + 2, 3)
    output = module(torch.zeros(shape, dtype=torch.long), torch.zeros(shape))
    assert output.shape == (shape[0], shape[1], 12) and not output.any()


# the tracer's warnings are about the shape checks of forward, true for every input here
@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning", "ignore::DeprecationWarning")
def test_exports_to_onnx_with_dynamic_batch_length_and_k(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    module = SoftLexiconEmbedding(len(LEXICON) + 2, 3).eval()
    matcher = LexiconMatcher(LEXICON)
    axes = {0: "batch", 1: "length", 3: "k"}
    torch.onnx.export(
        module, tensors(matcher.batch_sets(SENTENCES[2:])), str(tmp_path / "m.onnx"),
        input_names=["ids", "weights"], output_names=["features"],
        dynamic_axes={"ids": axes, "weights": axes}, opset_version=17, dynamo=False,
    )  # fmt: skip
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    ids, weights = tensors(matcher.batch_sets(SENTENCES))
    (output,) = session.run(None, {"ids": ids.numpy(), "weights": weights.numpy()})
    assert np.allclose(output, module(ids, weights).detach().numpy(), atol=1e-6)


def test_mismatched_inputs_are_refused():
    module = SoftLexiconEmbedding(len(LEXICON) + 2, 2)
    with pytest.raises(ValueError, match=r"\(B, T, 4, K\)"):
        module(torch.zeros(1, 2, 4, 3, dtype=torch.long), torch.zeros(1, 2, 4, 2))
    with pytest.raises(ValueError, match="num_words >= 2"):
        SoftLexiconEmbedding(1, 2)


def write_word2vec(path, vectors, header=True):
    lines = [f"{len(vectors)} {len(next(iter(vectors.values())))}"] if header else []
    lines += [w + " " + " ".join(str(v) for v in vec) for w, vec in vectors.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_word2vec_vectors_initialise_their_rows(tmp_path):
    vectors = {"中国": [1.0, 2.0], "上海": [-1.0, 0.5], "无关": [9.0, 9.0], "<pad>": [5.0, 5.0]}
    write_word2vec(tmp_path / "vectors.txt", vectors)
    read = read_word_vectors(tmp_path / "vectors.txt", dim=2, keep=set(LEXICON.id_words()))
    assert set(read) == {"中国", "上海", "<pad>"}
    module = SoftLexiconEmbedding(len(LEXICON) + 2, 2)
    assert module.load_vectors(LEXICON.id_words(), read) == 2  # the padding row is never written
    table = module.embedding.weight
    assert table[LEXICON.id("中国")].tolist() == [1.0, 2.0]
    assert table[LEXICON.id("上海")].tolist() == [-1.0, 0.5]
    assert not table[0].any()


def test_gzip_text_and_float16_npz_read_the_same(tmp_path):
    vectors = {"中国": [0.25, -2.0, 1.5], "𠀀中": [0.125, 0.0, 3.0]}
    write_word2vec(tmp_path / "v.txt", vectors, header=False)
    (tmp_path / "v.txt.gz").write_bytes(gzip.compress((tmp_path / "v.txt").read_bytes()))
    text = read_word_vectors(tmp_path / "v.txt.gz")
    save_word_vectors(tmp_path / "v.npz", text)
    compact = read_word_vectors(tmp_path / "v.npz", dim=3)
    assert list(compact) == list(text) == list(vectors)
    for word, vector in vectors.items():
        assert compact[word].dtype == np.float32
        assert compact[word].tolist() == text[word].tolist() == vector  # exact in float16


def test_vector_errors_say_what_to_do(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("中国 1 2\n上海 1\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"v\.txt:2: expected a word and 2 numbers"):
        read_word_vectors(path)
    path.write_text("中国 1 x\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="not a number"):
        read_word_vectors(path)
    with pytest.raises(ConfigError, match="found no"):
        read_word_vectors(tmp_path / "missing.txt")
    bad = tmp_path / "bad.npz"
    np.savez(bad, other=np.zeros(2))
    with pytest.raises(DataFormatError, match="save_word_vectors"):
        read_word_vectors(bad)
    module = SoftLexiconEmbedding(len(LEXICON) + 2, 2)
    with pytest.raises(ConfigError, match="expected dimension 2, found 3"):
        module.load_vectors(LEXICON.id_words(), {"中国": np.zeros(3)})
