"""Linear-chain CRF: the `CRF` module (`layer`) over pure tensor functions (`functional`).

`scripted` holds TorchScript-compatible twins of Viterbi and the marginals for ONNX export.
Both function modules are imported as modules (`from nerkit.crf import scripted`), not
re-exported here: their names (`marginals`) are the same on purpose.
"""

from __future__ import annotations

from nerkit.crf.layer import CRF

__all__ = ["CRF"]
