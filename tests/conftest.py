"""Shared fixtures: a seeded generator per test, so no test depends on global RNG state."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def gen() -> torch.Generator:
    """Return a torch.Generator seeded for this test alone."""
    return torch.Generator().manual_seed(1234)


@pytest.fixture
def shared_data() -> Path:
    """Return ../shared/data, skipping the test when the datasets are not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not available")
    return SHARED_DATA
