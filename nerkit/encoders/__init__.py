"""Sequence encoders: (B, T, D) features + (B, T) mask -> (B, T, H) contextual states.

`build_encoder` is the one place that dispatches on the config's `kind`. Every encoder
exposes `output_dim` (H) and keeps real positions independent of padding. The token
encoder every task builds on (features + encoder + optional top) is
`nerkit.encoders.token.TokenEncoder`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nerkit.encoders.config import (
    BertConfig,
    BiGRUConfig,
    BiLSTMAttentionConfig,
    BiLSTMConfig,
    EncoderConfig,
    IDCNNConfig,
    TransformerConfig,
    is_pretrained,
)

if TYPE_CHECKING:  # torch loads with the encoders themselves, not with their configs
    from torch import nn

__all__ = [
    "BertConfig",
    "BiGRUConfig",
    "BiLSTMAttentionConfig",
    "BiLSTMConfig",
    "EncoderConfig",
    "IDCNNConfig",
    "TransformerConfig",
    "build_encoder",
    "is_pretrained",
]


def _require_transformers() -> None:
    import importlib.util

    from nerkit.errors import ConfigError

    if importlib.util.find_spec("transformers") is None:
        raise ConfigError(
            "pretrained (bert) encoders need transformers (pip install 'nerkit[bert]')"
        )


def build_encoder(config: EncoderConfig, input_dim: int) -> nn.Module:
    """Instantiate the encoder a config describes; the one place that dispatches on kind."""
    match config:
        case BiLSTMConfig() | BiGRUConfig():
            from nerkit.encoders.recurrent import RecurrentEncoder

            return RecurrentEncoder(config, input_dim)
        case IDCNNConfig():
            from nerkit.encoders.idcnn import IDCNNEncoder

            return IDCNNEncoder(config, input_dim)
        case TransformerConfig():
            from nerkit.encoders.transformer import TransformerEncoder

            return TransformerEncoder(config, input_dim)
        case BiLSTMAttentionConfig():
            from nerkit.encoders.bilstm_attention import BiLSTMAttentionEncoder

            return BiLSTMAttentionEncoder(config, input_dim)
        case BertConfig():
            # the one place `transformers` gets imported, and only for these kinds;
            # the encoder reads sub-words (batch.pieces), not `input_dim` features
            _require_transformers()
            from nerkit.encoders.pretrained import PretrainedEncoder

            return PretrainedEncoder(config)
    raise AssertionError(f"unhandled encoder config {type(config).__name__}")
