"""Pretrained Hugging Face encoders (BERT-style) under a nerkit tagger: sub-words, windows, pooling.

The ONLY nerkit module that imports `transformers`; `nerkit.encoders.build_encoder` imports it
when a `bert*` encoder is asked for, so `import nerkit` and the other models never load it.

Alignment. Every nerkit token (`nerkit.data.tokenize`) is turned into sub-words on its own, so
each sub-word belongs to exactly one token and character offsets stay those of the tokens.
With `char_positions`, a one-character token becomes ONE piece: the vocabulary entry of its
NFKC form, else ``'▁' + form`` (SentencePiece) or ``'##' + form`` (WordPiece); only when none
exists is it run through the tokenizer. A token the tokenizer maps to nothing gets [UNK], so
every token has at least one sub-word.

Windows. A sequence of n sub-words longer than a window (`max_positions` minus [CLS] and
[SEP]) runs as overlapping windows starting every `stride` sub-words, the last one moved
left to end at n. Each sub-word keeps the state from the window in which it is farthest
from a cut edge (a window edge that is also the sequence's edge cuts nothing). The same
code runs in training and inference, so gradients flow through every window.

Speed. `precision: bf16` (or `auto` on a CPU with native bfloat16) runs the transformer
under bfloat16 autocast (2-3x faster matrix products on CPUs with AVX512-BF16/AMX). When
the embeddings and the first `freeze_layers` layers are all frozen, the model is split in
two that share its modules: the frozen prefix runs in eval mode (no dropout) without
autograd, and in training its output for each window is cached by the window's pieces, so
later epochs run only the trainable layers.

Shapes: B batch, T tokens, S sub-words, W windows, L window length (+2), H hidden size.
    batch.pieces (B, S) long, batch.piece_tokens (B, S) long (owner token; -1 = padding)
    -> (B, T, H') token states, H' = `output_dim`
"""

from __future__ import annotations

import copy
import json
import logging
import math
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import transformers
from torch import Tensor, nn

from nerkit.encoders.added_pieces import add_pieces, extend_to_tokenizer
from nerkit.encoders.config import PretrainedConfig
from nerkit.errors import ConfigError
from nerkit.runtime import bf16_is_native

logger = logging.getLogger(__name__)

MARKER = "nerkit_encoder.json"  # in a saved model's encoder/: weights live in the tagger's file

__all__ = ["MARKER", "PretrainedEncoder", "SubwordTokenizer", "assign_windows", "save_files"]


def _resolve(name_or_path: str) -> str:
    """Return a local path with ~ expanded, or a hub name unchanged."""
    return str(Path(name_or_path).expanduser()) if name_or_path.startswith("~") else name_or_path


def _check_local(name_or_path: str) -> None:
    path = Path(name_or_path)
    if not path.exists() and (path.is_absolute() or name_or_path.startswith(".")):
        raise ConfigError(
            f"pretrained encoder directory {name_or_path!r} does not exist (give a directory "
            "with config.json and tokenizer files, e.g. from 'nerkit encoders fetch me5-small')"
        )


