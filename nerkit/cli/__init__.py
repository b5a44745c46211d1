"""Command-line interface: parse arguments, call the library, print the result.

No training, data or model logic lives here; anything a command does can be done
from Python with the same function. One module per group of commands registers
on the shared `app`; `main` turns a `NerkitError` into one line on stderr and exit
code 2, while any other exception (a bug) keeps its traceback.
"""

from __future__ import annotations

import typer

from nerkit.cli import (  # noqa: F401  (registers the commands)
    calibration,
    data,
    encoders,
    evaluation,
    model,
    serving,
)
from nerkit.cli._app import app
from nerkit.errors import NerkitError

__all__ = ["app", "main"]


def main() -> None:
    """Run the CLI; a user error becomes one line on stderr and exit code 2."""
    try:
        app()
    except NerkitError as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
