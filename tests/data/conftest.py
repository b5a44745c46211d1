"""Fixtures of the data tests: the other tools' own files in ../shared/interop."""

from __future__ import annotations

from pathlib import Path

import pytest

INTEROP = Path(__file__).resolve().parents[2].parent / "shared" / "interop"


@pytest.fixture
def interop() -> Path:
    """Return ../shared/interop, skipping the test when the tools' files are not there."""
    if not INTEROP.is_dir():
        pytest.skip("../shared/interop is not available")
    return INTEROP
