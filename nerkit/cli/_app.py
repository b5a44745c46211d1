"""The typer application object that every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="nerkit",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Named entity recognition for Chinese and English: train, evaluate, predict, convert.",
)
