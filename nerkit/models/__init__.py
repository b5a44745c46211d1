"""Taggers: the typed config, features and batches, embeddings, heads and the tagger module."""

from __future__ import annotations

from nerkit.models.config import Config, ModelConfig, load_config
from nerkit.models.features import Batch, Instance, Vocabs, build_vocabs, collate, featurize
from nerkit.models.tagger import Tagger

__all__ = [
    "Batch",
    "Config",
    "Instance",
    "ModelConfig",
    "Tagger",
    "Vocabs",
    "build_vocabs",
    "collate",
    "featurize",
    "load_config",
]
