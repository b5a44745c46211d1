"""CLI commands: `score`, entity-level P/R/F1 of a prediction file against a gold file.

Parses arguments, calls `nerkit.evaluation.files.score_files` and prints; the library is
imported inside the command so that `nerkit --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from nerkit.cli._app import app

_MAX_CASES = 1000  # error cases in --json output; the counts always cover every case


@app.command()
def score(
    gold: Annotated[Path, typer.Argument(exists=True, help="Gold annotations.")],
    pred: Annotated[
        Path, typer.Argument(exists=True, help="Predictions: the same documents, in order.")
    ],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="Format of both files: conll, cluener, jsonl, doccano, label-studio, brat "
            "(default: detected per file).",
        ),
    ] = None,
    mode: Annotated[
        Literal["conlleval", "strict"],
        typer.Option(
            "--mode",
            help="conlleval: chunk CoNLL tags like conlleval.pl (O I-PER is a chunk); "
            "strict: keep only chunks well-formed for the scheme.",
        ),
    ] = "conlleval",
    scheme: Annotated[
        str | None,
        typer.Option("--scheme", help="Tag scheme of CoNLL files (default: detected per file)."),
    ] = None,
    errors: Annotated[
        bool, typer.Option("--errors", help="Also print the error breakdown and confusion table.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score the entities of PRED against GOLD: exact-match precision, recall, F1 per label."""
    from nerkit.evaluation.files import score_files

    result = score_files(gold, pred, format=format, mode=mode, scheme=scheme)
    if as_json:
        data = result.to_dict(max_cases=_MAX_CASES)
        if not errors:
            del data["errors"]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(f"mode: {result.mode}; documents: {result.documents}")
    typer.echo(result.report.format_table())
    if errors:
        typer.echo("")
        typer.echo(result.errors.format_table())
