"""Typed, frozen configs of the sequence encoders, one class per `kind`.

`EncoderConfig` is the discriminated union that `nerkit.models.config` embeds and
`nerkit.encoders.build_encoder` dispatches on. Unknown keys are errors.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class _Config(BaseModel):
    # extra="forbid": a misspelt key is an error, not a silently ignored default
    model_config = ConfigDict(extra="forbid", frozen=True)


class BiLSTMConfig(_Config):
    """Bidirectional LSTM; `hidden_size` is per direction."""

    kind: Literal["bilstm"] = "bilstm"
    hidden_size: PositiveInt = 128
    num_layers: PositiveInt = 1
    dropout: float = Field(0.5, ge=0.0, lt=1.0)


class BiGRUConfig(_Config):
    """Bidirectional GRU; `hidden_size` is per direction."""

    kind: Literal["bigru"] = "bigru"
    hidden_size: PositiveInt = 128
    num_layers: PositiveInt = 1
    dropout: float = Field(0.5, ge=0.0, lt=1.0)


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


class BiLSTMAttentionConfig(_Config):
    """BiLSTM followed by one multi-head self-attention layer with a residual connection."""

    kind: Literal["bilstm_attention"] = "bilstm_attention"
    hidden_size: PositiveInt = 128
    num_layers: PositiveInt = 1
    num_heads: PositiveInt = 4
    dropout: float = Field(0.5, ge=0.0, lt=1.0)


EncoderConfig = Annotated[
    BiLSTMConfig | BiGRUConfig | IDCNNConfig | TransformerConfig | BiLSTMAttentionConfig,
    Field(discriminator="kind"),
]
