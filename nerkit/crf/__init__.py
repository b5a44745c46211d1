"""Linear-chain CRF: pure tensor functions (`functional`) and the `CRF` module (`layer`)."""

from __future__ import annotations

from nerkit.crf.layer import CRF

__all__ = ["CRF"]
