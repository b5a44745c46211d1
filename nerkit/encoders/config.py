"""Typed, frozen configs of the sequence encoders, one class per `kind`.

`EncoderConfig` is the discriminated union that `nerkit.models.config` embeds and
`nerkit.encoders.build_encoder` dispatches on. Unknown keys are errors.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator


class _Config(BaseModel):
    # extra="forbid": a misspelt key is an error, not a silently ignored default
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    layers on top and the CRF stay fp32). With both `freeze_embeddings` and `freeze_layers`,
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
    precision: Literal["fp32", "bf16"] = "fp32"
    frozen_cache_mb: int = Field(1024, ge=0)

    @model_validator(mode="after")
    def _check_stride(self) -> _PretrainedConfig:
        if self.stride is not None and self.stride > self.max_positions - 2:
            raise ValueError(
                f"stride {self.stride} is larger than a window's {self.max_positions - 2} "
                "sub-words (max_positions minus [CLS] and [SEP]); windows would leave gaps"
            )
        return self


class BertConfig(_PretrainedConfig):
    """BERT alone: its token states go straight to the output layer."""

    kind: Literal["bert"] = "bert"


class BertBiLSTMConfig(_PretrainedConfig):
    """BERT followed by a BiLSTM over the token states."""

    kind: Literal["bert_bilstm"] = "bert_bilstm"
    bilstm: BiLSTMConfig = BiLSTMConfig(hidden_size=128, dropout=0.1)


class BertIDCNNConfig(_PretrainedConfig):
    """BERT followed by an iterated dilated CNN over the token states."""

    kind: Literal["bert_idcnn"] = "bert_idcnn"
    idcnn: IDCNNConfig = IDCNNConfig(filters=128, num_blocks=2, dropout=0.1)


PretrainedConfig = BertConfig | BertBiLSTMConfig | BertIDCNNConfig

EncoderConfig = Annotated[
    BiLSTMConfig
    | BiGRUConfig
    | IDCNNConfig
    | TransformerConfig
    | BiLSTMAttentionConfig
    | BertConfig
    | BertBiLSTMConfig
    | BertIDCNNConfig,
    Field(discriminator="kind"),
]


def is_pretrained(config: object) -> bool:
    """Return True for the encoders that read sub-words of a pretrained model."""
    return isinstance(config, BertConfig | BertBiLSTMConfig | BertIDCNNConfig)