class SubwordTokenizer:
    """Token strings -> sub-word ids, one token at a time (see the module docstring).

    The pieces of every token seen are cached; a server reading open-ended text would grow
    the cache without end, so it starts afresh once it holds `cache_limit` tokens.
    """

    cache_limit = 200_000

    def __init__(self, tokenizer: Any, char_positions: bool) -> None:
        self.tokenizer, self.char_positions = tokenizer, char_positions
        self.vocab: dict[str, int] = tokenizer.get_vocab()
        self.unk_id = _special(tokenizer, "unk")
        self.cls_id = _special(tokenizer, "cls", "bos")
        self.sep_id = _special(tokenizer, "sep", "eos")
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        prefixes = ("▁", "##") if "▁" in self.vocab or _is_sentencepiece(self.vocab) else ("##",)
        self.prefixes = prefixes
        self._cache: dict[str, list[int]] = {}
        self.added = self._added_tokens()

    def _added_tokens(self) -> dict[str, int]:
        """Return the tokens added to the vocabulary (`nerkit.encoders.added_pieces`)."""
        specials = set(self.tokenizer.all_special_tokens)
        added = self.tokenizer.get_added_vocab().items()
        return {token: index for token, index in added if token not in specials}

    def add_tokens(self, tokens: Sequence[str]) -> None:
        """Make each of `tokens` one new piece of the vocabulary (never split or normalised)."""
        self.tokenizer.add_tokens(list(tokens), special_tokens=True)
        self.vocab = self.tokenizer.get_vocab()
        self.added = self._added_tokens()
        for token in tokens:
            self._cache.pop(token, None)

    @classmethod
    def load(cls, name_or_path: str | Path, char_positions: bool) -> SubwordTokenizer:
        """Return the tokenizer of a model directory (or hub name) wrapped for nerkit."""
        name_or_path = _resolve(str(name_or_path))
        _check_local(name_or_path)
        tokenizer = transformers.AutoTokenizer.from_pretrained(name_or_path)
        return cls(tokenizer, char_positions)

    def _lookup(self, char: str) -> int | None:
        form = unicodedata.normalize("NFKC", char)
        for candidate in (form, *(prefix + form for prefix in self.prefixes)):
            if candidate in self.vocab:
                return self.vocab[candidate]
        return None

    def _fill(self, tokens: Sequence[str]) -> None:
        if len(self._cache) + len(tokens) > self.cache_limit:
            self._cache.clear()
        todo: list[str] = []
        for token in dict.fromkeys(tokens):
            if token in self._cache:
                continue
            found = self.added.get(token)
            if found is None and self.char_positions and len(token) == 1:
                found = self._lookup(token)
            if found is not None:
                self._cache[token] = [found]
            else:
                todo.append(token)
        if todo:
            forms = [unicodedata.normalize("NFKC", token) for token in todo]
            encoded = self.tokenizer(forms, add_special_tokens=False)["input_ids"]
            for token, ids in zip(todo, encoded, strict=True):
                self._cache[token] = list(ids) or [self.unk_id]

    def pieces(self, token: str) -> list[int]:
        """Return the sub-word ids of one token (never empty)."""
        self._fill([token])
        return self._cache[token]

    def encode(self, tokens: Sequence[str]) -> tuple[list[int], list[int]]:
        """Return (sub-word ids, owner token index of each sub-word) of a token sequence."""
        self._fill(tokens)
        ids: list[int] = []
        owners: list[int] = []
        for index, token in enumerate(tokens):
            pieces = self._cache[token]
            ids.extend(pieces)
            owners.extend([index] * len(pieces))
        return ids, owners

    def save(self, directory: Path) -> None:
        """Write the tokenizer files into `directory`."""
        self.tokenizer.save_pretrained(str(directory))


def _special(tokenizer: Any, *names: str) -> int:
    for name in names:
        value = getattr(tokenizer, f"{name}_token_id", None)
        if value is not None:
            return int(value)
    raise ConfigError(
        f"the tokenizer defines no {' or '.join(names)} token (a BERT-style tokenizer needs "
        "[CLS]/[SEP]/[UNK] or <s>/</s>/<unk>)"
    )


def _is_sentencepiece(vocab: dict[str, int]) -> bool:
    return any(piece.startswith("▁") for piece in list(vocab)[:2000])


def assign_windows(n: int, size: int, stride: int) -> tuple[list[tuple[int, int]], list[int]]:
    """Return the windows over n sub-words and, per sub-word, the window whose state it keeps.

    Windows are ``(start, end)``, at most `size` long, starting every `stride`, the last moved
    left to end at n. A sub-word's margin in a window is its distance to the nearer edge, an
    edge at 0 or n counting as infinitely far; the window with the largest margin wins (the
    earlier one on ties).
    """
    if n <= size:
        return [(0, n)], [0] * n
    bounds: list[tuple[int, int]] = []
    start = 0
    while start + size < n:
        bounds.append((start, start + size))
        start += stride
    bounds.append((n - size, n))
    choice = []
    for i in range(n):
        margins = [
            min(i - s if s > 0 else math.inf, e - 1 - i if e < n else math.inf)
            if s <= i < e
            else -1.0
            for s, e in bounds
        ]
        choice.append(max(range(len(bounds)), key=lambda k: (margins[k], -k)))
    return bounds, choice


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report and progress bar (the missing pooler is unused)."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _load_model(name_or_path: str) -> nn.Module:
    name_or_path = _resolve(name_or_path)
    _check_local(name_or_path)
    path = Path(name_or_path)
    with _quiet_transformers():
        if (path / MARKER).is_file():  # a saved nerkit model: architecture here, weights apart
            config = transformers.AutoConfig.from_pretrained(str(path))
            model = transformers.AutoModel.from_config(config)
        else:
            model = transformers.AutoModel.from_pretrained(name_or_path, dtype=torch.float32)
    if getattr(model, "pooler", None) is not None:
        model.pooler = None  # unused by a tagger; would never get a gradient
    return model


