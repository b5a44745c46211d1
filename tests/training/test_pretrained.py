"""Pretrained token and bigram vectors: read, added to the vocabularies, copied, saved."""

from __future__ import annotations

import importlib.util
import json
import random
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from models.tiny import tiny_config, write_corpus
from safetensors.torch import load_file

from nerkit import api
from nerkit.encoders.vectors import read_vectors
from nerkit.errors import ConfigError, DataFormatError


def _write_vectors(path, tokens, dim, seed):
    rng = random.Random(seed)
    lines = [f"{len(tokens)} {dim}"]
    lines += [t + " " + " ".join(f"{rng.uniform(-1, 1):.5f}" for _ in range(dim)) for t in tokens]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {t: [float(v) for v in line.split(" ")[1:]] for t, line in zip(tokens, lines[1:])}


def _config(tmp_path, **features):
    config = tiny_config(write_corpus(tmp_path), epochs=1)
    config["model"]["features"].update(features)
    return config


def _vocab(model_dir):
    return json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))


def test_bigram_vectors_join_the_vocabulary_and_initialise_the_table(tmp_path):
    bigrams = _write_vectors(tmp_path / "bi.txt", ["北京", "上海", "火星"], 8, seed=1)
    chars = _write_vectors(tmp_path / "ch.txt", ["北", "京", "龘"], 24, seed=2)
    features = {
        "bigram_pretrained": str(tmp_path / "bi.txt"),
        "pretrained": str(tmp_path / "ch.txt"),
    }
    config = _config(tmp_path, **features, freeze_pretrained=True, freeze_bigram_pretrained=True)
    api.train(config, tmp_path / "model", progress=False)
    vocab = _vocab(tmp_path / "model")
    assert "火星" in vocab["bigrams"] and "龘" in vocab["tokens"]  # unseen in training
    weights = load_file(str(tmp_path / "model" / "weights.safetensors"))
    bigram_table = weights["token_encoder.embedder.bigrams.weight"].float()
    token_table = weights["token_encoder.embedder.tokens.weight"].float()
    for token, vector in bigrams.items():  # frozen: still the pretrained values after training
        row = bigram_table[vocab["bigrams"].index(token)].tolist()
        assert row == pytest.approx(vector, abs=1e-3)
    for token, vector in chars.items():
        row = token_table[vocab["tokens"].index(token)].tolist()
        assert row == pytest.approx(vector, abs=1e-3)


def test_unfrozen_bigram_vectors_train(tmp_path):
    bigrams = _write_vectors(tmp_path / "bi.txt", ["北京"], 8, seed=1)
    api.train(_config(tmp_path, bigram_pretrained=str(tmp_path / "bi.txt")), tmp_path / "m")
    vocab = _vocab(tmp_path / "m")
    weights = load_file(str(tmp_path / "m" / "weights.safetensors"))
    table = weights["token_encoder.embedder.bigrams.weight"]
    row = table[vocab["bigrams"].index("北京")].float().tolist()
    assert row != pytest.approx(bigrams["北京"], abs=1e-4)


def test_bigram_vectors_of_another_dimension_name_the_setting(tmp_path):
    _write_vectors(tmp_path / "bi.txt", ["北京"], 5, seed=1)
    with pytest.raises(DataFormatError, match="bigram_dim"):
        api.train(_config(tmp_path, bigram_pretrained=str(tmp_path / "bi.txt")), tmp_path / "m")


def test_bigram_vectors_without_bigram_features_are_a_config_error(tmp_path):
    _write_vectors(tmp_path / "bi.txt", ["北京"], 8, seed=1)
    config = _config(tmp_path, bigram_pretrained=str(tmp_path / "bi.txt"), bigram_dim=0)
    with pytest.raises(ConfigError, match="bigram_dim > 0"):
        api.train(config, tmp_path / "m", progress=False)


def test_a_missing_vector_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no file"):
        read_vectors(tmp_path / "absent.txt", 8)


