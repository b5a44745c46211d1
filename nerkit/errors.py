"""Errors caused by inputs, files or configuration: the user can fix them.

Every user-facing failure is a `NerkitError`; the CLI prints it as one line
starting with ``error:`` and exits with code 2. Anything else is a bug and keeps
its traceback. Messages say what was expected, what was found, and what to do.
"""

from __future__ import annotations

from pathlib import Path


class NerkitError(Exception):
    """Base class for errors caused by inputs, files or configuration."""


class ConfigError(NerkitError):
    """A configuration value is missing, misspelt or out of range."""


class SchemeError(NerkitError):
    """A tag does not belong to the declared tagging scheme."""


class ArtifactError(NerkitError):
    """A saved model directory is missing a file or was written by an incompatible version."""


class DataFormatError(NerkitError):
    """A data file does not follow its declared format; names `file:line`."""

    def __init__(self, path: Path | str, line: int, problem: str, hint: str = "") -> None:
        self.path, self.line, self.problem, self.hint = Path(path), line, problem, hint
        message = f"{path}:{line}: {problem}"
        super().__init__(f"{message} ({hint})" if hint else message)