class PretrainedEncoder(nn.Module):
    """A pretrained transformer whose sub-word states are pooled to token states (B, T, H)."""

    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = _load_model(config.name_or_path)
        # the tokenizer that turns tokens into this model's sub-words (featurize uses it too)
        self.subwords = SubwordTokenizer.load(config.name_or_path, config.char_positions)
        self.cls_id, self.sep_id = self.subwords.cls_id, self.subwords.sep_id
        self.pad_id = self.subwords.pad_id
        limit = int(getattr(self.transformer.config, "max_position_embeddings", 512))
        self.window = min(config.max_positions, limit) - 2
        self.stride = min(config.stride or max(1, self.window // 2), self.window)
        self._freeze(config)
        self._split = _split_model(self.transformer, config)
        # a saved model's tokenizer may hold pieces added in training: give them their rows
        extend_to_tokenizer(self.transformer, self.subwords.vocab, self._pieces_trainable)
        self._cache: dict[tuple[int, ...], Tensor] = {}
        self._cached_bytes = 0
        self.dropout = nn.Dropout(config.dropout)
        self.output_dim = int(self.transformer.config.hidden_size)
        self.bf16 = config.precision == "bf16" or (config.precision == "auto" and bf16_is_native())

    def _freeze(self, config: PretrainedConfig) -> None:
        if config.freeze_embeddings:  # the whole block: pieces, positions, types, LayerNorm
            block = getattr(self.transformer, "embeddings", None)
            if isinstance(block, nn.Module):
                block.requires_grad_(False)
            self.transformer.get_input_embeddings().weight.requires_grad_(False)
        layers = _layers(self.transformer)
        if config.freeze_layers > len(layers):
            raise ConfigError(
                f"freeze_layers is {config.freeze_layers} but the model has {len(layers)} layers"
            )
        for layer in list(layers)[: config.freeze_layers]:
            layer.requires_grad_(False)

    @property
    def _pieces_trainable(self) -> bool:
        """Whether added pieces can learn: not when the embeddings run in a frozen prefix."""
        return self._split is None

    def add_tokens(self, tokens: Sequence[str]) -> list[str]:
        """Add `tokens` the vocabulary lacks as one new piece each; return those added."""
        added = add_pieces(self.transformer, self.subwords, tokens, self._pieces_trainable)
        self._cache.clear()
        return added

    def train(self, mode: bool = True) -> PretrainedEncoder:
        """Set training mode; a split model's frozen prefix always stays in eval mode."""
        super().train(mode)
        if self._split is not None:
            self._split[0].eval()
        return self

    def pretrained_parameters(self) -> list[nn.Parameter]:
        """Return the trainable parameters of the pretrained transformer (own learning rate)."""
        return [p for p in self.transformer.parameters() if p.requires_grad]

    def forward(self, pieces: Tensor, piece_tokens: Tensor, mask: Tensor) -> Tensor:
        """Return token states (B, T, output_dim) from sub-words (B, S) and their owners."""
        ids, attention, gather = self.windows(pieces, piece_tokens)
        return self.forward_windows(ids, attention, gather, piece_tokens, mask)

    def forward_windows(
        self, ids: Tensor, attention: Tensor, gather: Tensor, piece_tokens: Tensor, mask: Tensor
    ) -> Tensor:
        """Return token states (B, T, output_dim) from windows built by `windows`.

        Tensor operations only, no Python over values: what a traced export would run.
        """
        states = self._window_states(ids, attention, gather)  # (B, S, H)
        tokens = _pool(states, piece_tokens, mask.size(1), self.config.subword_pooling)
        return self.dropout(tokens)

    def _subword_states(self, pieces: Tensor, piece_tokens: Tensor) -> Tensor:
        """Return the sub-word states (B, S, H) of a batch."""
        return self._window_states(*self.windows(pieces, piece_tokens))

    def windows(self, pieces: Tensor, piece_tokens: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Return window ids (W, L), their attention mask (W, L) and, per sub-word, the flat
        index (B, S) of the window position whose state it keeps (`assign_windows`)."""
        lengths = (piece_tokens >= 0).sum(dim=1).tolist()
        rows: list[list[int]] = []
        gather = torch.zeros(pieces.shape, dtype=torch.long)
        width = min(self.window, max(lengths)) + 2
        for b, n in enumerate(lengths):
            bounds, choice = assign_windows(n, self.window, self.stride)
            first_row = len(rows)
            for start, end in bounds:
                rows.append([self.cls_id, *pieces[b, start:end].tolist(), self.sep_id])
            for i, k in enumerate(choice):
                gather[b, i] = (first_row + k) * width + 1 + i - bounds[k][0]
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for r, row in enumerate(rows):
            ids[r, : len(row)] = torch.tensor(row)
            attention[r, : len(row)] = 1
        device = pieces.device
        return ids.to(device), attention.to(device), gather.to(device)

    def _window_states(self, ids: Tensor, attention: Tensor, gather: Tensor) -> Tensor:
        with torch.autocast(ids.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            if self._split is None:
                hidden = self.transformer(input_ids=ids, attention_mask=attention)
            else:
                middle = self._frozen_states(ids, attention)
                hidden = self._split[1](inputs_embeds=middle, attention_mask=attention)
        hidden = hidden.last_hidden_state.float()  # (W, L, H)
        flat = hidden.reshape(-1, hidden.size(-1))
        return flat[gather]  # (B, S, H)

    @torch.no_grad()
    def _frozen_states(self, ids: Tensor, attention: Tensor) -> Tensor:
        """Return the frozen prefix's states (W, L, H) of windows, cached in training."""
        assert self._split is not None
        lengths = attention.sum(dim=1).tolist()
        keys = [tuple(ids[r, :n].tolist()) for r, n in enumerate(lengths)]
        use_cache = self.training and self.config.frozen_cache_mb > 0
        if use_cache and all(key in self._cache for key in keys):
            rows = [self._cache[key] for key in keys]
            return nn.utils.rnn.pad_sequence(rows, batch_first=True).to(ids.device)
        states = self._split[0](input_ids=ids, attention_mask=attention).last_hidden_state
        if self.bf16:
            states = states.to(torch.bfloat16)  # the trainable layers compute in bf16 anyway
        if use_cache:
            budget = self.config.frozen_cache_mb * 2**20
            for r, (key, n) in enumerate(zip(keys, lengths, strict=True)):
                if key not in self._cache and self._cached_bytes < budget:
                    row = states[r, :n].clone()
                    self._cache[key] = row
                    self._cached_bytes += row.numel() * row.element_size()
        return states


def _layers(model: nn.Module) -> Sequence[nn.Module]:
    encoder = getattr(model, "encoder", None)
    layers = getattr(encoder, "layer", None) or getattr(encoder, "layers", None)
    return layers if layers is not None else []


class _Given(nn.Module):
    """Stands in for a model's embeddings: returns the hidden states it is given."""

    def forward(self, *args: Any, inputs_embeds: Tensor | None = None, **kwargs: Any) -> Tensor:
        assert inputs_embeds is not None
        return inputs_embeds


def _split_model(model: nn.Module, config: PretrainedConfig) -> tuple[nn.Module, nn.Module] | None:
    """Return (frozen prefix, trainable rest) sharing `model`'s modules, or None.

    Only when the embeddings and `freeze_layers` layers are frozen, some layers are trainable
    and the model has the BERT shape (`embeddings`, `encoder.layer`). The two halves are
    models of the same class with the layers swapped in; they are not registered as
    submodules, so the state dict and the parameters stay the original model's.
    """
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    embeddings = getattr(model, "embeddings", None)
    frozen = config.freeze_layers
    if not (config.freeze_embeddings and frozen and isinstance(layers, nn.ModuleList)):
        return None
    if embeddings is None or frozen >= len(layers):
        return None
    small = copy.deepcopy(model.config)
    small.num_hidden_layers = 0
    small.vocab_size = int(getattr(small, "pad_token_id", 0) or 0) + 1  # replaced below
    halves = []
    for part, stem in ((layers[:frozen], embeddings), (layers[frozen:], _Given())):
        half = transformers.AutoModel.from_config(small)
        half.embeddings, half.encoder.layer = stem, nn.ModuleList(part)
        half.pooler = None
        halves.append(half)
    return halves[0], halves[1]


def _pool(states: Tensor, piece_tokens: Tensor, num_tokens: int, how: str) -> Tensor:
    """Return (B, T, H) token states from (B, S, H) sub-word states: first or mean sub-word."""
    batch, _, hidden = states.shape
    valid = piece_tokens >= 0
    owner = torch.where(valid, piece_tokens, torch.full_like(piece_tokens, num_tokens))
    counts = torch.zeros(batch, num_tokens + 1, dtype=states.dtype, device=states.device)
    counts.scatter_add_(1, owner, valid.to(states.dtype))
    counts = counts[:, :num_tokens]
    if how == "first":
        first = (counts.cumsum(dim=1) - counts).long().clamp(max=states.size(1) - 1)
        return states.gather(1, first[..., None].expand(batch, num_tokens, hidden))
    sums = torch.zeros(batch, num_tokens + 1, hidden, dtype=states.dtype, device=states.device)
    sums.scatter_add_(1, owner[..., None].expand_as(states), states)
    return sums[:, :num_tokens] / counts.clamp(min=1.0)[..., None]


def save_files(encoder: PretrainedEncoder, directory: Path) -> None:
    """Write the transformer's config and the tokenizer (not the weights) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    encoder.transformer.config.save_pretrained(str(directory))
    encoder.subwords.save(directory)
    marker = {"weights": "../weights.safetensors", "prefix": "encoder.transformer."}
    (directory / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
