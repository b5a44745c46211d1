"""Command-line interface: parse arguments, call the library, print the result.

No training, data or model logic lives here; anything a command does can be done
from Python with the same function. One module per group of commands registers
on the shared `app`; `main` turns a `NerkitError` into one line on stderr and exit
code 2, while any other exception (a bug) keeps its traceback.
"""

from __future__ import annotations

import logging
import os

import typer

from nerkit.cli import (  # noqa: F401  (registers the commands)
    calibration,
    data,
    encoders,
    evaluation,
    model,
    pipeline,
    serving,
)
from nerkit.cli._app import app
from nerkit.errors import NerkitError

__all__ = ["app", "main"]


def _os_message(error: OSError) -> str:
    where = error.filename if error.filename is not None else ""
    reason = error.strerror or str(error)
    return f"{where}: {reason}" if where else reason


class _Warning(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _show_warnings() -> None:
    """Print the library's warnings (label mismatches, unaligned spans) as `warning: ...`."""
    handler = logging.StreamHandler()
    handler.setFormatter(_Warning())
    handler.setLevel(logging.WARNING)
    library = logging.getLogger("nerkit")
    library.addHandler(handler)
    library.setLevel(logging.WARNING)


def main() -> None:
    """Run the CLI; a user error becomes one line on stderr and exit code 2.

    User errors are `NerkitError`s, and the environment's own refusals (a file that cannot be
    read or written, a disk that is full: `OSError`) and undecodable input
    (`UnicodeDecodeError`) are shown the same way; anything else is a bug and keeps its
    traceback. OpenMP threads wait passively: spinning threads slow a loaded machine ~10x.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is first imported
    _show_warnings()
    try:
        app()
    except NerkitError as error:
        # one line, whatever the message holds (a parser's multi-line report, say)
        typer.echo(f"error: {' '.join(str(error).split())}", err=True)
        raise SystemExit(2) from None
    except OSError as error:
        typer.echo(f"error: {_os_message(error)}", err=True)
        raise SystemExit(2) from None
    except UnicodeDecodeError as error:
        typer.echo(f"error: expected UTF-8 input: {error.reason} at byte {error.start}", err=True)
        raise SystemExit(2) from None