def _script(name="lac_vectors"):
    path = Path(__file__).resolve().parents[2] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lac_vectors_script_writes_chars_bigrams_and_q2b_aliases(tmp_path):
    lac = _script()
    tokens = [" ", "1", "北", "京", "北京", "北京市"]
    tokens += [f"w{i:05d}" for i in range(lac.ROWS - len(tokens) - 1)] + ["OOV"]
    table = np.arange(lac.ROWS * lac.DIM, dtype="<f4").reshape(lac.ROWS, lac.DIM) / 1e6
    wheel = tmp_path / "LAC.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(lac.PREFIX + "model/word_emb", b"HEADER" + table.tobytes())
        archive.writestr(
            lac.PREFIX + "conf/word.dic", "".join(f"{i}\t{t}\n" for i, t in enumerate(tokens))
        )
        archive.writestr(lac.PREFIX + "conf/q2b.dic", "１\t1\n京\t京\n")
    chars, bigrams = tmp_path / "c.txt", tmp_path / "b.txt"
    lac.main([str(wheel), "--chars", str(chars), "--bigrams", str(bigrams), "--q2b"])
    read = read_vectors(chars, lac.DIM)
    assert set(read) == {"1", "北", "京", "１"}  # no space, no OOV, plus the full-width alias
    assert read["１"] == read["1"] == pytest.approx(table[1].tolist(), rel=1e-5)
    assert set(read_vectors(bigrams, lac.DIM)) == {"北京"}


def test_spacy_vectors_select_keeps_corpus_tokens_by_spelling_then_lower_case(tmp_path):
    spacy_vectors = _script("spacy_vectors")
    table = np.arange(3 * 4, dtype=np.float32).reshape(3, 4)
    words = np.array(["Paris", "paris", "the", "unused"])
    np.savez(tmp_path / "t.npz", words=words, rows=np.array([0, 1, 2, 2]), table=table)
    corpus = tmp_path / "train.jsonl"
    corpus.write_text('{"text": "Paris, THE zzz paris", "spans": []}\n', encoding="utf-8")
    output = tmp_path / "v.txt"
    spacy_vectors.main(["select", str(tmp_path / "t.npz"), "--corpus", str(corpus),
                        "--format", "jsonl", "--output", str(output)])  # fmt: skip
    found = read_vectors(output, 4)
    assert set(found) == {"Paris", "THE", "paris"}  # "," and "zzz" have no vector
    assert found["Paris"] == pytest.approx(table[0].tolist())  # its own spelling first
    assert found["THE"] == pytest.approx(table[2].tolist())  # else the lower-cased form

    spacy_vectors.main(["select", str(tmp_path / "t.npz"), "--corpus", str(corpus),
                        "--format", "jsonl", "--output", str(output), "--words"])  # fmt: skip
    # --words adds the lower-case alphabetic strings of the table the corpus lacks
    assert set(read_vectors(output, 4)) == {"Paris", "THE", "paris", "the", "unused"}


def test_rows_without_a_vector_take_the_scale_of_the_pretrained_ones(gen):
    from torch import nn

    from nerkit.encoders.vectors import copy_vectors
    from nerkit.vocab import Vocabulary

    vocab = Vocabulary([f"t{i}" for i in range(400)])
    embedding = nn.Embedding(len(vocab), 16, padding_idx=0)
    with torch.no_grad():
        embedding.weight.copy_(torch.randn(len(vocab), 16, generator=gen))
        embedding.weight[0] = 0
    vectors = {f"t{i}": (0.1 * torch.randn(16, generator=gen)).tolist() for i in range(200)}
    assert copy_vectors(embedding, vocab, vectors, freeze=False) == 200
    found, rest = embedding.weight[2:202].detach(), embedding.weight[202:].detach()
    assert float(rest.std()) == pytest.approx(float(found.std()), rel=1e-3)
    assert not embedding.weight[0].detach().any()
    assert embedding.weight.requires_grad
