"""Typed, frozen configs of the token encoder: input features, sequence encoders, one per `kind`.

`EncoderConfig` is the discriminated union that `nerkit.encoders.build_encoder` dispatches
on; `TokenModelConfig` is what every task's model section shares (tokenization, features,
encoder, window length), read by `nerkit.encoders.token.TokenEncoder`. Unknown keys are
errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PositiveInt, model_validator

from nerkit.config import BaseConfig as _Config


class _RecurrentConfig(_Config):
    """What every bidirectional recurrent encoder has; `hidden_size` is per direction."""

    hidden_size: PositiveInt = 128
    num_layers: PositiveInt = 1
    dropout: float = Field(0.5, ge=0.0, lt=1.0)


class BiLSTMConfig(_RecurrentConfig):
    """Bidirectional LSTM; `hidden_size` is per direction."""

    kind: Literal["bilstm"] = "bilstm"


class BiGRUConfig(_RecurrentConfig):
    """Bidirectional GRU; `hidden_size` is per direction."""

    kind: Literal["bigru"] = "bigru"


class IDCNNConfig(_Config):
    """Iterated dilated CNN (Strubell et al. 2017): one dilated block applied `num_blocks` times."""

    kind: Literal["idcnn"] = "idcnn"
    filters: PositiveInt = 128
    kernel_size: PositiveInt = 3
    dilations: tuple[PositiveInt, ...] = (1, 1, 2)
    num_blocks: PositiveInt = 4
    dropout: float = Field(0.5, ge=0.0, lt=1.0)


class TransformerConfig(_Config):
    """A small Transformer encoder trained from scratch, with relative-position attention."""

    kind: Literal["transformer"] = "transformer"
    d_model: PositiveInt = 128
    num_heads: PositiveInt = 4
    num_layers: PositiveInt = 2
    feedforward: PositiveInt = 256
    max_relative_position: PositiveInt = 32
    dropout: float = Field(0.1, ge=0.0, lt=1.0)


class BiLSTMAttentionConfig(_RecurrentConfig):
    """BiLSTM followed by one multi-head self-attention layer with a residual connection."""

    kind: Literal["bilstm_attention"] = "bilstm_attention"
    num_heads: PositiveInt = 4


class _PretrainedConfig(_Config):
    """A Hugging Face BERT-style model (a local directory or a hub name), fine-tuned.

    `max_positions` is the window size in sub-words, [CLS] and [SEP] included; longer inputs
    run in windows starting every `stride` sub-words (default: half the window) and each
    sub-word keeps the state of the window where it sits farthest from a cut edge.
    `lr` is the encoder's own learning rate (the rest of the model uses `train.lr`).
    `freeze_embeddings` freezes the embedding block (word-piece, position and type
    embeddings and their LayerNorm); `freeze_layers` the first
    N transformer layers. `char_positions` feeds every single-character token as one piece.
    `precision: bf16` runs the transformer under bfloat16 autocast (weights stay fp32; the
    layers on top and the CRF stay fp32); `auto` is bf16 where the CPU computes it natively
    (AVX512-BF16 or AMX), else fp32. With both `freeze_embeddings` and `freeze_layers`,
    the frozen prefix runs without dropout or autograd, and in training its output per window
    is cached across epochs, up to `frozen_cache_mb` megabytes (0: no cache).
    """

    name_or_path: str
    subword_pooling: Literal["first", "mean"] = "first"
    char_positions: bool = True
    max_positions: int = Field(512, ge=3)
    stride: PositiveInt | None = None
    freeze_embeddings: bool = False
    freeze_layers: int = Field(0, ge=0)
    lr: float = Field(5e-5, gt=0.0)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)  # on the pooled token states
    precision: Literal["fp32", "bf16", "auto"] = "fp32"
    frozen_cache_mb: int = Field(1024, ge=0)

    @model_validator(mode="after")
    def _check_stride(self) -> _PretrainedConfig:
        if self.stride is not None and self.stride > self.max_positions - 2:
            raise ValueError(
                f"stride {self.stride} is larger than a window's {self.max_positions - 2} "
                "sub-words (max_positions minus [CLS] and [SEP]); windows would leave gaps"
            )
        return self


TopConfig = Annotated[BiLSTMConfig | IDCNNConfig, Field(discriminator="kind")]

# the kinds that name BERT plus a top layer; read as `kind: bert` with `top` set
_TOP_ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    "bert_bilstm": ("bilstm", {"kind": "bilstm", "hidden_size": 128, "dropout": 0.1}),
    "bert_idcnn": ("idcnn", {"kind": "idcnn", "filters": 128, "num_blocks": 2, "dropout": 0.1}),
}


class BertConfig(_PretrainedConfig):
    """A BERT-style model, optionally followed by a `top` BiLSTM or IDCNN over its token states.

    `kind: bert_bilstm` (with an optional `bilstm` section) and `kind: bert_idcnn` (with
    `idcnn`) are aliases of `kind: bert` with `top` set, so older configs keep working.
    """

    kind: Literal["bert", "bert_bilstm", "bert_idcnn"] = "bert"
    top: TopConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_alias(cls, raw: Any) -> Any:
        if not isinstance(raw, dict) or raw.get("kind") not in _TOP_ALIASES:
            return raw
        section, default = _TOP_ALIASES[raw["kind"]]
        raw = dict(raw)
        top = {**default, **dict(raw.pop(section, None) or {}), "kind": default["kind"]}
        return {**raw, "kind": "bert", "top": top}


PretrainedConfig = BertConfig

EncoderConfig = Annotated[
    BiLSTMConfig
    | BiGRUConfig
    | IDCNNConfig
    | TransformerConfig
    | BiLSTMAttentionConfig
    | BertConfig,
    Field(discriminator="kind"),
]


def is_pretrained(config: object) -> bool:
    """Return True for the encoders that read sub-words of a pretrained model."""
    return isinstance(config, BertConfig)


class FeaturesConfig(_Config):
    """Input features of each token.

    `token_dim` embeds the token itself (a character in char mode, a word in word mode);
    `bigram_dim` adds character bigrams (left and right) in char mode; `char_encoder`
    adds per-word character features in word mode. `pretrained` and `bigram_pretrained`
    initialise the token and bigram tables from word2vec text files (training only: the
    saved weights carry them), adding every vector's token to the vocabulary.

    `lexicon` adds SoftLexicon word features in char mode (docs/models.md, "Lexicon
    features"): a word list (``word [frequency]`` per line), jieba's ``dict.txt`` or a saved
    nerkit lexicon, pruned at training time to the words found `lexicon_min_count` times in
    the training data plus the `lexicon_most_frequent` most frequent ones, and saved with
    the model. `lexicon_weights` weights a word by the file's frequency (``lexicon``) or by
    its count in the training data (``corpus``, as Ma et al. do). Each character gets
    4 * `lexicon_dim` features; `lexicon_vectors` (word2vec text or ``.npz``) initialises
    the word table.
    """

    token_dim: PositiveInt = 100
    bigram_dim: int = Field(0, ge=0)
    char_encoder: Literal["none", "cnn", "lstm"] = "none"
    char_dim: PositiveInt = 30
    char_hidden: PositiveInt = 50
    lowercase: bool = False
    min_count: PositiveInt = 1
    bigram_min_count: PositiveInt | None = None  # rarer bigrams share UNK; None: min_count
    pretrained: Path | None = None  # word2vec/GloVe text file for the token embeddings
    freeze_pretrained: bool = False
    # word2vec text file of two-character strings for the bigram embeddings (char mode with
    # bigram_dim equal to the vectors' dimension); its tokens join the bigram vocabulary
    bigram_pretrained: Path | None = None
    freeze_bigram_pretrained: bool = False
    lexicon: Path | None = None  # SoftLexicon words (char mode); None: no lexicon features
    lexicon_dim: PositiveInt = 50
    lexicon_vectors: Path | None = None  # word2vec text or .npz of dimension lexicon_dim
    freeze_lexicon_vectors: bool = False
    lexicon_most_frequent: int = Field(20000, ge=0)
    lexicon_min_count: PositiveInt = 1
    lexicon_weights: Literal["lexicon", "corpus"] = "lexicon"
    lexicon_dropout: float = Field(0.0, ge=0.0, lt=1.0)  # on the pooled word vectors
    dropout: float = Field(0.5, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _check_lexicon(self) -> FeaturesConfig:
        if self.lexicon is None and self.lexicon_vectors is not None:
            raise ValueError(
                "lexicon_vectors is set but lexicon is not: expected a lexicon file for the "
                "vectors' words (set model.features.lexicon, or remove lexicon_vectors)"
            )
        if self.freeze_lexicon_vectors and self.lexicon_vectors is None:
            raise ValueError(
                "freeze_lexicon_vectors is set without lexicon_vectors: it would freeze a "
                "random table (set model.features.lexicon_vectors, or remove the flag)"
            )
        return self


class TokenModelConfig(_Config):
    """What every task's model section shares: how text becomes (B, T, H) token states.

    `max_length` is the window length in tokens: longer training sentences are cut into
    pieces of this length, and longer texts are predicted in overlapping windows of it.
    """

    tokenization: Literal["char", "word"] = "char"
    features: FeaturesConfig = FeaturesConfig()
    encoder: EncoderConfig = BiLSTMConfig()
    max_length: PositiveInt = 200

    @model_validator(mode="after")
    def _check_lexicon_tokenization(self) -> TokenModelConfig:
        if self.features.lexicon is not None and self.tokenization != "char":
            raise ValueError(
                f"lexicon features need tokenization 'char', found {self.tokenization!r} "
                "(SoftLexicon sets are per character; set model.tokenization: char or remove "
                "model.features.lexicon)"
            )
        return self
