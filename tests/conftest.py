"""Shared fixtures: a seeded generator per test, so no test depends on global RNG state."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the tests marked `bf16` on CPUs without native bfloat16 (nerkit refuses it there)."""
    from nerkit.runtime import bf16_is_native

    if bf16_is_native():
        return
    skip = pytest.mark.skip(reason="this CPU has no native bfloat16")
    for item in items:
        if item.get_closest_marker("bf16"):
            item.add_marker(skip)


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
