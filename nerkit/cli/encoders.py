"""CLI commands: nerkit encoders ... (filled in by its owner)."""

from __future__ import annotations

from nerkit.cli._app import app  # noqa: F401
