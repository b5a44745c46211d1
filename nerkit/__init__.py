"""nerkit: named entity recognition and information extraction for Chinese and English.

Nothing heavy is imported here: torch, transformers and the web stack load when
the feature that needs them is used.
"""

from __future__ import annotations

from nerkit.errors import NerkitError
from nerkit.types import Entity, Example, Span

__version__ = "0.1.0"

__all__ = ["Entity", "Example", "NerkitError", "Span", "__version__"]
