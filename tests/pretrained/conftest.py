"""Fixtures: a tiny random BERT directory, written once per test session (nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("transformers")

from pretrained.tiny_bert import write_tiny_bert


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a directory holding a 2-layer, hidden-32 BERT and its WordPiece tokenizer."""
    return write_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))
